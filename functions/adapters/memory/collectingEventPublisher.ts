/** An event publisher that keeps every event (and can be made to fail). */
import type { ControllerEvent } from '../../events/controllerEvents.js';
import type { EventPublisher } from '../../ports/eventPublisher.js';

export class CollectingEventPublisher implements EventPublisher {
  readonly events: ControllerEvent[] = [];
  #failure: Error | undefined;

  failWith(error: Error | undefined): void {
    this.#failure = error;
  }

  async publish(events: readonly ControllerEvent[]): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.events.push(...events);
  }
}
