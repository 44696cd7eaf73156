/**
 * The values the engine takes and gives: observations in, state in and out, a decision out.
 * All of them are plain JSON-serialisable data, so state can be stored in DynamoDB as it is and a
 * decision can be logged, audited and compared.
 */

/** Milliseconds since the epoch. Time always comes in as an argument; the engine never reads a clock. */
export type EpochMs = number;

/** Weights by SetIdentifier. */
export type Weights = Record<string, number>;

// ---------------------------------------------------------------------------------------------
// Observations

/** One signal's latest complete period, raw as CloudWatch (or an alarm) reported it. */
export interface SignalObservation {
  /** Raw value in the metric's own unit (the engine applies the signal's scale); null when missing. */
  readonly value: number | null;
  /** Samples behind the value (CloudWatch SampleCount), for percentiles. Omitted = enough. */
  readonly sampleCount?: number;
  /**
   * Of those samples, how many were worse than the signal's trip (from CloudWatch's percentile
   * rank at the trip, `PR(:trip)`), for percentiles: the tail evidence. Omitted = not asked.
   */
  readonly worseThanTrip?: number;
  /** Start of the period the value describes. */
  readonly periodStart?: EpochMs;
}

/** Alarm states as CloudWatch names them. */
export const AlarmStates = { OK: 'OK', ALARM: 'ALARM', INSUFFICIENT_DATA: 'INSUFFICIENT_DATA' } as const;
export type AlarmState = (typeof AlarmStates)[keyof typeof AlarmStates];

export interface AlarmObservation {
  readonly alarmState: AlarmState;
}

export interface EndpointObservations {
  /** By signal name. A signal with no entry is missing (and so `unknown`). */
  readonly signals: Readonly<Record<string, SignalObservation | AlarmObservation | undefined>>;
  /** Requests per second the endpoint served in the period, if its load is observed. */
  readonly requestRate?: number | null;
  /**
   * Requests the load metric counted in the judged period itself (`requestRate` is the busiest of
   * the last few): 0 only from a datapoint of zero, null when the period has none.
   */
  readonly requestsInPeriod?: number | null;
  /**
   * The rollout latency signal's metric at `rollout.canary.statistic` (raw, as CloudWatch reported
   * it), when rollouts are on and that statistic is not the signal's own: what canaries are judged on (canaryLatency.ts).
   */
  readonly canaryLatency?: SignalObservation;
  /**
   * What the Route 53 health check on the endpoint's record says now (healthy when more than 18%
   * of its checkers see it healthy, as Route 53 decides), when the record has one and it was read.
   */
  readonly healthCheck?: 'healthy' | 'unhealthy';
  /**
   * Of the checkers of that health check, how many reported a failed check in the last
   * `CHECKER_FAILURE_WINDOW_MS` (Route 53 `GetHealthCheckLastFailureReason`: each checker's last
   * failure and its time), when it was read: read only for an endpoint drained for failing whose
   * check reads healthy; over the last `CHECKER_RESTORE_WINDOW_MS` when its check was seen failing.
   */
  readonly healthCheckFailures?: number;
}

export interface ServiceObservations {
  /** By SetIdentifier. An endpoint with no entry has every signal missing. */
  readonly endpoints: Readonly<Record<string, EndpointObservations | undefined>>;
  /** Start of the period these observations describe; verdicts are counted once per period. */
  readonly periodStart: EpochMs;
}

// ---------------------------------------------------------------------------------------------
// Verdicts

export const Verdicts = { BREACH: 'breach', CLEAR: 'clear', HOLD: 'hold', UNKNOWN: 'unknown' } as const;
export type Verdict = (typeof Verdicts)[keyof typeof Verdicts];

/**
 * `alarm-lag`: a fail-severity alarm still in ALARM, or a per-request error rate still breaching, just after its endpoint's health check restored it (EndpointState.alarmLagUntil).
 * `few-requests`: a fail-severity alarm in ALARM while the endpoint's per-request error rate counted too few requests this period to prove its trip, and did not (verdicts.ts `fewRequests`).
 */
export type UnknownCause = 'missing' | 'low-sample' | 'insufficient-data' | 'alarm-lag' | 'few-requests';

