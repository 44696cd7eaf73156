/**
 * Health check statuses in memory: the test (or the simulator) sets what each health check says
 * and when each of its checkers last saw it fail, every read is logged, and reads can be made to fail.
 */
import type { HealthCheckState, HealthCheckStatus } from '../../ports/healthChecks.js';

export class InMemoryHealthChecks implements HealthCheckStatus {
  readonly #states = new Map<string, HealthCheckState>();
  readonly #lastFailures = new Map<string, readonly number[]>();
  readonly #failureReads: string[] = [];
  #checkerFailures: Error[] = [];
  readonly #reads: string[] = [];
  #failures: Error[] = [];

  /** What the health check says from now on; undefined: no verdict yet (no checker has reported). */
  set(id: string, state: HealthCheckState | undefined): void {
    if (state === undefined) this.#states.delete(id);
    else this.#states.set(id, state);
  }

  /** Each checker's last failed check (epoch ms), for `checkersFailedSince`; none set: no per-checker failures (a calculated check). */
  setLastFailures(id: string, times: readonly number[] | undefined): void {
    if (times === undefined) this.#lastFailures.delete(id);
    else this.#lastFailures.set(id, times);
  }

  /** The next reads throw these, one each. */
  failReads(...errors: Error[]): void {
    this.#failures.push(...errors);
  }

  /** The next reads of checkers' failures throw these, one each. */
  failCheckerReads(...errors: Error[]): void {
    this.#checkerFailures.push(...errors);
  }

  /** The id of every read of checkers' failures, in order. */
  get failureReads(): readonly string[] {
    return this.#failureReads;
  }

  /** The id of every status read, in order. */
  get reads(): readonly string[] {
    return this.#reads;
  }

  async statusOf(id: string): Promise<HealthCheckState | undefined> {
    this.#reads.push(id);
    const failure = this.#failures.shift();
    if (failure) throw failure;
    return this.#states.get(id);
  }

  async checkersFailedSince(id: string, since: number): Promise<number | undefined> {
    this.#failureReads.push(id);
    const failure = this.#checkerFailures.shift();
    if (failure) throw failure;
    return this.#lastFailures.get(id)?.filter((t) => t >= since).length;
  }
}
