/**
 * Deployment rollouts, per endpoint: a pipeline says a deployment started, succeeded, failed or
 * rolled back; steer53 drains the endpoint while it deploys (if the policy says so), ramps the
 * new version in as a canary through held steps, judges each step against the other endpoints as
 * the control, and promotes it or asks the pipeline to roll back.
 *
 * EventBridge delivers at least once and in no particular order, so every event carries an
 * idempotency key and a time: a key applied before is a duplicate (the decision catches those,
 * from the keys its state remembers: deployments.ts), an event older than the newest one applied
 * to the same version is late news, and a "succeeded" with no "started" before it starts the
 * canary anyway. Nothing here waits forever: inconclusive steps are extended a
 * bounded number of times, and a deployment with no outcome times out.
 *
 * Pure, like the rest of the engine: events and time come in, state and reasons go out.
 */
import type { RolloutPolicy } from './config.js';
import { fitSlope, learnedRange, predict, type LoadProfile } from './loadModel.js';
import { pct } from './weights.js';
import type {
  DeploymentIgnoredReason,
  DeploymentSignal,
  EndpointVerdict,
  EpochMs,
  IgnoredDeploymentWhy,
  Notification,
  Reason,
  RolloutEvent,
  RolloutReason,
  RolloutState,
  Severity,
  SignalVerdict,
  Weights,
} from './types.js';

export interface RolloutStepResult {
  /** The rollout after the step; undefined when it has ended (promoted, rolled back, timed out). */
  readonly rollout: RolloutState | undefined;
  readonly reasons: readonly Reason[];
  readonly notifications: readonly Notification[];
  readonly events: readonly RolloutEvent[];
}

function result(rollout: RolloutState | undefined, reasons: Reason[] = [], notifications: Notification[] = [], events: RolloutEvent[] = []): RolloutStepResult {
  return { rollout, reasons, notifications, events };
}

/** A reason of the rollout of `version` on `endpoint`, naming the deployment event that moved it, if one did. */
function rolloutReason(code: RolloutReason['code'], endpoint: string, version: string, message: string, signal?: DeploymentSignal): RolloutReason {
  return { code, message, endpoint, version, ...(signal ? { idempotencyKey: signal.idempotencyKey, phase: signal.phase } : {}) };
}

/** A rollout reason people are told about too. */
function toldResult(
  rollout: RolloutState | undefined,
  reason: RolloutReason,
  severity: Severity,
  dnsName: string,
  events: RolloutEvent[] = [],
): RolloutStepResult {
  return result(rollout, [reason], [{ severity, reason: reason.code, summary: `${dnsName}: ${reason.message}` }], events);
}

/** A deployment event the engine does not act on; the sentence says why, from the fields. */
export function deploymentIgnored(signal: DeploymentSignal, why: IgnoredDeploymentWhy, rollout?: RolloutState): DeploymentIgnoredReason {
  const { endpoint, version, phase, idempotencyKey } = signal;
  const moot =
    rollout && (why === 'already-in-phase' || why === 'other-version' || why === 'rolling-back')
      ? { version: rollout.version, phase: rollout.phase }
      : undefined;
  const message =
    why === 'unknown-endpoint' ? `${phase} ${version} for unknown endpoint ${endpoint}` : `${endpoint} ${phase} ${version}: ${ignoredText(signal, why, moot)}`;
  return { code: 'DEPLOYMENT_IGNORED', message, endpoint, version, phase, idempotencyKey, why, ...(moot ? { rollout: moot } : {}) };
}

function ignoredText(signal: DeploymentSignal, why: Exclude<IgnoredDeploymentWhy, 'unknown-endpoint'>, rollout: DeploymentIgnoredReason['rollout']): string {
  switch (why) {
    case 'duplicate':
      return `duplicate (idempotency key ${signal.idempotencyKey} already applied)`;
    case 'rollout-mode-none':
      return 'rollout mode is none: recorded, weights untouched';
    case 'out-of-order':
      return `older than the last event applied to ${signal.version} (out of order)`;
    case 'already-in-phase':
      return `already ${rollout?.phase}`;
    case 'no-rollout':
      return 'no rollout in progress';
    case 'other-version':
      return `the rollout in progress is ${rollout?.version}`;
    case 'rolling-back':
      return signal.phase === 'promote' ? 'rolling back: promote the next deployment instead' : 'already rolling back';
  }
}

