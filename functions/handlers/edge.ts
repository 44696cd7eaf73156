/**
 * What every handler shares: Powertools Logger, Metrics and Tracer, the middy wrapping, per-service
 * metrics from outcomes, and the one rule about failing: an invocation fails (so Lambda retries it
 * and, in the end, dead-letters it) only when a retry could help.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { weightsAfter } from '../app/weightRecords.js';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type { ValidationProblem } from '../core/config.js';
import type { EvaluationOutcome } from '../app/evaluateService.js';
import type { Runtime } from '../app/runtime.js';
import type { ServiceFailure } from '../app/onTick.js';
import { StateVersionConflictError } from '../ports/errors.js';
import { AwsCallError } from '../adapters/aws/errors.js';
import { RateBudgetExhaustedError } from '../adapters/aws/pacing.js';
import { createAwsRuntime, once, readEnvironment } from './awsRuntime.js';

export const MetricNames = {
  DECISIONS: 'Decisions',
  WEIGHT_CHANGES: 'WeightChanges',
  BLOCKED_ACTIONS: 'BlockedActions',
  ERRORS: 'Errors',
  NOTIFICATION_FAILURES: 'NotificationFailures',
  DRIFT_DETECTED: 'DriftDetected',
  REPAIRED_CHANGES: 'RepairedChanges',
  MALFORMED_EVENTS: 'MalformedEvents',
  /** Gauge: the weight Route 53 holds for an endpoint after an evaluation (dimensions service, endpoint). */
  WEIGHT: 'Weight',
  /** Per shard of a tick (dimension shard): how long it took, in ms. */
  SHARD_DURATION: 'ShardDuration',
  /** Per shard: how long after the schedule fired it started, in ms. */
  SHARD_LAG: 'ShardLag',
  /** Per shard: services read and evaluated, and services deferred by adaptive polling. */
  SERVICES_READ: 'ServicesRead',
  SERVICES_DEFERRED: 'ServicesDeferred',
  /** Per shard: ticks skipped because they started after the next tick fired, or were delivered twice. */
  STALE_SHARD_TICKS: 'StaleShardTicks',
  DUPLICATE_SHARD_TICKS: 'DuplicateShardTicks',
} as const;
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

/** The `service` dimension of the per-shard metrics: not a valid service name, so never one of them. */
export const TICK_METRICS_SERVICE = '#tick';

/** Counts (and gauges) per service: EMF metrics whose `service` dimension is the steer53 service. */
export interface Counter {
  count(metric: MetricName, service: string, value?: number): void;
  /** A gauge with an extra `endpoint` dimension. */
  gauge?(metric: MetricName, service: string, endpoint: string, value: number): void;
  /** A metric of one shard of a tick (dimensions service `#tick`, shard). */
  shard?(metric: MetricName, shard: string, value: number): void;
}

/**
 * One EMF document per service (and endpoint), each from a single-metric Powertools Metrics whose
 * service name is the steer53 service: Powertools puts the service name in the `service`
 * dimension itself, so adding it again would clash.
 */
