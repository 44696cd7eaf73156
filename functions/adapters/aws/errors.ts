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

/** Why a capacity provider could not read or ask: data, so callers branch on `code`, never on the sentence. */
export const CapacityProblemCodes = {
  /** The named endpoint variant, ECS service or Auto Scaling group does not exist in its region. */
  RESOURCE_NOT_FOUND: 'RESOURCE_NOT_FOUND',
  /** The generic provider's metric has no datapoint in the window read. */
  NO_DATAPOINT: 'NO_DATAPOINT',
  /** The generic provider's metric could not be read, or holds no instance count. */
  METRIC_UNREADABLE: 'METRIC_UNREADABLE',
  /** The generic provider's `Capacity Requested` event was not put on the bus. */
  EVENT_NOT_PUT: 'EVENT_NOT_PUT',
} as const;
export type CapacityProblemCode = (typeof CapacityProblemCodes)[keyof typeof CapacityProblemCodes];

/** Where a capacity provider's call went: the endpoint of the config, its provider kind and the platform resource. */
export interface CapacityContext {
  readonly service: string;
  readonly endpoint: string;
  /** `sagemaker-variant`, `ecs-service`, `ec2-asg` or `generic`. */
  readonly provider: string;
  /** The platform resource, as a person finds it in the console (`SageMaker endpoint chat-euw1, variant AllTraffic`). */
  readonly resource: string;
  readonly region: string;
}

/** The sentence that names a capacity context: endpoint, provider, resource and region. */
export function describeCapacityContext(context: CapacityContext): string {
  return `${context.resource} in ${context.region} (endpoint "${context.endpoint}" of service "${context.service}", provider ${context.provider})`;
}

/** A capacity provider could not read or ask, for a reason of steer53's own (not an SDK error: those are AwsCallError). */
export class CapacityProviderError extends Steer53Error {
  readonly code: CapacityProblemCode;
  readonly context: CapacityContext;

  constructor(code: CapacityProblemCode, context: CapacityContext, why: string, options?: ErrorOptions) {
    super(`capacity of ${describeCapacityContext(context)}: ${why}`, options);
    this.name = 'CapacityProviderError';
    this.code = code;
    this.context = context;
  }
}
