/**
 * What the AWS adapters throw: SDK errors translated into steer53's own, each saying which call
 * failed on what, whether a retry may help, and carrying the SDK error as `cause`.
 */
import { Steer53Error } from '../../core/errors.js';

export interface AwsCallContext {
  /** The API call, e.g. `route53:ChangeResourceRecordSets`. */
  readonly operation: string;
  /** What it was about: a hosted zone, a region, a table, a topic. */
  readonly target: string;
}

/** An AWS call failed. `retryable` says whether trying again later can help. */
export class AwsCallError extends Steer53Error {
  readonly operation: string;
  readonly target: string;
  readonly retryable: boolean;
  /** The SDK's error name (`Throttling`, `AccessDenied`, …). */
  readonly awsErrorName: string;

  constructor(context: AwsCallContext, cause: unknown, retryable: boolean) {
    const name = awsErrorName(cause);
    super(`${context.operation} on ${context.target} failed: ${name}: ${awsErrorMessage(cause)}`, { cause });
    this.name = 'AwsCallError';
    this.operation = context.operation;
    this.target = context.target;
    this.retryable = retryable;
    this.awsErrorName = name;
  }
}

/** Route 53 throttled or held the zone busy for longer than the retry budget allows. */
export class Route53RetriesExhaustedError extends AwsCallError {
  readonly attempts: number;

  constructor(context: AwsCallContext, cause: unknown, attempts: number) {
    super(context, cause, true);
    this.name = 'Route53RetriesExhaustedError';
    this.attempts = attempts;
    this.message = `${this.message} (gave up after ${attempts} attempts)`;
  }
}

/** A signal names an account role, but the CloudWatch adapter was given no STS client to assume it with. */
export class MissingStsClientError extends Steer53Error {
  readonly roleArn: string;

  constructor(roleArn: string) {
    super(`cannot read metrics with role ${roleArn}: no STS client was given to the CloudWatch adapter`);
    this.name = 'MissingStsClientError';
    this.roleArn = roleArn;
  }
}

/** EventBridge accepted the call but rejected some entries. */
export class EventPublishError extends Steer53Error {
  readonly failures: readonly { readonly detailType: string; readonly errorCode: string; readonly errorMessage: string }[];

  constructor(busName: string, failures: EventPublishError['failures']) {
    super(
      `EventBridge bus ${busName} rejected ${failures.length} event(s): ${failures.map((f) => `${f.detailType}: ${f.errorCode} ${f.errorMessage}`).join('; ')}`,
    );
    this.name = 'EventPublishError';
    this.failures = failures;
  }
}

export function awsErrorName(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; Code?: unknown; code?: unknown };
    for (const candidate of [e.name, e.Code, e.code]) if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return 'Error';
}

export function awsErrorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Errors where the same call later may succeed (throttling, steer53's own pacing out of time, 5xx, network). */
export function isTransientAwsError(error: unknown): boolean {
  const name = awsErrorName(error);
  if (
    /RateBudgetExhausted|Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded|ServiceUnavailable|InternalFailure|InternalError|PriorRequestNotComplete|TimeoutError|ECONNRESET|ETIMEDOUT|EPIPE/i.test(
      name,
    )
  )
    return true;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return typeof metadata?.httpStatusCode === 'number' && metadata.httpStatusCode >= 500;
}
