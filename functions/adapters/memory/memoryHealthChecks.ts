/**
 * Health check statuses in memory: the test (or the simulator) sets what each health check says,
 * every read is logged, and reads can be made to fail.
 */
import type { HealthCheckState, HealthCheckStatus } from '../../ports/healthChecks.js';

export class InMemoryHealthChecks implements HealthCheckStatus {
  readonly #states = new Map<string, HealthCheckState>();
  readonly #reads: string[] = [];
  #failures: Error[] = [];

  /** What the health check says from now on; undefined: no verdict yet (no checker has reported). */
  set(id: string, state: HealthCheckState | undefined): void {
    if (state === undefined) this.#states.delete(id);
    else this.#states.set(id, state);
  }

  /** The next reads throw these, one each. */
  failReads(...errors: Error[]): void {
    this.#failures.push(...errors);
  }

  /** The id of every read, in order. */
  get reads(): readonly string[] {
    return this.#reads;
  }

  async statusOf(id: string): Promise<HealthCheckState | undefined> {
    this.#reads.push(id);
    const failure = this.#failures.shift();
    if (failure) throw failure;
    return this.#states.get(id);
  }
}