/** One deployment event, with what it is applied to. */
interface Applying {
  readonly signal: DeploymentSignal;
  readonly rollout: RolloutState | undefined;
  readonly policy: RolloutPolicy;
  /** Share of its baseline the endpoint carries now. */
  readonly currentFactor: number;
  readonly now: EpochMs;
  readonly dnsName: string;
  /** Who deployed, as the sentence says it. */
  readonly by: string;
  /** The rollout in progress is of the event's version. */
  readonly sameVersion: boolean;
}

/**
 * Applies one deployment event to an endpoint's rollout. `currentFactor` is the share of its
 * baseline the endpoint carries now (to return to after the rollout); `now` is when it is applied.
 */
export function applyDeployment(
  rollout: RolloutState | undefined,
  signal: DeploymentSignal,
  policy: RolloutPolicy,
  currentFactor: number,
  now: EpochMs,
  dnsName: string,
): RolloutStepResult {
  const ignore = (why: IgnoredDeploymentWhy) => result(rollout, [deploymentIgnored(signal, why, rollout)]);
  if (policy.mode === 'none') return ignore('rollout-mode-none');
  const sameVersion = rollout !== undefined && rollout.version === signal.version;
  const operator = signal.phase === 'abort' || signal.phase === 'promote';
  if (sameVersion && !operator && signal.at < rollout.lastEventAt) return ignore('out-of-order');
  const by = signal.by ?? (signal.pipelineExecutionId ? `pipeline ${signal.pipelineExecutionId}` : 'the pipeline');
  const applying: Applying = { signal, rollout, policy, currentFactor, now, dnsName, by, sameVersion };
  switch (signal.phase) {
    case 'started':
      return sameVersion ? ignore('already-in-phase') : deploymentStarted(applying);
    case 'succeeded':
      return sameVersion && rollout.phase !== 'deploying' ? ignore('already-in-phase') : deploymentSucceeded(applying);
    case 'failed':
      if (!rollout) return ignore('no-rollout');
      if (!sameVersion) return ignore('other-version');
      return rollout.phase === 'rolling-back' ? ignore('rolling-back') : deploymentFailed(applying, rollout);
    case 'rolled-back':
      return rollout ? rolledBack(applying, rollout) : ignore('no-rollout');
    case 'abort':
      if (!rollout) return ignore('no-rollout');
      if (rollout.phase === 'rolling-back') return ignore('rolling-back');
      return fail(signal.endpoint, rollout, policy, now, dnsName, `aborted by ${by}`, signal);
    case 'promote':
      if (!rollout) return ignore('no-rollout');
      return rollout.phase === 'rolling-back' ? ignore('rolling-back') : succeed(signal.endpoint, rollout, dnsName, `promoted by ${by}`, signal);
  }
}

/**
 * The event's version entering `phase` now. A new deployment that supersedes one in progress
 * returns to where the first began, and is judged against the endpoints as they ran before it.
 */
function entering(phase: 'deploying' | 'canary', { signal, rollout, currentFactor, now }: Applying): RolloutState {
  return {
    version: signal.version,
    phase,
    since: now,
    lastEventAt: signal.at,
    step: 0,
    stepSince: now,
    extensions: 0,
    preDeployFactor: rollout?.preDeployFactor ?? currentFactor,
    ...(rollout?.loadReference ? { loadReference: rollout.loadReference } : {}),
    ...(signal.pipelineExecutionId ? { pipelineExecutionId: signal.pipelineExecutionId } : {}),
  };
}

function deploymentStarted(applying: Applying): RolloutStepResult {
  const { signal, policy, dnsName, by } = applying;
  const { endpoint, version } = signal;
  const next = entering('deploying', applying);
  const what = policy.mode === 'drain-during-deploy' ? 'draining it while it deploys' : 'it keeps serving while it deploys';
  const reason = rolloutReason('DEPLOYMENT_STARTED', endpoint, version, `${endpoint} deploying ${version} (${by}): ${what}`, signal);
  return toldResult(next, reason, 'info', dnsName);
}

/** The deployment is done: its canary starts, even with no "started" seen first. */
function deploymentSucceeded(applying: Applying): RolloutStepResult {
  const { signal, policy, dnsName, sameVersion } = applying;
  const { endpoint, version } = signal;
  // The endpoints as they ran before the deployment began, not as they run while it deploys.
  const next = entering('canary', applying);
  const early = sameVersion ? '' : ' (no "started" seen first)';
  const message = `${endpoint} deployed ${version}${early}: canary at ${pct(policy.canary.steps[0]!)} of baseline`;
  return toldResult(next, rolloutReason('CANARY_STEP', endpoint, version, message, signal), 'info', dnsName);
}

