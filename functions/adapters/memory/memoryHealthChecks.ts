/**
 * Health check statuses in memory: the test (or the simulator) sets what each health check says,
 * every read is logged, and reads can be made to fail.
 */
import type { HealthCheckState, HealthCheckStatus } from '../../ports/healthChecks.js';

export class InMemoryHealthChecks implements HealthCheckStatus {
  readonly #states = new Map<string, HealthCheckState>();
  readonly #reads: (readonly string[])[] = [];
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

  /** The ids of every read, in order. */
  get reads(): readonly (readonly string[])[] {
    return this.#reads;
  }

  async statusOf(ids: readonly string[]): Promise<ReadonlyMap<string, HealthCheckState>> {
    this.#reads.push([...ids]);
    const failure = this.#failures.shift();
    if (failure) throw failure;
    return new Map(ids.flatMap((id) => (this.#states.has(id) ? [[id, this.#states.get(id)!] as const] : [])));
  }
}
