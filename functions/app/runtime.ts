/**
 * What the use cases need: the validated config, one implementation of each port, and a few
 * operating knobs. The Lambda handlers build it from AWS adapters at cold start; the simulator and
 * the tests build it from the in-memory adapters.
 */
import type { Config } from '../core/config.js';
import type { CapacityProvider } from '../ports/capacity.js';
import type { Clock } from '../ports/clock.js';
import type { DnsWeights } from '../ports/dnsWeights.js';
import type { EventPublisher } from '../ports/eventPublisher.js';
import type { HealthCheckStatus } from '../ports/healthChecks.js';
import type { Log } from '../ports/log.js';
import type { MetricsSource } from '../ports/metrics.js';
import type { Notifier } from '../ports/notifier.js';
import type { TickClaims } from '../ports/tickClaims.js';
import type { StateStore } from '../ports/stateStore.js';

export interface RuntimeOptions {
  /** Decisions tried per evaluation when another evaluation keeps winning the race. @default 3 */
  readonly maxAttempts?: number;
  /**
   * How long a recorded, unconfirmed change belongs to the evaluation that recorded it, when that
   * evaluation does not know its own deadline (`EvaluationRequest.deadline`). Within it, other
   * evaluations of the service stand aside; after it, the change is taken as abandoned (the
   * evaluation crashed) and the next evaluation completes it. Keep it above the function timeout.
   * @default 90
   */
  readonly intentLeaseSeconds?: number;
  /** How long after a period ends its metrics are taken as complete. @default 60 */
  readonly metricDelaySeconds?: number;
  /** Services evaluated at once by a tick. @default 4 */
  readonly concurrency?: number;
  /**
   * Route 53 health checks a tick reads at most; when more are due, they are read in turns
   * (healthChecks.ts, `healthCheckTurn`). @default DEFAULT_HEALTH_CHECK_READS_PER_TICK (40)
   */
  readonly healthCheckReadsPerTick?: number;
}

export interface Runtime {
  readonly config: Config;
  readonly dns: DnsWeights;
  readonly metrics: MetricsSource;
  readonly store: StateStore;
  readonly notifier: Notifier;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly log: Log;
  /** Unique ids for decisions and audit entries (crypto.randomUUID in Lambda; a counter in tests). */
  readonly newId: () => string;
  /**
   * The AWS account the controller runs in: alarm and deployment events from other accounts act
   * only where the config allows them. Unknown (the simulator): only the config's accounts are allowed.
   */
  readonly account?: string;
  readonly options?: RuntimeOptions;
  /** Once per shard and minute (a sharded schedule's invocations). @default no claim: every invocation evaluates */
  readonly tickClaims?: TickClaims;
  /**
   * The endpoints' capacity providers (`capacity.scaling` in the config). @default none: an
   * endpoint with a provider is planned within the capacity it has, and nothing is asked
   */
  readonly capacity?: CapacityProvider;
  /**
   * What the Route 53 health checks on the endpoints' records say, read only for endpoints drained
   * because they were failing and for those just restored (functions/app/healthChecks.ts). Which
   * record has which health check comes with the records (`RecordSetWeights.healthChecks`).
   * @default none: no health check is read, and the engine decides without them
   */
  readonly healthChecks?: HealthCheckStatus;
}
