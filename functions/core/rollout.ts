/**
 * Deployment rollouts, per endpoint: a pipeline says a deployment started, succeeded, failed or
 * rolled back; steer53 drains the endpoint while it deploys (if the policy says so), ramps the
 * new version in as a canary through held steps, judges each step against the other endpoints as
 * the control, and promotes it or asks the pipeline to roll back.
 *
 * EventBridge delivers at least once and in no particular order, so every event carries an
 * idempotency key and a time: a key seen before is a duplicate, an event older than the newest
 * one applied to the same version is late news, and a "succeeded" with no "started" before it
 * starts the canary anyway. Nothing here waits forever: inconclusive steps are extended a
 * bounded number of times, and a deployment with no outcome times out.
 *
 * Pure, like the rest of the engine: events and time come in, state and reasons go out.
 */
import type { RolloutPolicy } from './config.js';
import type { DeploymentSignal, EndpointVerdict, EpochMs, Notification, Reason, RolloutEvent, RolloutState, SignalVerdict, Weights } from './types.js';

const SEEN_KEYS_KEPT = 32;

export interface RolloutStepResult {
  /** The rollout after the step; undefined when it has ended (promoted, rolled back, timed out). */
  readonly rollout: RolloutState | undefined;
  readonly reasons: readonly Reason[];
  readonly notifications: readonly Notification[];
  readonly events: readonly RolloutEvent[];
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function result(rollout: RolloutState | undefined, reasons: Reason[] = [], notifications: Notification[] = [], events: RolloutEvent[] = []): RolloutStepResult {
  return { rollout, reasons, notifications, events };
}

function remember(rollout: RolloutState, key: string): readonly string[] {
  const seen = [...rollout.seen, key];
  return seen.length > SEEN_KEYS_KEPT ? seen.slice(seen.length - SEEN_KEYS_KEPT) : seen;
}

function startCanary(signal: DeploymentSignal, preDeployFactor: number, seen: readonly string[], since: EpochMs): RolloutState {
  return {
    version: signal.version,
    phase: 'canary',
    since,
    lastEventAt: signal.at,
    step: 0,
    stepSince: since,
    extensions: 0,
    passes: 0,
    fails: 0,
    preDeployFactor,
    ...(signal.pipelineExecutionId ? { pipelineExecutionId: signal.pipelineExecutionId } : {}),
    seen,
  };
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
  const { endpoint, version, phase } = signal;
  const say = (code: Reason['code'], message: string): Reason => ({ code, message, endpoint });
  const ignore = (why: string) => result(rollout, [say('DEPLOYMENT_IGNORED', `${endpoint} ${phase} ${version}: ${why}`)]);
  const by = signal.by ?? (signal.pipelineExecutionId ? `pipeline ${signal.pipelineExecutionId}` : 'the pipeline');

  if (policy.mode === 'none') return ignore('rollout mode is none: recorded, weights untouched');
  if (rollout?.seen.includes(signal.idempotencyKey)) return ignore(`duplicate (idempotency key ${signal.idempotencyKey} already applied)`);
  const sameVersion = rollout !== undefined && rollout.version === version;
  const operator = phase === 'abort' || phase === 'promote';
  if (sameVersion && !operator && signal.at < rollout.lastEventAt) return ignore(`older than the last event applied to ${version} (out of order)`);

  switch (phase) {
    case 'started': {
      if (sameVersion) return ignore(`already ${rollout.phase}`);
      const next: RolloutState = {
        version,
        phase: 'deploying',
        since: now,
        lastEventAt: signal.at,
        step: 0,
        stepSince: now,
        extensions: 0,
        passes: 0,
        fails: 0,
        // A new deployment that supersedes one in progress returns to where the first began.
        preDeployFactor: rollout?.preDeployFactor ?? currentFactor,
        ...(signal.pipelineExecutionId ? { pipelineExecutionId: signal.pipelineExecutionId } : {}),
        seen: rollout ? remember(rollout, signal.idempotencyKey) : [signal.idempotencyKey],
      };
      const what = policy.mode === 'drain-during-deploy' ? 'draining it while it deploys' : 'it keeps serving while it deploys';
      const message = `${endpoint} deploying ${version} (${by}): ${what}`;
      return result(next, [say('DEPLOYMENT_STARTED', message)], [{ severity: 'info', reason: 'DEPLOYMENT_STARTED', summary: `${dnsName}: ${message}` }]);
    }
    case 'succeeded': {
      if (sameVersion && rollout.phase !== 'deploying') return ignore(`already ${rollout.phase}`);
      const seen = rollout ? remember(rollout, signal.idempotencyKey) : [signal.idempotencyKey];
      const next = startCanary(signal, rollout?.preDeployFactor ?? currentFactor, seen, now);
      const early = sameVersion ? '' : ' (no "started" seen first)';
      const message = `${endpoint} deployed ${version}${early}: canary at ${pct(policy.canary.steps[0]!)} of baseline`;
      return result(next, [say('CANARY_STEP', message)], [{ severity: 'info', reason: 'CANARY_STEP', summary: `${dnsName}: ${message}` }]);
    }
    case 'failed': {
      if (!sameVersion) return ignore(rollout ? `the rollout in progress is ${rollout.version}` : 'no rollout in progress');
      if (rollout.phase === 'rolling-back') return ignore('already rolling back');
      const message = `${endpoint} deployment of ${version} failed (${by}); ${policy.onFailure === 'drain' ? 'kept at 0 until it is rolled back' : 'back to its pre-deploy weight'}`;
      const notifications: Notification[] = [{ severity: 'warning', reason: 'DEPLOYMENT_FAILED', summary: `${dnsName}: ${message}` }];
      if (policy.onFailure === 'restore') return result(undefined, [say('DEPLOYMENT_FAILED', message)], notifications);
      return result({ ...rollout, phase: 'rolling-back', since: now, lastEventAt: signal.at, seen: remember(rollout, signal.idempotencyKey) }, [say('DEPLOYMENT_FAILED', message)], notifications);
    }
    case 'rolled-back': {
      if (!rollout) return ignore('no rollout in progress');
      // Any version: the endpoint is back on what it ran before, whatever the event calls it.
      const message = `${endpoint} rolled back from ${rollout.version} (${by}); back to ${pct(rollout.preDeployFactor)} of baseline`;
      return result(undefined, [say('DEPLOYMENT_ROLLED_BACK', message)], [{ severity: 'info', reason: 'DEPLOYMENT_ROLLED_BACK', summary: `${dnsName}: ${message}` }]);
    }
    case 'abort': {
      if (!rollout || rollout.phase === 'rolling-back') return ignore(rollout ? 'already rolling back' : 'no rollout in progress');
      return fail(endpoint, { ...rollout, seen: remember(rollout, signal.idempotencyKey) }, policy, now, dnsName, `aborted by ${by}`);
    }
    case 'promote': {
      if (!rollout || rollout.phase === 'rolling-back') return ignore(rollout ? 'rolling back: promote the next deployment instead' : 'no rollout in progress');
      return succeed(endpoint, rollout, dnsName, `promoted by ${by}`);
    }
  }
}

function fail(endpoint: string, rollout: RolloutState, policy: RolloutPolicy, now: EpochMs, dnsName: string, why: string): RolloutStepResult {
  const message = `${endpoint} canary of ${rollout.version} failed: ${why}; rollback requested, ${policy.onFailure === 'drain' ? 'endpoint kept at 0 until it is rolled back' : 'endpoint back to its pre-deploy weight'}`;
  const event: RolloutEvent = {
    type: 'Rollback Requested',
    endpoint,
    version: rollout.version,
    reason: why,
    ...(rollout.pipelineExecutionId ? { pipelineExecutionId: rollout.pipelineExecutionId } : {}),
  };
  const next = policy.onFailure === 'drain' ? { ...rollout, phase: 'rolling-back' as const, since: now } : undefined;
  return result(next, [{ code: 'ROLLBACK_REQUESTED', message, endpoint }], [{ severity: 'critical', reason: 'ROLLBACK_REQUESTED', summary: `${dnsName}: ${message}` }], [event]);
}

function succeed(endpoint: string, rollout: RolloutState, dnsName: string, why: string): RolloutStepResult {
  const message = `${endpoint} rollout of ${rollout.version} succeeded: ${why}`;
  const event: RolloutEvent = {
    type: 'Rollout Succeeded',
    endpoint,
    version: rollout.version,
    reason: why,
    ...(rollout.pipelineExecutionId ? { pipelineExecutionId: rollout.pipelineExecutionId } : {}),
  };
  return result(undefined, [{ code: 'ROLLOUT_SUCCEEDED', message, endpoint }], [{ severity: 'info', reason: 'ROLLOUT_SUCCEEDED', summary: `${dnsName}: ${message}` }], [event]);
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

export type PeriodJudgement = { readonly outcome: 'pass' | 'fail'; readonly why: string } | { readonly outcome: 'inconclusive'; readonly why: string };

function signalOf(verdict: EndpointVerdict | undefined, name: string | undefined): SignalVerdict | undefined {
  if (!verdict) return undefined;
  if (name !== undefined) return verdict.signals.find((s) => s.signal === name);
  return verdict.signals.find((s) => s.statistic !== null && /^p\d/i.test(s.statistic));
}

/**
 * One period of canary evidence: the canary's latency (and error rate) against the control —
 * the traffic-weighted mean of the other endpoints that carry traffic and have enough samples.
 */
export function judgePeriod(endpoint: string, verdicts: Readonly<Record<string, EndpointVerdict>>, shares: Weights, controls: readonly string[], policy: RolloutPolicy): PeriodJudgement {
  const { canary } = policy;
  const mine = signalOf(verdicts[endpoint], canary.latencySignal);
  if (!mine || mine.value === null) return { outcome: 'inconclusive', why: 'no latency datapoint for the canary' };
  if (mine.sampleCount !== null && mine.sampleCount < canary.minSamples) {
    return { outcome: 'inconclusive', why: `${mine.sampleCount} samples (needs ${canary.minSamples})` };
  }
  const control = weightedMean(controls.map((id) => ({ signal: signalOf(verdicts[id], canary.latencySignal), share: shares[id] ?? 0 })), canary.minSamples);
  if (control === null) return { outcome: 'inconclusive', why: 'no control endpoint with enough samples' };
  const ratio = mine.value / control;
  if (ratio > canary.maxLatencyRatio) {
    return { outcome: 'fail', why: `${mine.signal} ${mine.value.toFixed(0)}${mine.unit} is ${ratio.toFixed(2)}× the control's ${control.toFixed(0)}${mine.unit} (limit ${canary.maxLatencyRatio}×)` };
  }
  if (canary.errorSignal !== undefined) {
    const errors = signalOf(verdicts[endpoint], canary.errorSignal);
    const controlErrors = weightedMean(controls.map((id) => ({ signal: signalOf(verdicts[id], canary.errorSignal), share: shares[id] ?? 0 })), 0);
    if (errors?.value !== null && errors?.value !== undefined && controlErrors !== null && errors.value - controlErrors > canary.maxErrorDelta) {
      return { outcome: 'fail', why: `${errors.signal} ${errors.value} vs the control's ${controlErrors.toFixed(4)} (limit +${canary.maxErrorDelta})` };
    }
  }
  return { outcome: 'pass', why: `${mine.signal} ${ratio.toFixed(2)}× the control` };
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
  let rollout = input.rollout;
  if (rollout.phase !== 'canary') {
    if (now - rollout.since < policy.timeoutSeconds * 1000) return result(rollout);
    const waitingFor = rollout.phase === 'deploying' ? 'no outcome of the deployment' : 'no rollback reported';
    const message = `${endpoint} rollout of ${rollout.version}: ${waitingFor} after ${Math.round(policy.timeoutSeconds / 60)} min; the endpoint returns to policy and its signals will judge it`;
    return result(undefined, [{ code: 'DEPLOYMENT_TIMED_OUT', message, endpoint }], [{ severity: 'critical', reason: 'DEPLOYMENT_TIMED_OUT', summary: `${dnsName}: ${message}` }]);
  }
  if (input.failing) return fail(endpoint, rollout, policy, now, dnsName, 'the canary is failing its own fail-severity signals');
  if (input.judgement?.outcome === 'pass') rollout = { ...rollout, passes: rollout.passes + 1 };
  if (input.judgement?.outcome === 'fail') rollout = { ...rollout, fails: rollout.fails + 1 };
  const { canary } = policy;
  // Judged at the end of the hold, or of its latest extension; evidence gathered since the step
  // began all counts (an extension adds time, it does not throw away what was seen).
  const judgeAt = rollout.judgeAt ?? rollout.stepSince + canary.holdSeconds * 1000;
  if (now < judgeAt) return result(rollout);

  const stepText = `step ${rollout.step + 1} (${pct(canary.steps[rollout.step]!)})`;
  if (rollout.passes + rollout.fails === 0) {
    if (rollout.extensions < canary.maxExtensions) {
      const message = `${endpoint} canary ${stepText} inconclusive (${input.judgement?.why ?? 'no evidence'}): extended (${rollout.extensions + 1} of ${canary.maxExtensions})`;
      return result({ ...rollout, judgeAt: now + canary.holdSeconds * 1000, extensions: rollout.extensions + 1 }, [{ code: 'CANARY_INCONCLUSIVE', message, endpoint }]);
    }
    if (canary.onInconclusive === 'fail') return fail(endpoint, rollout, policy, now, dnsName, `${stepText} had no usable evidence after ${canary.maxExtensions} extensions`);
  } else if (rollout.fails > rollout.passes) {
    const latest = input.judgement?.outcome === 'fail' ? ` (latest: ${input.judgement.why})` : '';
    return fail(endpoint, rollout, policy, now, dnsName, `${stepText}: ${rollout.fails} of ${rollout.passes + rollout.fails} periods worse than the control${latest}`);
  }
  const next = rollout.step + 1;
  if (next >= canary.steps.length) return succeed(endpoint, rollout, dnsName, `every canary step passed against the control`);
  const message = `${endpoint} canary ${stepText} passed (${rollout.passes} of ${rollout.passes + rollout.fails} periods); now ${pct(canary.steps[next]!)} of baseline`;
  const { judgeAt: _done, ...rest } = rollout;
  return result({ ...rest, step: next, stepSince: now, extensions: 0, passes: 0, fails: 0 }, [{ code: 'CANARY_STEP', message, endpoint }]);
}