export interface SignalVerdict {
  readonly signal: string;
  readonly verdict: Verdict;
  /** The scaled value, in `unit`; null when missing. */
  readonly value: number | null;
  readonly unit: string;
  readonly trip: number | null;
  readonly clear: number | null;
  readonly statistic: string | null;
  readonly sampleCount: number | null;
  readonly severity: 'degrade' | 'fail';
  readonly unknownCause?: UnknownCause;
  /** Clear on fewer samples than a percentile needs: fast requests are still evidence of health. */
  readonly lowSample?: boolean;
  /**
   * A percentile's breach proven on fewer samples than it takes for a healthy endpoint to have one
   * worse than trip (`1 / (1 − p)`: 100 for a p99). Proven if requests are independent; a few
   * correlated slow ones (one client's long prompts) are enough for it.
   */
  readonly thin?: boolean;
  /** A per-request share (the signal's `perRequest`), judged on its count: with no requests it has no datapoint. */
  readonly perRequest?: boolean;
  /** How far past trip, relative to |trip| (0 when not breaching). */
  readonly excess: number;
  /** Share of the period's samples worse than trip, when CloudWatch counted them (percentiles). */
  readonly worseShare?: number;
  /** The breach is severe: proven past trip by far (tail evidence), or `severeExcess` past it in value. */
  readonly severe?: boolean;
  /** A CloudWatch alarm's state, not a value the engine judged: the alarm has already counted its own M of N. */
  readonly fromAlarm?: boolean;
  /** The value grows with the endpoint's traffic, so it can be predicted at another share. */
  readonly scalesWithLoad?: boolean;
  /** The value is the signal's metric at the canary's statistic (`statistic`), not the signal's own (canaryLatency.ts). */
  readonly canaryReading?: boolean;
  /** A percentile's count this period, kept in the history for pooling (pooledTails.ts). */
  readonly tail?: PeriodTail;
}

/**
 * One period's count for a percentile signal. `worse` is what CloudWatch counted past trip
 * (`PR(:trip)`, asked when the value is past trip), or, for a value within trip (no rank asked),
 * the most the percentile allows: `allowed × samples`, so that pooling never reads a period as
 * slower than it can have been, nor as faster.
 */
export interface PeriodTail {
  readonly samples: number;
  readonly worse: number;
  /** The share the percentile allows past trip (0.01 for a p99). */
  readonly allowed: number;
}

export interface EndpointVerdict {
  readonly verdict: Verdict;
  /** A breach of a `fail`-severity signal: the endpoint is failing, not merely slow. */
  readonly failing: boolean;
  /** Largest relative excess over trip among breaching signals. */
  readonly excess: number;
  /** A breaching signal's breach is severe. */
  readonly severe?: boolean;
  readonly signals: readonly SignalVerdict[];
  /** Clear because its percentiles, between their thresholds, are no worse than the healthy endpoints' this period (peerTails.ts). */
  readonly asClearAsPeers?: readonly PeerTail[];
}

/** One percentile signal judged against the healthy serving endpoints' values this period. */
export interface PeerTail {
  readonly signal: string;
  readonly value: number;
  /** The median of the healthy serving endpoints' values, under the signal's trip. */
  readonly peersMedian: number;
  readonly peers: readonly string[];
}

/** What operators were told of the service's last fail static (endpointStates.ts `nextFailStaticNotice`). */
export interface FailStaticNotice {
  readonly since: EpochMs;
  readonly told: boolean;
  /** Absent while it lasts. */
  readonly endedAt?: EpochMs;
  /** Its end was told: once it had stayed ended `failStaticNoticeSeconds`. */
  readonly endTold?: boolean;
}

/** One period's verdict kept in the history window. */
export interface VerdictRecord {
  readonly periodStart: EpochMs;
  /** `fail` is a breach of a fail-severity signal. */
  readonly verdict: Verdict | 'fail';
  /** A breach at least `severeExcess` past trip. */
  readonly severe?: boolean;
  /** Its percentile signals' counts, by signal (state layout 11): what a recovering endpoint's periods pool. */
  readonly tails?: Readonly<Record<string, PeriodTail>>;
}

// ---------------------------------------------------------------------------------------------
// State

export const EndpointStatuses = { HEALTHY: 'healthy', DEGRADED: 'degraded', DRAINED: 'drained', RECOVERING: 'recovering' } as const;
export type EndpointStatus = (typeof EndpointStatuses)[keyof typeof EndpointStatuses];

