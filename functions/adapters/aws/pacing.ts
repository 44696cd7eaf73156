/**
 * Pacing instead of hoping: client-side token buckets that keep an invocation's calls to an AWS
 * API inside that API's documented rate, so that throttling is rare rather than the way the rate
 * is found. The SDK's retry strategy still retries the throttling that remains (another
 * invocation, another tool in the account).
 *
 * A bucket holds up to `burst` tokens and gains `perSecond` a second; a call takes its tokens, and
 * waits first when there are too few. Tokens are reserved in the order calls ask (a bucket may go
 * into debt), so each waiter sleeps once, for exactly its turn, and no caller starves.
 *
 * The AWS figures (defaults of `AwsApiRates`):
 *  - Route 53, "Throttling for Amazon Route 53 API requests" (Route 53 developer guide): per
 *    account, one request bucket of 50 refilled at 10 a second for all operations together (and
 *    the same per operation for ListResourceRecordSets and ChangeResourceRecordSets), and a
 *    separate change-throughput bucket counting record changes. The change-throughput figures were
 *    not in the copy of that page available when this was written: 1,000 changes refilled at 100 a
 *    second is steer53's assumption (each Change element counted once), configurable.
 *  - CloudWatch, "CloudWatch service quotas": GetMetricData 50 transactions a second and
 *    DescribeAlarms 9 a second, per account and region.
 */
import { Steer53Error } from '../../core/errors.js';

export interface Rate {
  /** Tokens gained a second (the sustained rate). */
  readonly perSecond: number;
  /** Most tokens held (the burst). */
  readonly burst: number;
}

export class TokenBucket {
  readonly rate: Rate;
  #tokens: number;
  #at: number;

  constructor(rate: Rate, now: number) {
    if (!(rate.perSecond > 0 && rate.burst >= 1)) throw new Steer53Error(`a token bucket needs perSecond > 0 and burst ≥ 1, got ${JSON.stringify(rate)}`);
    this.rate = rate;
    this.#tokens = rate.burst;
    this.#at = now;
  }

  /** Takes `tokens` at `now`; returns how long the taker must wait before its call (0: at once). */
  reserve(tokens: number, now: number): number {
    this.#refill(now);
    this.#tokens -= tokens;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.rate.perSecond) * 1000);
  }

  /** How long a call of `tokens` would wait if it asked now, without taking them. */
  waitFor(tokens: number, now: number): number {
    this.#refill(now);
    const left = this.#tokens - tokens;
    return left >= 0 ? 0 : Math.ceil((-left / this.rate.perSecond) * 1000);
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.rate.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate.perSecond);
      this.#at = now;
    }
  }
}

/** The rates an invocation paces its calls to. */
export interface ApiRates {
  readonly route53: {
    /** Requests of every Route 53 operation together. */
    readonly requests: Rate;
    /** Record changes (Change elements) of ChangeResourceRecordSets. */
    readonly changes: Rate;
  };
  /** Per region and account: CloudWatch quotas are regional. */
  readonly cloudWatch: {
    readonly getMetricData: Rate;
    readonly describeAlarms: Rate;
  };
}

/** The account's whole budget, as AWS documents it (see the top of this file). */
export const AwsApiRates: ApiRates = {
  route53: { requests: { perSecond: 10, burst: 50 }, changes: { perSecond: 100, burst: 1000 } },
  cloudWatch: { getMetricData: { perSecond: 50, burst: 50 }, describeAlarms: { perSecond: 9, burst: 9 } },
};

/** A share of every rate (each burst at least one token): what one of several concurrent invocations may use. */
export function shareOf(rates: ApiRates, fraction: number): ApiRates {
  const part = (rate: Rate): Rate => ({ perSecond: rate.perSecond * fraction, burst: Math.max(1, rate.burst * fraction) });
  return {
    route53: { requests: part(rates.route53.requests), changes: part(rates.route53.changes) },
    cloudWatch: { getMetricData: part(rates.cloudWatch.getMetricData), describeAlarms: part(rates.cloudWatch.describeAlarms) },
  };
}

/** Pacing would wait past the invocation's deadline: the call is not made. */
export class RateBudgetExhaustedError extends Steer53Error {
  readonly operation: string;
  readonly waitMs: number;
  /** Like a throttling error: the next invocation may get through. */
  readonly retryable = true;

  constructor(operation: string, waitMs: number) {
    super(`${operation} would wait ${waitMs} ms for its turn under the paced rate, past this invocation's deadline: not called`);
    this.name = 'RateBudgetExhaustedError';
    this.operation = operation;
    this.waitMs = waitMs;
  }
}

export interface PacerClock {
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** When the invocation will be stopped (epoch ms), or undefined: no deadline. */
  readonly deadline?: () => number | undefined;
  /** Room left before the deadline for the call itself. @default 3000 */
  readonly marginMs?: number;
}

/** What one call takes: tokens from each bucket it counts against. */
export type PacedCost = readonly { readonly bucket: TokenBucket; readonly tokens: number }[];

/** Waits for a call's turn in all its buckets, shared by every call of an invocation. */
export class Pacer {
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #clock: PacerClock;
  /** Calls that had to wait, and how long in all, for the logs and the benchmark. */
  waits = 0;
  waitedMs = 0;

  constructor(clock: PacerClock = {}) {
    this.#clock = clock;
    this.#now = clock.now ?? Date.now;
    this.#sleep = clock.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  bucket(rate: Rate): TokenBucket {
    return new TokenBucket(rate, this.#now());
  }

  async take(operation: string, cost: PacedCost): Promise<void> {
    const now = this.#now();
    const wait = Math.max(0, ...cost.map(({ bucket, tokens }) => bucket.waitFor(tokens, now)));
    const deadline = this.#clock.deadline?.();
    if (wait > 0 && deadline !== undefined && now + wait + (this.#clock.marginMs ?? 3000) > deadline) throw new RateBudgetExhaustedError(operation, wait);
    for (const { bucket, tokens } of cost) bucket.reserve(tokens, now);
    if (wait > 0) {
      this.waits += 1;
      this.waitedMs += wait;
      await this.#sleep(wait);
    }
  }
}

/**
 * Reads rates written as JSON (the construct passes each function its share in
 * `STEER53_API_RATES`). Every rate must be there, each with a positive `perSecond` and a `burst`
 * of at least 1; the problems are returned with their paths.
 */
export function parseApiRates(text: string): { ok: true; value: ApiRates } | { ok: false; problems: { path: string; message: string }[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ path: '(root)', message: `is not JSON: ${(error as Error).message}` }] };
  }
  const problems: { path: string; message: string }[] = [];
  for (const path of ['route53.requests', 'route53.changes', 'cloudWatch.getMetricData', 'cloudWatch.describeAlarms']) {
    const [api, name] = path.split('.') as [string, string];
    const r = (raw as Record<string, Record<string, Partial<Rate>> | undefined> | null)?.[api]?.[name];
    if (!(typeof r?.perSecond === 'number' && r.perSecond > 0)) problems.push({ path: `${path}.perSecond`, message: 'must be a number above 0' });
    if (!(typeof r?.burst === 'number' && r.burst >= 1)) problems.push({ path: `${path}.burst`, message: 'must be a number of at least 1' });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: raw as ApiRates };
}
