/**
 * Retry with exponential backoff and full jitter (sleep a random time between 0 and
 * min(cap, base × 2^attempt)), the scheme AWS recommends for throttled control-plane APIs: it
 * spreads retries of many callers instead of having them collide again. Sleep and randomness
 * are injected, so tests run without real waits.
 */
export interface BackoffOptions {
  /** Total attempts including the first. @default 6 */
  readonly maxAttempts?: number;
  /** @default 200 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOutcome<T> {
  readonly value: T;
  readonly attempts: number;
}

/** Thrown by `withBackoff` when the retry budget is spent; carries the last error. */
export class RetriesExhausted extends Error {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`gave up after ${attempts} attempts`, { cause });
    this.name = 'RetriesExhausted';
    this.attempts = attempts;
  }
}

export async function withBackoff<T>(call: () => Promise<T>, isRetryable: (error: unknown) => boolean, options: BackoffOptions = {}): Promise<RetryOutcome<T>> {
  const maxAttempts = options.maxAttempts ?? 6;
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { value: await call(), attempts: attempt };
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhausted(attempt, error);
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
    }
  }
}