export interface EndpointState {
  readonly status: EndpointStatus;
  /** When the endpoint entered `status`. */
  readonly since: EpochMs;
  /** Recent verdicts, one per period, newest last, at most the detection window long. */
  readonly history: readonly VerdictRecord[];
  /** Share of its baseline a degraded endpoint has shed, 0–1. */
  readonly shed: number;
  /** Drained because it was failing (a fail-severity breach), not because shedding reached 100%. */
  readonly failed?: boolean;
  /** While drained for failing, its record's Route 53 health check was seen failing too: the failure is one the health check sees end. */
  readonly healthCheckFailed?: boolean;
  /**
   * Drained for failing while its record's health check was read as passing: the drain itself took
   * it out of Route 53's answers, so a restore by that health check moves its clients back against
   * it (the flap guard holds such a restore as any other move back; core/guards.ts `drainsUndone`).
   */
  readonly checkPassedAtDrain?: boolean;
  /**
   * Drained for failing, its record's health checkers were read failing since: they check what
   * fails, so their passing again says its errors stopped, whatever its error alarm, counting the
   * few requests a drained region serves, still says (core/hysteresis.ts `checkersSeeItClear`).
   */
  readonly checkersSawFailure?: boolean;
  /**
   * Restored when its health check passed again, or when its checkers no longer fail while its
   * error alarm is still in ALARM: until this time a fail-severity alarm still in ALARM is taken for
   * one that has not yet counted the endpoint's return (CloudWatch's own lag).
   */
  readonly alarmLagUntil?: EpochMs;
  /** Share of its baseline the endpoint carried when it degraded (at least 1): `shed` is a fraction of this. */
  readonly shedFrom?: number;
  /** When the endpoint last shed more, so the next shed waits for the last one to show. */
  readonly shedSince?: EpochMs;
  /** Index into the recovery steps while recovering. */
  readonly recoveryStep: number;
  /** Share of baseline the endpoint carried when its recovery began (0 from drained). */
  readonly recoveryFrom?: number;
  /** When the current recovery step began. */
  readonly stepSince: EpochMs;
  /** The dwell in force, grown after failed recoveries. */
  readonly dwellSeconds: number;
  /** Failed recoveries since the endpoint was last fully healthy. */
  readonly failedRecoveries: number;
  /**
   * A recovery step too small to be worth a flap failed: when, when it goes back (its last raise
   * `dwell.minSeconds` old), and to what share of baseline (hysteresis.ts `RECOVERY_FAIL_HELD`).
   */
  readonly recoveryFailed?: { readonly at: EpochMs; readonly until: EpochMs; readonly backTo: number };
  /** The utilisation it was last too slow at, while that holds (learnedHeadroom.ts). Absent when none. */
  readonly learnedLimit?: LearnedLimit;
}

/** The lowest utilisation (request rate over warm capacity) an endpoint breached at, and when. */
export interface LearnedLimit {
  readonly utilisation: number;
  /** When the breach that set it was seen: it holds `LIMIT_TTL_MS` from then. */
  readonly at: EpochMs;
}

/** A weight change written: the change budget counts them, the flap guard reads which way each endpoint moved. */
export interface RecentChange {
  readonly at: EpochMs;
  readonly emergency: boolean;
  /** Endpoints moved by more than one weight unit, and which way. Absent on changes written before steer53 kept it. */
  readonly moved?: Readonly<Record<string, 1 | -1>>;
}

export interface Override {
  /** Who set it (an IAM principal, a CLI user, `drift`). */
  readonly by: string;
  readonly reason: string;
  readonly setAt: EpochMs;
  /**
   * When the override ends on its own. Never later than 7 days after `setAt` (MAX_OVERRIDE_MS): the
   * engine ends a longer one, or one without an end (null, written before the cap), then.
   */
  readonly until: EpochMs | null;
  /**
   * The engine has told people of it (a notice and an `Override Changed` event). An override written
   * without it (by the CLI, or straight into the table) is told at the next evaluation.
   */
  readonly announced?: boolean;
}

/** A CloudWatch alarm that ends a drill the moment it is in ALARM. */
export interface GuardAlarm {
  readonly name: string;
  readonly region: string;
}

/** A maintenance drain, or a drill: a practice failover of the endpoint that its guard alarm aborts. */
export interface DrainOverride extends Override {
  readonly guard?: GuardAlarm;
}

export interface Overrides {
  readonly freeze?: Override;
  readonly pin?: Override & { readonly weights: Weights };
  /** Maintenance drains and drills, by SetIdentifier. */
  readonly drains?: Readonly<Record<string, DrainOverride>>;
  /**
   * Overrides an operator lifted before their end (unfreeze, unpin, undrain), not yet told: the
   * next evaluation tells each (a notice and an `Override Changed` event) and drops the list.
   * Never in force.
   */
  readonly lifted?: readonly LiftedOverride[];
}

/** An override an operator lifted: what it was, who lifted it and why, and when. */
export interface LiftedOverride {
  readonly what: 'freeze' | 'pin' | 'drain';
  /** The endpoint of a lifted drain. */
  readonly endpoint?: string;
  readonly by: string;
  readonly reason: string;
  readonly at: EpochMs;
}

// ---------------------------------------------------------------------------------------------
// Rollouts

/** What a pipeline (or an operator) says of one endpoint's deployment. */
export type DeploymentPhase = 'started' | 'succeeded' | 'failed' | 'rolled-back' | 'abort' | 'promote';