function deploymentFailed({ signal, policy, now, dnsName, by }: Applying, rollout: RolloutState): RolloutStepResult {
  const { endpoint, version } = signal;
  const then = policy.onFailure === 'drain' ? 'kept at 0 until it is rolled back' : 'back to its pre-deploy weight';
  const reason = rolloutReason('DEPLOYMENT_FAILED', endpoint, version, `${endpoint} deployment of ${version} failed (${by}); ${then}`, signal);
  if (policy.onFailure === 'restore') return toldResult(undefined, reason, 'warning', dnsName);
  const next: RolloutState = { ...rollout, phase: 'rolling-back', since: now, lastEventAt: signal.at };
  return toldResult(next, reason, 'warning', dnsName);
}

/** Any version: the endpoint is back on what it ran before, whatever the event calls it. */
function rolledBack({ signal, dnsName, by }: Applying, rollout: RolloutState): RolloutStepResult {
  const { endpoint } = signal;
  const message = `${endpoint} rolled back from ${rollout.version} (${by}); back to ${pct(rollout.preDeployFactor)} of baseline`;
  return toldResult(undefined, rolloutReason('DEPLOYMENT_ROLLED_BACK', endpoint, rollout.version, message, signal), 'info', dnsName);
}

function fail(
  endpoint: string,
  rollout: RolloutState,
  policy: RolloutPolicy,
  now: EpochMs,
  dnsName: string,
  why: string,
  signal?: DeploymentSignal,
): RolloutStepResult {
  const then = policy.onFailure === 'drain' ? 'endpoint kept at 0 until it is rolled back' : 'endpoint back to its pre-deploy weight';
  const message = `${endpoint} canary of ${rollout.version} failed: ${why}; rollback requested, ${then}`;
  const event: RolloutEvent = {
    type: 'Rollback Requested',
    endpoint,
    version: rollout.version,
    reason: why,
    ...(rollout.pipelineExecutionId ? { pipelineExecutionId: rollout.pipelineExecutionId } : {}),
  };
  const next = policy.onFailure === 'drain' ? { ...rollout, phase: 'rolling-back' as const, since: now } : undefined;
  return toldResult(next, rolloutReason('ROLLBACK_REQUESTED', endpoint, rollout.version, message, signal), 'critical', dnsName, [event]);
}

function succeed(endpoint: string, rollout: RolloutState, dnsName: string, why: string, signal?: DeploymentSignal): RolloutStepResult {
  const message = `${endpoint} rollout of ${rollout.version} succeeded: ${why}`;
  const event: RolloutEvent = {
    type: 'Rollout Succeeded',
    endpoint,
    version: rollout.version,
    reason: why,
    ...(rollout.pipelineExecutionId ? { pipelineExecutionId: rollout.pipelineExecutionId } : {}),
  };
  return toldResult(undefined, rolloutReason('ROLLOUT_SUCCEEDED', endpoint, rollout.version, message, signal), 'info', dnsName, [event]);
}

/** Share of its baseline the rollout lets the endpoint carry; null when the rollout does not limit it. */
export function rolloutFactor(rollout: RolloutState | undefined, policy: RolloutPolicy): number | null {
  if (!rollout) return null;
  switch (rollout.phase) {
    case 'deploying':
      return policy.mode === 'drain-during-deploy' ? 0 : null;
    case 'canary':
      return policy.canary.steps[Math.min(rollout.step, policy.canary.steps.length - 1)]!;
    case 'rolling-back':
      return 0;
  }
}

/**
 * One period's evidence. A judged period carries the canary's latency over what is expected of it
 * (`ratio`), so a step is decided on all of its periods together; `errors` marks a period whose
 * error rate exceeded the control's by more than the policy allows.
 */
export type PeriodJudgement =
  | { readonly outcome: 'pass' | 'fail'; readonly why: string; readonly ratio: number; readonly errors?: boolean }
  | { readonly outcome: 'inconclusive'; readonly why: string };

/** Periods of an endpoint's latency against load needed before its line is used. */
export const LOAD_MATCH_MIN_PERIODS = 10;
/** Largest standard error, relative to the expectation, of a load-matched comparison. */
export const LOAD_MATCH_MAX_ERROR = 0.05;