export class EmfCounter implements Counter {
  readonly #namespace: string;
  constructor(namespace: string) {
    this.#namespace = namespace;
  }
  count(metric: MetricName, service: string, value = 1): void {
    new Metrics({ namespace: this.#namespace, serviceName: service, singleMetric: true }).addMetric(metric, MetricUnit.Count, value);
  }
  gauge(metric: MetricName, service: string, endpoint: string, value: number): void {
    const single = new Metrics({ namespace: this.#namespace, serviceName: service, singleMetric: true });
    single.addDimension('endpoint', endpoint);
    single.addMetric(metric, MetricUnit.Count, value);
  }
  shard(metric: MetricName, shard: string, value: number): void {
    const single = new Metrics({ namespace: this.#namespace, serviceName: TICK_METRICS_SERVICE, singleMetric: true });
    single.addDimension('shard', shard);
    single.addMetric(metric, metric === MetricNames.SHARD_DURATION || metric === MetricNames.SHARD_LAG ? MetricUnit.Milliseconds : MetricUnit.Count, value);
  }
}

/**
 * When the invocation in progress will be stopped, for the AWS clients built once per cold start
 * (their retries stop short of it). A Lambda execution environment runs one invocation at a time.
 */
export class InvocationDeadline {
  #at: number | undefined;
  /** Epoch ms, or undefined outside an invocation. */
  get at(): number | undefined {
    return this.#at;
  }
  begin(context: Context | undefined, now: number): void {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    this.#at = remaining !== undefined && Number.isFinite(remaining) && remaining > 0 ? now + remaining : undefined;
  }
}

export interface HandlerDeps {
  /** The runtime, built once per cold start. */
  readonly runtime: () => Promise<Runtime>;
  readonly logger: Logger;
  readonly counter: Counter;
  readonly tracer?: Tracer;
  /** Set at the start of every invocation when given. */
  readonly invocation?: InvocationDeadline;
}

/** Production dependencies: Powertools from the POWERTOOLS_* environment, AWS adapters from STEER53_*. */
export function defaultDeps(): HandlerDeps {
  // POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are set by the construct; the
  // defaults keep a function deployed without them recognisable.
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'steer53';
  const logger = new Logger({ serviceName });
  const tracer = new Tracer({ serviceName });
  const invocation = new InvocationDeadline();
  return {
    logger,
    tracer,
    invocation,
    counter: new EmfCounter(process.env.POWERTOOLS_METRICS_NAMESPACE || 'steer53'),
    runtime: once(async () => createAwsRuntime(readEnvironment(process.env), { log: logger, tracer, deadline: () => invocation.at })),
  };
}

/** Wraps a handler in middy with the invocation's deadline, the logger's Lambda context and the tracer. */
export function wrap<E, R>(deps: HandlerDeps, handle: (event: E, context: Context) => Promise<R>) {
  const wrapped = middy(handle)
    .use({ before: (request) => deps.invocation?.begin(request.context, Date.now()) })
    .use(injectLambdaContext(deps.logger, { resetKeys: true }));
  return deps.tracer ? wrapped.use(captureLambdaHandler(deps.tracer)) : wrapped;
}

/** Logs a malformed event with every problem and counts it; the invocation succeeds (a retry cannot help). */
export function rejectMalformed(
  deps: HandlerDeps,
  what: string,
  problems: readonly ValidationProblem[],
): { status: 'rejected'; problems: readonly ValidationProblem[] } {
  deps.logger.error(`malformed ${what}: ignored, nothing changed`, { problems: problems.slice(0, 50), problemCount: problems.length });
  deps.counter.count(MetricNames.MALFORMED_EVENTS, 'none');
  return { status: 'rejected', problems };
}

/** Logs and counts what one evaluation did. */
export function reportEvaluation(deps: HandlerDeps, outcome: EvaluationOutcome): void {
  const d = outcome.decision;
  const s = outcome.service;
  deps.logger.info('evaluated', {
    steer53Service: s,
    status: outcome.status,
    decisionId: outcome.decisionId,
    mode: d?.mode,
    changes: d?.changes,
    reasons: d?.reasons.map((r) => r.code),
    blocked: d?.blocked.map((b) => b.code),
    changeIds: outcome.changeIds,
    repaired: outcome.repaired,
    gaps: outcome.gaps.length > 0 ? outcome.gaps : undefined,
  });
  if (d) deps.counter.count(MetricNames.DECISIONS, s);
  if (outcome.status === 'applied' && d) deps.counter.count(MetricNames.WEIGHT_CHANGES, s, d.changes.length);
  if (d && d.blocked.length > 0) deps.counter.count(MetricNames.BLOCKED_ACTIONS, s, d.blocked.length);
  if (outcome.tellFailures.length > 0) deps.counter.count(MetricNames.NOTIFICATION_FAILURES, s, outcome.tellFailures.length);
  if (outcome.drift) deps.counter.count(MetricNames.DRIFT_DETECTED, s);
  if (outcome.repaired) deps.counter.count(MetricNames.REPAIRED_CHANGES, s);
  // What Route 53 holds now, for the dashboard's weights graph.
  if (d && deps.counter.gauge) {
    const held = outcome.status === 'applied' ? weightsAfter(d.currentWeights, d.changes) : d.currentWeights;
    for (const [endpoint, weight] of Object.entries(held)) deps.counter.gauge(MetricNames.WEIGHT, s, endpoint, weight);
  }
}

/** Logs and counts failed evaluations. */
export function reportFailures(deps: HandlerDeps, failures: readonly ServiceFailure[]): void {
  for (const f of failures) {
    deps.logger.error('evaluation failed', { steer53Service: f.service, errorName: f.error.name, error: f.error.message, retryable: isRetryable(f.error) });
    deps.counter.count(MetricNames.ERRORS, f.service);
  }
}

/** When Lambda will stop this invocation, on the runtime's clock; undefined outside Lambda. */
export function deadlineOf(rt: Runtime, context: Context | undefined): number | undefined {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  return remaining !== undefined && Number.isFinite(remaining) && remaining > 0 ? rt.clock.now() + remaining : undefined;
}

/** Whether running the same invocation again later may succeed. */
export function isRetryable(error: unknown): boolean {
  return (error instanceof AwsCallError && error.retryable) || error instanceof StateVersionConflictError;
}

/** Whether the invocation's own share of the account's rates ran out (a RateBudgetExhaustedError, or one among its causes). */
export function isOutOfBudget(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth += 1) if (e instanceof RateBudgetExhaustedError) return true;
  return false;
}

/**
 * Whether an alarm's failed evaluation is worth delivering again: retryable, and not for want of
 * this invocation's share of the rates. That one is the tick's: it reads every quiet service whose
 * alarm has left OK (and every other one every period) within a minute, while a redelivered storm
 * would run out again and end in the dead-letter queue.
 */
export function worthRedelivering(error: unknown): boolean {
  return isRetryable(error) && !isOutOfBudget(error);
}