export interface DeploymentSignal {
  readonly endpoint: string;
  readonly version: string;
  readonly phase: DeploymentPhase;
  /** When it happened (the event's time). */
  readonly at: EpochMs;
  /** Same key, same event: EventBridge delivers at least once. */
  readonly idempotencyKey: string;
  readonly pipelineExecutionId?: string;
  /** Who: a pipeline execution, or the operator for abort and promote. */
  readonly by?: string;
}

export const RolloutPhases = {
  DEPLOYING: 'deploying',
  CANARY: 'canary',
  /** The canary failed (or the deployment did): waiting for the pipeline to roll back. */
  ROLLING_BACK: 'rolling-back',
} as const;
export type RolloutPhase = (typeof RolloutPhases)[keyof typeof RolloutPhases];

export interface RolloutState {
  readonly version: string;
  readonly phase: RolloutPhase;
  readonly since: EpochMs;
  /** Time of the newest event applied, to tell late duplicates from news. */
  readonly lastEventAt: EpochMs;
  /** Canary step index. */
  readonly step: number;
  readonly stepSince: EpochMs;
  /** When the step is judged, once it has been extended; else `stepSince` + the hold. */
  readonly judgeAt?: EpochMs;
  readonly extensions: number;
  /** Periods of this step that failed on errors. */
  readonly errorFails?: number;
  /** Every endpoint's learned latency against load when the rollout began: what it is judged against. */
  readonly loadReference?: Readonly<Record<string, LoadProfile>>;
  /** This step's judged periods (`n`) and their latency ratios (canary over what is expected of it), as sums. */
  readonly ratios?: { readonly n: number; readonly sum: number; readonly sumSquares: number };
  /** Share of baseline the endpoint carried before the deployment, to return to. */
  readonly preDeployFactor: number;
  readonly pipelineExecutionId?: string;
}

/** What the controller tells the pipeline (EventBridge). */
export interface RolloutEvent {
  readonly type: 'Rollback Requested' | 'Rollout Succeeded';
  readonly endpoint: string;
  readonly version: string;
  readonly pipelineExecutionId?: string;
  readonly reason: string;
}

/** Exponentially decayed least-squares sums of (utilisation, latency) points. */
export interface LoadProfile {
  /** Weight of the points (a decayed count). */
  readonly n: number;
  readonly u: number;
  readonly uu: number;
  readonly y: number;
  readonly yy: number;
  readonly uy: number;
  /** Period start of the newest point. */
  readonly at: number;
  /** The signal and statistic it was learned on (`p99-ttft@p50`): a profile of another is set aside. */
  readonly basis?: string;
}

/**
 * What an endpoint's capacity provider reports (functions/ports/capacity.ts): instances serving now,
 * and the count the provider is asked to hold (desired count, or the scalable target's minimum).
 */
export interface CapacityReading {
  readonly inService: number;
  /** Null when the provider cannot tell (the generic provider: its request is an event): what was asked is then not asked again. */
  readonly desired: number | null;
  /** The provider says capacity cannot be obtained now (a failed scaling activity, insufficient capacity), in its words. */
  readonly problem?: string;
}

/** The capacity handshake of one endpoint, as the engine remembers it (docs/runtime.md, "Capacity handshake"). */
export interface EndpointCapacity {
  /** Instances the endpoint had before steer53 asked for more: capacity is never given back below this. */
  readonly base: number;
  /** Instances steer53 asked for and has not given back; null when it asks for nothing. */
  readonly asked: number | null;
  /** When the current ask was made (a larger ask restarts it). */
  readonly askedAt: EpochMs | null;
  /** The ask was not in service within `timeoutSeconds`: told once, and not raised again until it is. */
  readonly timedOut: boolean;
  /** Requests per second one instance serves warm, as configured or learned at the first reading. */
  readonly perInstanceRps: number | null;
  /** Times of the requests made (scale-out or give-back) in the last hour, for the capacity budget. */
  readonly requests: readonly EpochMs[];
  /** Instances in service at the last reading, so their arrival is told once. */
  readonly lastInService: number | null;
  /** When capacity was last given back (asks need an endpoint drained, a maintenance drain or a rollout, so none follows a give-back on its own). */
  readonly releasedAt: EpochMs | null;
}