/** What the judge knows about load: this period's utilisation and each endpoint's learned latency against load. */
export interface LoadEvidence {
  /** Requests per second over warm capacity this period, by SetIdentifier; null when unknown. */
  readonly utilisation: Readonly<Record<string, number | null>>;
  /** Latency against utilisation for the rollout's latency signal, by SetIdentifier, as learned so far (for the slope). */
  readonly profiles: Readonly<Record<string, LoadProfile | undefined>>;
  /** The same as they were when the rollout began (for the levels), when it began with any. */
  readonly reference?: Readonly<Record<string, LoadProfile | undefined>>;
  /**
   * Each endpoint's planned utilisation (`capacity.targetUtilization`), by SetIdentifier: its line
   * was learned below it, so a control running past it is off its line (queues form), and says
   * nothing of how the traffic runs.
   */
  readonly knees?: Readonly<Record<string, number>>;
}

function signalOf(verdict: EndpointVerdict | undefined, name: string | undefined): SignalVerdict | undefined {
  if (!verdict) return undefined;
  if (name !== undefined) return verdict.signals.find((s) => s.signal === name);
  return verdict.signals.find((s) => s.statistic !== null && /^p\d/i.test(s.statistic));
}

/** The latency signal a rollout judges: the one carrying the canary's reading, else the named one, else the endpoint's first percentile signal. */
export function latencySignalOf(verdict: EndpointVerdict | undefined, policy: RolloutPolicy): SignalVerdict | undefined {
  return verdict?.signals.find((s) => s.canaryReading === true) ?? signalOf(verdict, policy.canary.latencySignal);
}

/** A latency reading's name in a message: the signal, and the statistic when it is the canary's own (`p99-ttft at p50`). */
function readingName(signal: SignalVerdict): string {
  return signal.canaryReading === true && signal.statistic !== null ? `${signal.signal} at ${signal.statistic}` : signal.signal;
}

type Expectation = { readonly value: number; readonly what: string } | { readonly value: null; readonly why: string };

/**
 * The latency the control would show at the canary's load: the canary endpoint's own line
 * (learned before the deploy) at the canary's utilisation, times how the controls run against
 * their lines now. Null, with why, when the lines cannot be trusted for it.
 */
function loadMatchedExpectation(
  endpoint: string,
  verdicts: Readonly<Record<string, EndpointVerdict>>,
  shares: Weights,
  controls: readonly string[],
  policy: RolloutPolicy,
  load: LoadEvidence,
  /** No control has a datapoint to compare with: the canary's own line is all there is. */
  alone: boolean,
): Expectation {
  const unit = latencySignalOf(verdicts[endpoint], policy)?.unit ?? '';
  const at = load.utilisation[endpoint];
  if (at === null || at === undefined) return { value: null, why: 'no request rate for the canary' };
  const levels = load.reference ?? load.profiles;
  const own = levels[endpoint];
  if (!own || own.n < LOAD_MATCH_MIN_PERIODS) {
    return {
      value: null,
      why: `${own ? own.n.toFixed(0) : 0} periods of ${endpoint}'s latency against load before the deploy (needs ${LOAD_MATCH_MIN_PERIODS})`,
    };
  }
  const fit = fitSlope(Object.values(load.profiles).filter((p): p is LoadProfile => p !== undefined));
  if (!fit) return { value: null, why: 'utilisation has not varied enough to learn how latency follows it' };
  const expected = predict(own, fit, at);
  if (expected.value <= 0 || expected.error / expected.value > LOAD_MATCH_MAX_ERROR) {
    return {
      value: null,
      why: `the expectation at ${pct(at)} utilisation is ±${expected.value > 0 ? pct(expected.error / expected.value) : '∞'} uncertain (at most ±${pct(LOAD_MATCH_MAX_ERROR)})`,
    };
  }
  let observed = 0;
  let predicted = 0;
  const offLine: string[] = [];
  for (const id of controls) {
    const signal = latencySignalOf(verdicts[id], policy);
    const profile = levels[id];
    const u = load.utilisation[id];
    const share = shares[id] ?? 0;
    if (!signal || signal.value === null || share <= 0 || !profile || profile.n < LOAD_MATCH_MIN_PERIODS || u === null || u === undefined) continue;
    if (signal.sampleCount !== null && signal.sampleCount < policy.canary.minSamples) continue;
    const off = offItsLine(id, u, profile, load);
    if (off !== null) {
      offLine.push(off);
      continue;
    }
    observed += signal.value * share;
    predicted += predict(profile, fit, u).value * share;
  }
  if (predicted <= 0 && (alone || offLine.length > 0)) {
    // No endpoint serves as a control (each is degraded, deploying, without samples, or off its
    // line): the canary's own line, unscaled.
    const why = alone ? 'no control to scale it by' : `${offLine.join(', ')}: off their lines`;
    return { value: expected.value, what: `${endpoint}'s own line at the canary's ${pct(at)} utilisation: ${expected.value.toFixed(0)}${unit} (${why})` };
  }
  if (predicted <= 0) return { value: null, why: 'no control endpoint with a learned line and enough samples' };
  const running = observed / predicted;
  const value = expected.value * running;
  return {
    value,
    what: `the control at the canary's ${pct(at)} utilisation: ${value.toFixed(0)}${unit} (${endpoint}'s line ${expected.value.toFixed(0)}${unit}, controls at ${running.toFixed(2)}× their lines)`,
  };
}

