/**
 * Virtual time for the tick benchmark: the real use case and adapters run on real SDK clients,
 * but every wait (an AWS call's latency in the fakes, the pacer's turn, a retry's backoff) is a
 * sleep on this clock, which jumps straight to the next wake-up once the program has nothing else
 * to do. A tick of 1,000 services that takes 20 simulated seconds runs in the time its CPU takes.
 *
 * "Nothing else to do" is seen from outside: after a macrotask turn, no new sleep began and no
 * fake call started for two turns in a row (everything the program does is answered in-process,
 * so a quiet event loop means every task waits on this clock).
 */
export class VirtualTime {
  #now: number;
  #seq = 0;
  #timers: { at: number; seq: number; resolve: () => void }[] = [];
  /** Bumped by every sleep and every fake call: the scheduler's sign of life. */
  #activity = 0;

  constructor(start: number) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  readonly sleep = (ms: number): Promise<void> => {
    this.#activity += 1;
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#timers.push({ at: this.#now + ms, seq: this.#seq++, resolve });
    });
  };

  /** Moves the clock forward to `at` between runs (nothing may be sleeping). */
  advanceTo(at: number): void {
    if (this.#timers.length > 0) throw new Error('virtual time: cannot jump while something sleeps');
    this.#now = Math.max(this.#now, at);
  }

  /** Marks work that does not sleep (a fake answering at once). */
  touch(): void {
    this.#activity += 1;
  }

  /** Runs `main` to completion on this clock. */
  async run<T>(main: () => Promise<T>): Promise<T> {
    let settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    main().then(
      (value) => {
        settled = { ok: true, value };
      },
      (error: unknown) => {
        settled = { ok: false, error };
      },
    );
    let quiet = 0;
    let seen = -1;
    let stalls = 0;
    while (!settled) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) break;
      if (this.#activity !== seen) {
        seen = this.#activity;
        quiet = 0;
        continue;
      }
      if (++quiet < 2) continue;
      if (this.#timers.length === 0) {
        if (++stalls > 10_000) throw new Error('virtual time: the program waits on something that is not a virtual sleep');
        continue;
      }
      stalls = 0;
      this.#advance();
    }
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  /** Wakes every sleeper due at the earliest wake-up time, in the order they slept. */
  #advance(): void {
    const at = Math.min(...this.#timers.map((t) => t.at));
    const due = this.#timers.filter((t) => t.at === at).sort((a, b) => a.seq - b.seq);
    this.#timers = this.#timers.filter((t) => t.at !== at);
    this.#now = at;
    for (const timer of due) timer.resolve();
  }
}