export interface ServiceState {
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  /**
   * The weights the controller last wrote (or found at the start), by SetIdentifier. Weights are
   * written at the scale that changes the fewest records (weights.ts, `writtenWeights`); while
   * Route 53 holds them, the runtime hands the engine its own weights here, at the configured total.
   */
  readonly appliedWeights: Weights | null;
  /** Times of weight changes in the last hour, for the change budget. */
  /**
   * Weight changes written in the last hour: when, whether an emergency, and which way each endpoint
   * it moved by more than one weight unit went (+1 up, −1 down), for the flap guard.
   */
  readonly recentChanges: readonly RecentChange[];
  readonly overrides: Overrides;
  /** Set while the service is failing static: when it began (a fail static back within `failStaticNoticeSeconds` of its end goes on from it). */
  readonly failStaticSince: EpochMs | null;
  /** The last fail static, kept after it ends: when it began, whether operators were told, and when it ended. */
  readonly failStaticNotice?: FailStaticNotice;
  readonly lastPeriodStart: EpochMs | null;
  readonly lastEvaluatedAt: EpochMs | null;
  /** Deployments in progress, by SetIdentifier. */
  readonly rollouts: Readonly<Record<string, RolloutState>>;
  /** Observed demand (requests/s) of the last few periods, newest last. */
  readonly demandHistory: readonly number[];
  /**
   * Idempotency keys of the newest deployment events applied (the newest 64). The one durable
   * memory of them: written with the state under its version, so a duplicate delivery is a
   * duplicate whatever happened to the rollout since.
   */
  readonly deploymentKeys: readonly string[];
  /** Per drilled endpoint, the scheduled time of the last drill started (or skipped): one try per scheduled time. */
  readonly drillStarts: Readonly<Record<string, EpochMs>>;
  /** Each endpoint's latency against utilisation, learned while it runs normally, for load-matched canary judgements (loadModel.ts). */
  readonly loadProfiles: Readonly<Record<string, LoadProfile>>;
  /** The capacity handshake of each endpoint with `capacity.scaling`, by SetIdentifier. */
  readonly capacity: Readonly<Record<string, EndpointCapacity>>;
}

// ---------------------------------------------------------------------------------------------
// Decision

/**
 * Reason codes: every change, hold or refusal carries one, and a sentence to go with it. One code
 * per rule, so that a caller (a notice filter, the audit, a test) can tell the rules apart.
 */