/**
 * Why a control's line says nothing of how the traffic runs now, or null when it does. Past its
 * planned utilisation queues form; outside the loads its line was learned on (its mean load ± two
 * standard deviations) the straight line is extrapolated, and an LLM server's latency is convex in
 * load: the controls carrying a canary's shed share run hotter than they ever did while it was
 * learned, read well above their lines, and would inflate the canary's expectation by as much.
 */
function offItsLine(id: string, u: number, profile: LoadProfile, load: LoadEvidence): string | null {
  const knee = load.knees?.[id];
  if (knee !== undefined && u > knee) return `${id} past planned utilisation`;
  const range = learnedRange(profile);
  if (u > range.high || u < range.low) return `${id} at ${pct(u)} (learned on ${pct(Math.max(0, range.low))}-${pct(range.high)})`;
  return null;
}

/**
 * One period of canary evidence: the canary's latency (and error rate) against the control.
 * Latency is compared at the canary's load when the learned lines allow it (see loadModel.ts);
 * otherwise against the traffic-weighted mean of the controls as they run, which can only catch
 * a canary slower than controls that are busier than it — the reason says which was used.
 */
export function judgePeriod(
  endpoint: string,
  verdicts: Readonly<Record<string, EndpointVerdict>>,
  shares: Weights,
  controls: readonly string[],
  policy: RolloutPolicy,
  load?: LoadEvidence,
): PeriodJudgement {
  const { canary } = policy;
  const mine = latencySignalOf(verdicts[endpoint], policy);
  if (!mine || mine.value === null) return { outcome: 'inconclusive', why: 'no latency datapoint for the canary' };
  if (mine.sampleCount !== null && mine.sampleCount < canary.minSamples) {
    return { outcome: 'inconclusive', why: `${mine.sampleCount} samples (needs ${canary.minSamples})` };
  }
  const control = weightedMean(
    controls.map((id) => ({ signal: latencySignalOf(verdicts[id], policy), share: shares[id] ?? 0 })),
    canary.minSamples,
  );
  const matched = load
    ? loadMatchedExpectation(endpoint, verdicts, shares, controls, policy, load, control === null)
    : ({ value: null, why: 'no load evidence' } as const);
  if (matched.value === null && control === null) return { outcome: 'inconclusive', why: 'no control endpoint with enough samples' };
  const expected = matched.value ?? control!;
  const against = matched.value !== null ? matched.what : `the control's ${control!.toFixed(0)}${mine.unit} as it runs (not load-matched: ${matched.why})`;
  const ratio = mine.value / expected;
  if (canary.errorSignal !== undefined) {
    const errors = signalOf(verdicts[endpoint], canary.errorSignal);
    const controlErrors = weightedMean(
      controls.map((id) => ({ signal: signalOf(verdicts[id], canary.errorSignal), share: shares[id] ?? 0 })),
      0,
    );
    if (errors?.value !== null && errors?.value !== undefined && controlErrors !== null && errors.value - controlErrors > canary.maxErrorDelta) {
      return {
        outcome: 'fail',
        ratio,
        errors: true,
        why: `${errors.signal} ${errors.value} vs the control's ${controlErrors.toFixed(4)} (limit +${canary.maxErrorDelta})`,
      };
    }
  }
  const text = `${readingName(mine)} ${mine.value.toFixed(0)}${mine.unit} is ${ratio.toFixed(2)}× ${against}`;
  return ratio > canary.maxLatencyRatio ? { outcome: 'fail', ratio, why: `${text} (limit ${canary.maxLatencyRatio}×)` } : { outcome: 'pass', ratio, why: text };
}

