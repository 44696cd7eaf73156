/** A notifier that keeps every notice (and can be made to fail, like an SNS outage). */
import type { Notice, Notifier } from '../../ports/notifier.js';

export class CollectingNotifier implements Notifier {
  readonly notices: Notice[] = [];
  #failure: Error | undefined;

  /** Every `notify` throws this until `failWith(undefined)`. */
  failWith(error: Error | undefined): void {
    this.#failure = error;
  }

  async notify(notice: Notice): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.notices.push(notice);
  }
}