export const ReasonCodes = {
  M_OF_N_BREACH: 'M_OF_N_BREACH',
  /** One severe breach at least `detection.extremeExcess` past trip: degraded on its one period. */
  BREACH_EXTREME: 'BREACH_EXTREME',
  FAIL_BREACH: 'FAIL_BREACH',
  /** Failure no second period is needed for (a fail-severity alarm in ALARM, or a severe fail breach): drained on one period. */
  FAIL_UNAMBIGUOUS: 'FAIL_UNAMBIGUOUS',
  SHED_PROPORTIONAL: 'SHED_PROPORTIONAL',
  /** A severe breach well under the endpoint's planned capacity: impaired, not busy; it sheds `shedding.impairedStep` at once. */
  SHED_IMPAIRED: 'SHED_IMPAIRED',
  /** A degraded endpoint still breaching waits `shedding.intervalSeconds` for its last shed to show. */
  SHED_INTERVAL_HOLD: 'SHED_INTERVAL_HOLD',
  /** A degraded endpoint whose breach is thin (too few requests to expect one slow one) and whose window has no severe breach holds its shed. */
  THIN_BREACH_HOLD: 'THIN_BREACH_HOLD',
  /** A healthy endpoint slow from load waits `shedding.intervalSeconds` for a cut in its share to show before it degrades. */
  RELIEF_HOLD: 'RELIEF_HOLD',
  /** Breaches none of them severe while at least half the other healthy serving endpoints were slow too (with another endpoint out, only within its planned capacity): the service's noise; the endpoint stays healthy. */
  NOISE_HOLD: 'NOISE_HOLD',
  DRAINED: 'DRAINED',
  CLEARS_TO_RECOVER: 'CLEARS_TO_RECOVER',
  /** A failure the Route 53 health check saw has ended as it sees it: the endpoint is restored at once, as Route 53 would answer with it. */
  HEALTH_CHECK_RESTORED: 'HEALTH_CHECK_RESTORED',
  /**
   * A failure the Route 53 health check never saw (part of the requests failing) has ended as its
   * checkers see it: not one failed a check in the window, the endpoint's signals are not
   * breaching and no fail-severity one is held between its thresholds. It is restored at once, its
   * errors having stopped, not by its recovery steps.
   */
  CHECKERS_CLEAR_RESTORED: 'CHECKERS_CLEAR_RESTORED',
  /** A survivor that degraded carrying a failed region's traffic is healthy again once that region's health check (or its checkers) restores it. */
  LOAD_RELIEVED: 'LOAD_RELIEVED',
  /** A fail-severity alarm still in ALARM, or a per-request error rate still breaching, just after a health-check restore: taken for CloudWatch's lag, not new failure. */
  ALARM_LAG_HOLD: 'ALARM_LAG_HOLD',
  /** A fail-severity alarm in ALARM on an endpoint whose per-request error rate counted too few requests to prove its trip, and did not: a few errors among a few requests, not a failing endpoint. */
  FEW_REQUESTS_HOLD: 'FEW_REQUESTS_HOLD',
  RECOVERY_STEP: 'RECOVERY_STEP',
  RECOVERY_COMPLETE: 'RECOVERY_COMPLETE',
  RECOVERY_FAILED: 'RECOVERY_FAILED',
  /** A recovery step failed on its periods pooled: together they prove a percentile past trip that none of them proves alone (pooledTails.ts). */
  TAIL_POOLED: 'TAIL_POOLED',
  /** A failed recovery step that moved no more than `rebalanceMinShare` of the traffic waits until it is `dwell.minSeconds` old to go back: a sooner reversal would flap. */
  RECOVERY_FAIL_HELD: 'RECOVERY_FAIL_HELD',
  /** A recovering endpoint's step not yet written is not written while one of its signals reads past trip, proven or not: it carries what it carries. */
  RECOVERY_STEP_WAITS: 'RECOVERY_STEP_WAITS',
  DWELL_HOLD: 'DWELL_HOLD',
  /**
   * An endpoint drained for failing whose health checkers still saw failed checks lately: clear and
   * past its dwell, its recovery waits (no step to fail); its check seen failing and passing again
   * (a check that flickers), its restore waits.
   */
  CHECKERS_FAILING_HOLD: 'CHECKERS_FAILING_HOLD',
  HEADROOM_HOLD: 'HEADROOM_HOLD',
  HOLD_BAND: 'HOLD_BAND',
  /** One endpoint has no usable data: it holds its state. */
  UNKNOWN_HOLD: 'UNKNOWN_HOLD',
  /** No endpoint has usable data this period: the weights hold, whatever was planned. */
  ALL_UNKNOWN_HOLD: 'ALL_UNKNOWN_HOLD',
  CAPACITY_LIMITED: 'CAPACITY_LIMITED',
  /** An endpoint is planned below its target utilisation: it, or a peer serving the same traffic, was too slow at a lower one not long ago. */
  HEADROOM_LEARNED: 'HEADROOM_LEARNED',
  /** The planner keeps `minHealthyEndpoints` serving. */
  MIN_HEALTHY_ENDPOINTS: 'MIN_HEALTHY_ENDPOINTS',
  /** Every weight would be 0 (Route 53 would split evenly): baseline is written instead. */
  ALL_ZERO_WEIGHTS: 'ALL_ZERO_WEIGHTS',
  FAIL_STATIC: 'FAIL_STATIC',
  FAIL_STATIC_ENDED: 'FAIL_STATIC_ENDED',
  /** Every record of the change moves by less than `deadbandWeight` points. */
  DEADBAND_WEIGHT: 'DEADBAND_WEIGHT',
  /** A rebalance (no endpoint changed state) moves less than `rebalanceMinShare` of the traffic. */
  DEADBAND_REBALANCE: 'DEADBAND_REBALANCE',
  /** The change would move an endpoint back the way it moved less than `dwell.minSeconds` ago, and sheds nothing: it waits. */
  FLAP_HOLD: 'FLAP_HOLD',
  /** A health check's restore the flap guard would hold whole goes out without its reversals: the endpoints it would move back keep their share. */
  FLAP_HOLD_KEPT: 'FLAP_HOLD_KEPT',
  /** A healthy bystander the plan would move back against its last move (away from its baseline share) keeps its share: other receivers take the difference. */
  RECEIVER_KEPT: 'RECEIVER_KEPT',
  STEP_BOUNDED: 'STEP_BOUNDED',
  CHANGE_BUDGET_EXHAUSTED: 'CHANGE_BUDGET_EXHAUSTED',
  FROZEN: 'FROZEN',
  PINNED: 'PINNED',
  MAINTENANCE_DRAIN: 'MAINTENANCE_DRAIN',
  OVERRIDE_EXPIRED: 'OVERRIDE_EXPIRED',
  /** An override an operator lifted before its end (unfreeze, unpin, undrain) is told once. */
  OVERRIDE_LIFTED: 'OVERRIDE_LIFTED',
  /** An override set or changed (by the CLI, or a direct write to the table) is told once, with its end. */
  OVERRIDE_SET: 'OVERRIDE_SET',
  DEPLOYMENT_STARTED: 'DEPLOYMENT_STARTED',
  DEPLOYMENT_IGNORED: 'DEPLOYMENT_IGNORED',
  DEPLOYMENT_FAILED: 'DEPLOYMENT_FAILED',
  DEPLOYMENT_ROLLED_BACK: 'DEPLOYMENT_ROLLED_BACK',
  DEPLOYMENT_TIMED_OUT: 'DEPLOYMENT_TIMED_OUT',
  CANARY_STEP: 'CANARY_STEP',
  CANARY_INCONCLUSIVE: 'CANARY_INCONCLUSIVE',
  ROLLBACK_REQUESTED: 'ROLLBACK_REQUESTED',
  ROLLOUT_SUCCEEDED: 'ROLLOUT_SUCCEEDED',
  /** More instances asked of an endpoint's provider before traffic moves in (or the same ask made again: the provider holds less). */
  CAPACITY_REQUESTED: 'CAPACITY_REQUESTED',
  /** What was asked is in service: the weights may use all of it. */
  CAPACITY_IN_SERVICE: 'CAPACITY_IN_SERVICE',
  /** The endpoint would need more than `maxInstances`: asked for the max. */
  CAPACITY_AT_MAX: 'CAPACITY_AT_MAX',
  /** Asked and not in service within `timeoutSeconds` (quota, insufficient capacity): planned with what exists. */
  CAPACITY_TIMED_OUT: 'CAPACITY_TIMED_OUT',
  /** The extra instances given back: no endpoint drained, the last ask older than the cooldown, and the plan needs less. */
  CAPACITY_RELEASED: 'CAPACITY_RELEASED',
  /** A capacity request waits: the capacity budget for the hour is spent. */
  CAPACITY_BUDGET_EXHAUSTED: 'CAPACITY_BUDGET_EXHAUSTED',
  /** A capacity request waits: the service is frozen, or fails static (give-back only). */
  CAPACITY_HELD: 'CAPACITY_HELD',
  /** The provider could not be read this period: no request is made for the endpoint. */
  CAPACITY_UNREAD: 'CAPACITY_UNREAD',
  WEIGHTS_RECONCILED: 'WEIGHTS_RECONCILED',
  DRIFT_ADOPTED: 'DRIFT_ADOPTED',
  DRILL_STARTED: 'DRILL_STARTED',
  DRILL_SKIPPED: 'DRILL_SKIPPED',
  DRILL_ABORTED: 'DRILL_ABORTED',
} as const;
export type ReasonCode = (typeof ReasonCodes)[keyof typeof ReasonCodes];