function weightedMean(items: readonly { signal: SignalVerdict | undefined; share: number }[], minSamples: number): number | null {
  let sum = 0;
  let weight = 0;
  for (const { signal, share } of items) {
    if (!signal || signal.value === null || share <= 0) continue;
    if (minSamples > 0 && signal.sampleCount !== null && signal.sampleCount < minSamples) continue;
    sum += signal.value * share;
    weight += share;
  }
  return weight > 0 ? sum / weight : null;
}

export interface AdvanceInput {
  readonly endpoint: string;
  readonly rollout: RolloutState;
  readonly policy: RolloutPolicy;
  readonly now: EpochMs;
  /** A new period's evidence, or null when there is none to count (stale, fail static). */
  readonly judgement: PeriodJudgement | null;
  /** The endpoint's own verdict is failing (a fail-severity signal): no need to wait for the hold. */
  readonly failing: boolean;
  readonly dnsName: string;
}

/** Moves a rollout on with time and this period's evidence. */
export function advanceRollout(input: AdvanceInput): RolloutStepResult {
  const { endpoint, policy, now, dnsName } = input;
  if (input.rollout.phase !== 'canary') return timeOut(input);
  if (input.failing) return fail(endpoint, input.rollout, policy, now, dnsName, 'the canary is failing its own fail-severity signals');
  const rollout = withJudgement(input.rollout, input.judgement);
  // Judged at the end of the hold, or of its latest extension; evidence gathered since the step
  // began all counts (an extension adds time, it does not throw away what was seen).
  const judgeAt = rollout.judgeAt ?? rollout.stepSince + policy.canary.holdSeconds * 1000;
  if (now < judgeAt) return result(rollout);
  return (rollout.ratios?.n ?? 0) === 0 ? judgeWithoutEvidence(input, rollout) : judgeOnEvidence(input, rollout);
}

/** Nothing waits forever: a deployment with no outcome, or a rollback never reported, times out. */
function timeOut({ endpoint, policy, now, dnsName, rollout }: AdvanceInput): RolloutStepResult {
  if (now - rollout.since < policy.timeoutSeconds * 1000) return result(rollout);
  const waitingFor = rollout.phase === 'deploying' ? 'no outcome of the deployment' : 'no rollback reported';
  const message = `${endpoint} rollout of ${rollout.version}: ${waitingFor} after ${Math.round(policy.timeoutSeconds / 60)} min; the endpoint returns to policy and its signals will judge it`;
  return toldResult(undefined, rolloutReason('DEPLOYMENT_TIMED_OUT', endpoint, rollout.version, message), 'critical', dnsName);
}

/** The step's evidence with this period's judgement counted, when it was judged. */
function withJudgement(rollout: RolloutState, judged: PeriodJudgement | null): RolloutState {
  if (!judged || judged.outcome === 'inconclusive') return rollout;
  const ratios = rollout.ratios ?? { n: 0, sum: 0, sumSquares: 0 };
  return {
    ...rollout,
    errorFails: (rollout.errorFails ?? 0) + (judged.errors ? 1 : 0),
    ratios: { n: ratios.n + 1, sum: ratios.sum + judged.ratio, sumSquares: ratios.sumSquares + judged.ratio * judged.ratio },
  };
}

function stepText(rollout: RolloutState, policy: RolloutPolicy): string {
  return `step ${rollout.step + 1} (${pct(policy.canary.steps[rollout.step]!)})`;
}

/** The step is held longer, its evidence kept. */
function extend(input: AdvanceInput, rollout: RolloutState, what: string): RolloutStepResult {
  const { canary } = input.policy;
  const message = `${input.endpoint} canary ${stepText(rollout, input.policy)} ${what}: extended (${rollout.extensions + 1} of ${canary.maxExtensions})`;
  const next = { ...rollout, judgeAt: input.now + canary.holdSeconds * 1000, extensions: rollout.extensions + 1 };
  return result(next, [rolloutReason('CANARY_INCONCLUSIVE', input.endpoint, rollout.version, message)]);
}

