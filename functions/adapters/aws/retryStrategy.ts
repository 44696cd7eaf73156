/**
 * How steer53's AWS clients retry: the SDK's own retry middleware does the loop, classifies each
 * error (`Throttling` and Route 53's `PriorRequestNotComplete` are THROTTLING errors in
 * @smithy/core's service-error-classification, 5xx and socket errors TRANSIENT) and sleeps; this
 * strategy only decides whether one more attempt is worth it and how long to wait first.
 *
 * Why not the SDK's StandardRetryStrategy as it comes: its throttling backoff starts at 1 s and
 * doubles up to 20 s, so six attempts can wait 31 s, longer than a handler's timeout, and it knows
 * nothing of the invocation's deadline. Why not a subclass of it: the class ships in
 * `@smithy/core/retry`, whose entry module pulls the whole retry middleware along, 17 KB more in
 * every function bundle, and the Lambda runtime's own SDK is not guaranteed to export it. The
 * `RetryStrategyV2` interface is the SDK's documented extension point: "if a user-implemented
 * retry token contains a delay, the default Smithy retry middleware will still honor it".
 */
import type { Route53ClientConfig } from '@aws-sdk/client-route-53';
import { Steer53Error } from '../../core/errors.js';

/** The SDK's retry-strategy interface, as the client config types it. */
type RetryStrategyV2 = Extract<NonNullable<Route53ClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** Full jitter: the n-th retry waits a random time in [0, min(maxDelayMs, baseDelayMs × 2^(n−1))). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Route 53: throttled per account (a bucket of 50 requests refilled at 10 a second, and one of
 * record changes: "Throttling for Amazon Route 53 API requests"; steer53 paces its calls to them,
 * see pacing.ts) and busy per zone while a change propagates (PriorRequestNotComplete). Six
 * attempts wait at most 0.2 + 0.4 + 0.8 + 1.6 + 3.2 = 6.2 s.
 */
export const Route53RetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 5000 };

/**
 * The capacity providers' APIs (SageMaker, Application Auto Scaling, ECS, EC2 Auto Scaling): a
 * call or two per endpoint and evaluation, far inside their rates, so throttling is rare; four
 * attempts wait at most 0.2 + 0.4 + 0.8 = 1.4 s, and none outlasts the invocation's deadline
 * (the SDK's own throttling backoff could wait 20 s).
 */
export const CapacityRetryPolicy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 2000 };

/** Room left before the deadline for the attempt itself and for recording its outcome. */
export const DEADLINE_MARGIN_MS = 3000;

export interface BoundedRetryStrategyOptions extends RetryPolicy {
  /** When the caller will be stopped (epoch ms; a Lambda invocation's deadline), or undefined: no deadline. */
  readonly deadline?: () => number | undefined;
  /** @default DEADLINE_MARGIN_MS */
  readonly marginMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Why the strategy refused another attempt; the SDK then throws the call's last error. */
export class RetryRefused extends Steer53Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryRefused';
  }
}

function token(retryCount: number, delayMs: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delayMs };
}

/**
 * Retries THROTTLING and TRANSIENT errors (as the SDK classifies them) with exponential backoff and
 * full jitter, at most `maxAttempts` in all, and never when even the longest wait would end within
 * `marginMs` of the deadline.
 */
export class BoundedRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  readonly #options: BoundedRetryStrategyOptions;

  constructor(options: BoundedRetryStrategyOptions) {
    this.#options = options;
  }

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, error: RetryErrorInfo): Promise<RetryToken> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.#options;
    if (error.errorType !== 'THROTTLING' && error.errorType !== 'TRANSIENT') throw new RetryRefused(`a ${error.errorType} error is not retried`);
    const retry = previous.getRetryCount() + 1;
    if (retry >= maxAttempts) throw new RetryRefused(`${maxAttempts} attempts made`);
    const longest = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    const deadline = this.#options.deadline?.();
    const now = this.#options.now ?? Date.now;
    if (deadline !== undefined && now() + longest + (this.#options.marginMs ?? DEADLINE_MARGIN_MS) > deadline) {
      throw new RetryRefused('another attempt could outlast the deadline');
    }
    return token(retry, Math.floor((this.#options.random ?? Math.random)() * longest));
  }

  recordSuccess(_token: RetryToken): void {}
}