const ROLLOUT_REASON_CODES = [
  'DEPLOYMENT_STARTED',
  'DEPLOYMENT_IGNORED',
  'DEPLOYMENT_FAILED',
  'DEPLOYMENT_ROLLED_BACK',
  'DEPLOYMENT_TIMED_OUT',
  'CANARY_STEP',
  'CANARY_INCONCLUSIVE',
  'ROLLBACK_REQUESTED',
  'ROLLOUT_SUCCEEDED',
] as const satisfies readonly ReasonCode[];
export type RolloutReasonCode = (typeof ROLLOUT_REASON_CODES)[number];

/** The reason codes a rollout gives, by which its part of a decision is found. */
export const RolloutReasonCodes: ReadonlySet<ReasonCode> = new Set<ReasonCode>(ROLLOUT_REASON_CODES);

/** Why the engine ignored a deployment event (changed nothing for it). */
export const IgnoredDeploymentWhys = {
  /** Its idempotency key was applied before: a duplicate delivery. */
  DUPLICATE: 'duplicate',
  /** It names an endpoint the service does not have. */
  UNKNOWN_ENDPOINT: 'unknown-endpoint',
  /** The policy's rollout mode is `none`: recorded, weights untouched. */
  ROLLOUT_MODE_NONE: 'rollout-mode-none',
  /** Older than the last event applied to the same version: late news. */
  OUT_OF_ORDER: 'out-of-order',
  /** The rollout of its version is already where (or past where) the event would take it. */
  ALREADY_IN_PHASE: 'already-in-phase',
  /** It needs a rollout in progress, and there is none. */
  NO_ROLLOUT: 'no-rollout',
  /** It is about another version than the rollout in progress. */
  OTHER_VERSION: 'other-version',
  /** The rollout in progress is already rolling back. */
  ROLLING_BACK: 'rolling-back',
} as const;
export type IgnoredDeploymentWhy = (typeof IgnoredDeploymentWhys)[keyof typeof IgnoredDeploymentWhys];

/** A reason about the service's weights, an endpoint's state, an override or a guard. */
export interface PolicyReason {
  readonly code: Exclude<ReasonCode, RolloutReasonCode>;
  /** The sentence a person reads, built from the fields. */
  readonly message: string;
  /** The endpoint it is about, when it is about one. */
  readonly endpoint?: string;
}