/** A step with no usable period: extended while the policy allows, then failed or passed as it says. */
function judgeWithoutEvidence(input: AdvanceInput, rollout: RolloutState): RolloutStepResult {
  const { endpoint, policy, now, dnsName } = input;
  const { canary } = policy;
  const step = stepText(rollout, policy);
  if (rollout.extensions < canary.maxExtensions) return extend(input, rollout, `inconclusive (${input.judgement?.why ?? 'no evidence'})`);
  if (canary.onInconclusive === 'fail')
    return fail(endpoint, rollout, policy, now, dnsName, `${step} had no usable evidence after ${canary.maxExtensions} extensions`);
  const next = rollout.step + 1;
  if (next >= canary.steps.length) return succeed(endpoint, rollout, dnsName, 'the last step passed on no evidence, as the policy allows');
  const message = `${endpoint} canary ${step} passed on no evidence, as the policy allows; now ${pct(canary.steps[next]!)} of baseline`;
  return result(nextStep(rollout, now), [rolloutReason('CANARY_STEP', endpoint, rollout.version, message)]);
}

/** A step judged on its periods: errors first, then latency against the control. */
function judgeOnEvidence(input: AdvanceInput, rollout: RolloutState): RolloutStepResult {
  const { endpoint, policy, now, dnsName } = input;
  const { canary } = policy;
  const step = stepText(rollout, policy);
  const periods = rollout.ratios!.n;
  const errorFails = rollout.errorFails ?? 0;
  if (errorFails * 2 > periods)
    return fail(endpoint, rollout, policy, now, dnsName, `${step}: ${errorFails} of ${periods} periods with more errors than the control allows`);
  const latency = latencyVerdict(rollout.ratios!, canary.maxLatencyRatio);
  const evidence = `latency ${latency.text} the control's over ${periods} period${periods === 1 ? '' : 's'} (limit ${canary.maxLatencyRatio}×)`;
  if (latency.verdict === 'unsure' && rollout.extensions < canary.maxExtensions) return extend(input, rollout, `too close to call (${evidence})`);
  if (latency.verdict === 'unsure' && canary.onInconclusive === 'fail') {
    return fail(endpoint, rollout, policy, now, dnsName, `${step} still too close to call after ${canary.maxExtensions} extensions: ${evidence}`);
  }
  if (latency.verdict === 'worse' || (latency.verdict === 'unsure' && latency.mean > canary.maxLatencyRatio)) {
    const judged = input.judgement;
    const latest = judged?.outcome === 'fail' ? `; latest: ${judged.why}` : '';
    return fail(endpoint, rollout, policy, now, dnsName, `${step}: ${evidence}${latest}`);
  }
  const next = rollout.step + 1;
  if (next >= canary.steps.length) return succeed(endpoint, rollout, dnsName, `every canary step passed against the control (last: ${evidence})`);
  const message = `${endpoint} canary ${step} passed (${evidence}); now ${pct(canary.steps[next]!)} of baseline`;
  return result(nextStep(rollout, now), [rolloutReason('CANARY_STEP', endpoint, rollout.version, message)]);
}

/** The rollout at the start of its next step, with the last step's evidence cleared. */
function nextStep(rollout: RolloutState, now: EpochMs): RolloutState {
  const { judgeAt: _judgeAt, ratios: _ratios, errorFails: _errorFails, ...rest } = rollout;
  return { ...rest, step: rollout.step + 1, stepSince: now, extensions: 0 };
}

/**
 * A step's latency verdict from its periods' ratios: `worse` when the mean is above the limit by
 * more than one standard error, `fine` when below it by as much, else `unsure` (one period, or too
 * close to call) — which extends the step while the policy allows, then goes by the mean.
 */
function latencyVerdict(
  ratios: { readonly n: number; readonly sum: number; readonly sumSquares: number },
  limit: number,
): { verdict: 'worse' | 'fine' | 'unsure'; mean: number; text: string } {
  const mean = ratios.sum / ratios.n;
  if (ratios.n < 2) return { verdict: 'unsure', mean, text: `${mean.toFixed(2)}× (one period)` };
  const variance = Math.max(0, (ratios.sumSquares - ratios.n * mean * mean) / (ratios.n - 1));
  const error = Math.sqrt(variance / ratios.n);
  const text = `${mean.toFixed(2)}× ± ${error.toFixed(2)}`;
  if (mean - error > limit) return { verdict: 'worse', mean, text };
  if (mean + error <= limit) return { verdict: 'fine', mean, text };
  return { verdict: 'unsure', mean, text };
}