/** A reason a rollout gives: what a deployment event did to it, or how its canary was judged. */
export interface RolloutReason {
  readonly code: Exclude<RolloutReasonCode, 'DEPLOYMENT_IGNORED'>;
  readonly message: string;
  readonly endpoint: string;
  /** The version the rollout is of. */
  readonly version: string;
  /** The deployment event that moved the rollout; absent when time or evidence did. */
  readonly idempotencyKey?: string;
  /** What that event said. */
  readonly phase?: DeploymentPhase;
}

/** A deployment event the engine did not act on, and why. */
export interface DeploymentIgnoredReason {
  readonly code: 'DEPLOYMENT_IGNORED';
  readonly message: string;
  readonly endpoint: string;
  readonly version: string;
  readonly phase: DeploymentPhase;
  readonly idempotencyKey: string;
  readonly why: IgnoredDeploymentWhy;
  /** The rollout in progress that made it moot, when there is one. */
  readonly rollout?: { readonly version: string; readonly phase: RolloutPhase };
}

/** Why something changed, held or was refused: the fields a caller branches on, and the sentence built from them. */
export type Reason = PolicyReason | RolloutReason | DeploymentIgnoredReason;

export interface Transition {
  readonly endpoint: string;
  readonly from: EndpointStatus;
  readonly to: EndpointStatus;
  readonly reason: ReasonCode;
  readonly message: string;
}

export interface WeightChange {
  readonly setIdentifier: string;
  readonly from: number;
  readonly to: number;
}

export const Severities = { INFO: 'info', WARNING: 'warning', CRITICAL: 'critical' } as const;
export type Severity = (typeof Severities)[keyof typeof Severities];

export interface Notification {
  readonly severity: Severity;
  /** The reason that matters most, for subscription filters. */
  readonly reason: ReasonCode;
  /** One line saying what happened. */
  readonly summary: string;
}

export type DecisionMode = 'normal' | 'frozen' | 'pinned' | 'fail-static';

export interface Decision {
  readonly service: string;
  readonly at: EpochMs;
  readonly periodStart: EpochMs;
  readonly mode: DecisionMode;
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  /** The weights Route 53 holds now, as the engine was told. */
  readonly currentWeights: Weights;
  /** The weights policy wants now (after every safety rule). */
  readonly targetWeights: Weights;
  /** The records to write: empty when nothing is to change. */
  readonly changes: readonly WeightChange[];
  /** The change drains a failing endpoint: exempt from the change budget and step bound. */
  readonly emergency: boolean;
  readonly transitions: readonly Transition[];
  readonly reasons: readonly Reason[];
  /** Actions a safety rule or override refused, with why. */
  readonly blocked: readonly Reason[];
  readonly notifications: readonly Notification[];
  /** Rollout outcomes to publish for the pipeline. */
  readonly rolloutEvents: readonly RolloutEvent[];
  /** Capacity to ask of the endpoints' providers, before the weights are written. */
  readonly capacityRequests: readonly CapacityRequest[];
}

/** One ask of an endpoint's capacity provider: hold `to` instances. */
export interface CapacityRequest {
  readonly endpoint: string;
  readonly direction: 'out' | 'in';
  /** What the provider held when it was read. */
  readonly from: number;
  readonly to: number;
  readonly inService: number;
  readonly reason: 'CAPACITY_REQUESTED' | 'CAPACITY_AT_MAX' | 'CAPACITY_RELEASED';
  readonly message: string;
}

export interface DecideInput {
  readonly now: EpochMs;
  readonly observations: ServiceObservations;
  /** State from the last evaluation; undefined on the very first. */
  readonly state: ServiceState | undefined;
  /** What Route 53 holds now; undefined = assume the state's applied weights (or baseline). */
  readonly currentWeights?: Weights;
  /** Deployment events to apply before deciding, oldest first. */
  readonly deployments?: readonly DeploymentSignal[];
  /** States of the drills' guard alarms, by `<region>/<name>` (see guardKey). */
  readonly guardAlarms?: Readonly<Record<string, AlarmState>>;
  /** What the capacity providers report, by SetIdentifier (endpoints with `capacity.scaling`); an endpoint without a reading is not asked for anything. */
  readonly capacity?: Readonly<Record<string, CapacityReading>>;
}

/** The key of a guard alarm's state in `DecideInput.guardAlarms`. */
export function guardKey(guard: GuardAlarm): string {
  return `${guard.region}/${guard.name}`;
}

export interface DecideOutput {
  readonly decision: Decision;
  readonly nextState: ServiceState;
}
