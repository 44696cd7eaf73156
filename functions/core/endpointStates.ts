/**
 * The endpoints in a decision: each one's verdict on this period's observations (verdicts.ts),
 * then either fail static — most serving endpoints look bad or unknown at once, so the likelier
 * fault is the observation — or each endpoint's state machine moved on its verdict (hysteresis.ts).
 */
import { lastCutAt, raisedAt } from './guards.js';
import { countInWindow, formatValue, RESTORED_AT_ONCE, relievedByRestore, stepEndpoint, type EndpointLoad, type Peers } from './hysteresis.js';
import { learnLimit } from './learnedHeadroom.js';
import { asClearAsPeers } from './peerTails.js';
import { phase, told, type Evaluation, type Phase, type Said } from './phase.js';
import type { EndpointState, EndpointVerdict, FailStaticNotice, Overrides, Reason, Severity } from './types.js';
import { evaluateEndpoint, needsTraffic } from './verdicts.js';
import { sharesOf } from './weights.js';
import { baselineWeights } from './weightPlanner.js';

export interface Verdicts {
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  /** The observations are not older than ones already seen: new evidence. */
  readonly fresh: boolean;
}

/**
 * Each endpoint's verdict on this period's observations. One given no traffic (drained, drained by
 * an operator, or at weight 0 while another record answers: a recovery's first step not yet
 * written) has no requests to measure, so its percentiles and error alarms are set aside as a
 * drained one's are. An endpoint out of its healthy state whose tail is no worse than its healthy
 * peers' this period is clear (peerTails.ts).
 */
export function verdictsOf(ev: Evaluation): Verdicts {
  const { previous, observations } = ev;
  const verdicts: Record<string, EndpointVerdict> = {};
  const drainedIds = new Set<string>();
  const answering = ev.ids.some((id) => ev.current[id]! > 0);
  for (const e of ev.service.endpoints) {
    const prior = ev.priorEndpoints[e.setIdentifier]!;
    const observed = observations.endpoints[e.setIdentifier];
    const unanswered = answering && ev.current[e.setIdentifier] === 0;
    const drained = prior.status === 'drained' || previous.overrides.drains?.[e.setIdentifier] !== undefined || unanswered;
    if (drained) drainedIds.add(e.setIdentifier);
    const alarmLag = prior.alarmLagUntil !== undefined && ev.now < prior.alarmLagUntil && observed?.healthCheck === 'healthy';
    verdicts[e.setIdentifier] = evaluateEndpoint(e.signals, observed, { drained, alarmLag, rules: ev.policy.detection });
  }
  const judged = asClearAsPeers({ ids: ev.ids, states: ev.priorEndpoints, current: ev.current, verdicts, drained: drainedIds });
  return { verdicts: judged, fresh: previous.lastPeriodStart === null || observations.periodStart >= previous.lastPeriodStart };
}

/** FEW_REQUESTS_HOLD when an error alarm in ALARM was set aside on the few requests behind it (verdicts.ts `fewRequests`). */
function fewRequestsHold(id: string, verdict: EndpointVerdict): Reason | undefined {
  const alarms = verdict.signals.filter((s) => s.unknownCause === 'few-requests');
  const share = verdict.signals.find((s) => s.perRequest === true && s.severity === 'fail');
  if (alarms.length === 0 || share === undefined) return undefined;
  const requests = share.tail
    ? `a period of ${Math.round(share.tail.samples)} requests (${Math.round(share.tail.worse)} failed)`
    : `at most ${alarms[0]!.sampleCount} requests a minute`;
  const trip = share.trip === null ? '' : ` of ${formatValue(share.trip)}${share.unit}`;
  const message = `${id}: ${alarms.map((s) => s.signal).join(', ')} in ALARM on ${requests}: too few for ${share.signal} to prove its trip${trip}; held as a few errors, not failure`;
  return { code: 'FEW_REQUESTS_HOLD', endpoint: id, message };
}

/**
 * Bad for fail static: breaching, or unknown because data is missing. An endpoint unknown only
 * because its percentiles have too few requests to prove anything is not a sign that the
 * observations are broken (a small region is like that every quiet minute). Nor is an alarm in
 * INSUFFICIENT_DATA beside a metric of the same endpoint that has a datapoint this period: the
 * observations arrive, and the alarm (a 10-second latency alarm on a bursty region) had nothing to
 * count in its own short window. In a metric outage no metric of the endpoint has one. Nor is an
 * error alarm set aside on the few requests behind it (`few-requests`).
 */
function looksBad(verdict: EndpointVerdict): boolean {
  if (verdict.verdict === 'breach') return true;
  if (verdict.verdict !== 'unknown') return false;
  const reporting = verdict.signals.some((s) => s.value !== null);
  return verdict.signals.some(
    (s) =>
      s.verdict === 'unknown' && s.unknownCause !== 'low-sample' && s.unknownCause !== 'few-requests' && !(reporting && s.unknownCause === 'insufficient-data'),
  );
}

/**
 * Quiet, not unobserved: the endpoint's load metric counted no request in this very period (a
 * datapoint of zero), and what is unknown is only what needs requests (percentiles, alarms with
 * nothing to count). Its `unknown` holds its state but says nothing of the observations (a bursty
 * service idle for a minute). A host metric missing too (GPU) is a region not reporting: still bad.
 */
function servedNothing(ev: Evaluation, id: string, verdict: EndpointVerdict): boolean {
  return (
    ev.observations.endpoints[id]?.requestsInPeriod === 0 &&
    verdict.verdict === 'unknown' &&
    verdict.signals.every((s) => s.verdict !== 'unknown' || needsTraffic(s))
  );
}

/**
 * Whether the service fails static: more than `failStaticFraction` of its serving endpoints look
 * bad or unknown (an endpoint that served no request this period is neither).
 */
export function failStaticOf(ev: Evaluation, verdicts: Verdicts['verdicts'], overrides: Overrides): Phase<boolean> {
  const { policy, previous, now } = ev;
  const considered = ev.ids.filter((id) => ev.priorEndpoints[id]!.status !== 'drained' && overrides.drains?.[id] === undefined);
  const bad = considered.filter((id) => looksBad(verdicts[id]!) && !servedNothing(ev, id, verdicts[id]!));
  const failStatic = considered.length > 0 && bad.length / considered.length > policy.safety.failStaticFraction;
  if (failStatic) {
    const action = policy.safety.failStaticAction === 'hold' ? 'holding weights' : 'returning to baseline';
    const message = `${bad.length} of ${considered.length} serving endpoints look bad or unknown (${whichBad(bad, verdicts)}): ${likelierFault(bad, verdicts)}; ${action}`;
    const reason = { code: 'FAIL_STATIC' as const, message };
    // Told once, when it has lasted `failStaticNoticeSeconds`; every evaluation while it lasts says why it holds.
    const notice = nextFailStaticNotice(ev, true)!;
    const toldNow = notice.told && !toldBefore(ev);
    const lasted = now > notice.since ? `fail static for ${minutes(now - notice.since)} min` : 'fail static';
    return phase(true, toldNow ? told(reason, 'critical', ev.service.dnsName, `${lasted} — ${message}`) : { reasons: [reason] });
  }
  const next = nextFailStaticNotice(ev, false);
  const endTold = next?.endTold === true && previous.failStaticNotice?.endTold !== true;
  if (previous.failStaticSince !== null) {
    const ended = {
      code: 'FAIL_STATIC_ENDED' as const,
      message: `fail static ended after ${minutes(now - previous.failStaticSince)} min: observations look normal again`,
    };
    return phase(false, endTold ? told(ended, 'info', ev.service.dnsName) : { reasons: [ended] });
  }
  if (!endTold) return phase(false);
  const { since, endedAt } = next as Required<FailStaticNotice>;
  const message = `fail static ended ${minutes(now - endedAt)} min ago, after ${minutes(endedAt - since)} min: observations look normal again`;
  return phase(false, told({ code: 'FAIL_STATIC_ENDED', message }, 'info', ev.service.dnsName));
}

function minutes(ms: number): number {
  return Math.round(ms / 60000);
}

/**
 * What operators will have been told of the service's fail static after this evaluation, given
 * whether it fails static now. One that comes back within `failStaticNoticeSeconds` of its end goes
 * on from where it began (a fail static that keeps ending for a minute is one): it is told once it
 * has lasted `failStaticNoticeSeconds` since then, and its end once it has stayed ended as long.
 * Undefined: never failed static.
 */
export function nextFailStaticNotice(ev: Evaluation, failStatic: boolean): FailStaticNotice | undefined {
  const { previous, now } = ev;
  const last = previous.failStaticNotice;
  const after = ev.policy.safety.failStaticNoticeSeconds * 1000;
  if (failStatic) {
    const since = previous.failStaticSince ?? (resumed(ev) ? last!.since : now);
    return { since, told: toldBefore(ev) || now - since >= after };
  }
  const ended = previous.failStaticSince !== null ? { since: previous.failStaticSince, told: toldBefore(ev), endedAt: now } : last;
  if (ended?.endedAt === undefined || !ended.told || ended.endTold === true || now - ended.endedAt < after) return ended;
  return { ...ended, endTold: true };
}

/** A fail static that ended no more than `failStaticNoticeSeconds` ago, beginning again. */
function resumed(ev: Evaluation): boolean {
  const ended = ev.previous.failStaticNotice?.endedAt;
  return ev.previous.failStaticSince === null && ended !== undefined && ev.now - ended <= ev.policy.safety.failStaticNoticeSeconds * 1000;
}

/**
 * Operators were told of the fail static going on (or resumed) before this evaluation. A state
 * from before `failStaticNotice` (layout 10) failing static was told at its start, as steer53 then did.
 */
function toldBefore(ev: Evaluation): boolean {
  const last = ev.previous.failStaticNotice;
  if (ev.previous.failStaticSince !== null) return last === undefined || last.endedAt !== undefined || last.told;
  return resumed(ev) && last!.told;
}

/** The endpoints behind fail static, breaching and without data apart. */
function whichBad(bad: readonly string[], verdicts: Verdicts['verdicts']): string {
  const breaching = bad.filter((id) => verdicts[id]!.verdict === 'breach');
  const unknown = bad.filter((id) => verdicts[id]!.verdict !== 'breach');
  return [breaching.length > 0 ? `breaching: ${breaching.join(', ')}` : '', unknown.length > 0 ? `no data: ${unknown.join(', ')}` : '']
    .filter((part) => part !== '')
    .join('; ');
}

/** Every one breaching with data is not a sign of broken observations: they share something (demand, a dependency, their clients). */
function likelierFault(bad: readonly string[], verdicts: Verdicts['verdicts']): string {
  return bad.every((id) => verdicts[id]!.verdict === 'breach')
    ? 'more likely something they share (demand, a dependency, their clients) than every region at once'
    : 'more likely the observations than every region';
}

export interface EndpointsStepped {
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  /** Under fail static, an endpoint's own signals brought it (a step) back toward its baseline. */
  readonly restoredUnderFailStatic: boolean;
}

/**
 * Moves each endpoint's state machine on its verdict. Under fail static the evidence is suspect,
 * so nothing sheds on it; but an endpoint whose own signals say it has recovered may still come
 * back, toward baseline. (Holding a drained region out while the others run hot would keep the
 * very overload that made them look bad.)
 */
export function stepEndpoints(ev: Evaluation, judged: Verdicts, failStatic: boolean, demand: number | null): Phase<EndpointsStepped> {
  const baselineShares = sharesOf(baselineWeights(ev.service), ev.ids);
  const carried = carriedFactors(ev, baselineShares);
  const peers = slowPeers(ev, judged);
  const endpoints: Record<string, EndpointState> = {};
  const steps: Partial<Said>[] = [];
  let restoredUnderFailStatic = false;
  for (const [index, id] of ev.ids.entries()) {
    const prior = ev.priorEndpoints[id]!;
    const verdict = judged.verdicts[id]!;
    const { observations, now, policy } = ev;
    const result = stepEndpoint({
      endpoint: id,
      state: prior,
      verdict,
      periodStart: observations.periodStart,
      fresh: judged.fresh,
      now,
      policy,
      carried: carried[id]!,
      ...loadOf(ev, index, demand),
      ...healthCheckOf(ev, id),
      ...cutOf(ev, id),
      baselineShare: baselineShares[id]!,
      ...peersOf(peers, id),
    });
    const restores =
      result.transition?.to === 'recovering' ||
      result.transition?.to === 'healthy' ||
      (prior.status === 'recovering' && result.state.status === 'recovering' && result.state.recoveryStep > prior.recoveryStep);
    // What the endpoint showed of its headroom is evidence too, kept under fail static as its history is.
    const { breaches } = countInWindow(result.state.history, observations.periodStart, policy);
    const limit = learnLimit(prior.learnedLimit, judged.fresh ? result.state.history.at(-1) : undefined, ev.utilisation[id], now, breaches);
    if (failStatic && !restores) {
      // Keep the evidence, move no state: when the fault clears, M-of-N still sees what happened.
      endpoints[id] = withLimit({ ...prior, history: result.state.history }, limit);
      continue;
    }
    if (failStatic) restoredUnderFailStatic = true;
    endpoints[id] = withLimit(result.state, limit);
    // A recovery that failed is news when it is seen, though going back waits (hysteresis.ts `RECOVERY_FAIL_HELD`).
    const failedNow = result.state.recoveryFailed !== undefined && prior.recoveryFailed === undefined;
    for (const hold of result.holds)
      steps.push(failedNow && hold.code === 'RECOVERY_FAIL_HELD' ? told(hold, 'warning', ev.service.dnsName) : { reasons: [hold] });
    if (result.transition) {
      const transition = { endpoint: id, ...result.transition };
      const reason = { code: transition.reason, message: transition.message, endpoint: id };
      steps.push({ transitions: [transition] }, told(reason, severityOf(transition.to), ev.service.dnsName));
    }
    const lagging = verdict.signals.filter((s) => s.unknownCause === 'alarm-lag');
    if (lagging.length > 0) {
      const left = Math.ceil((prior.alarmLagUntil! - now) / 1000);
      const still = lagging.every((s) => s.perRequest !== true) ? 'still in ALARM' : 'still reading failure';
      const message = `${id}: ${lagging.map((s) => s.signal).join(', ')} ${still} just after it was restored: taken for CloudWatch's lag for ${left} s more`;
      steps.push({ reasons: [{ code: 'ALARM_LAG_HOLD', endpoint: id, message }] });
    }
    const few = fewRequestsHold(id, verdict);
    if (few) steps.push({ reasons: [few] });
    if (!result.transition && result.holds.length === 0 && verdict.verdict === 'unknown' && result.state.status === 'healthy') {
      const message = `${id}: no usable data (${unknownSignals(verdict)}); holding its state`;
      steps.push({ reasons: [{ code: 'UNKNOWN_HOLD', endpoint: id, message }] });
    }
  }
  return phase({ endpoints, restoredUnderFailStatic }, ...steps, ...relieveSurvivors(ev, endpoints, steps));
}

/** Survivors that degraded carrying the traffic of a region its health check restored this period are relieved (hysteresis.ts `relievedByRestore`). */
function relieveSurvivors(ev: Evaluation, endpoints: Record<string, EndpointState>, steps: readonly Partial<Said>[]): Partial<Said>[] {
  const restored = steps
    .flatMap((s) => s.transitions ?? [])
    .filter((t) => RESTORED_AT_ONCE.has(t.reason))
    .map((t) => t.endpoint);
  const said: Partial<Said>[] = [];
  if (restored.length === 0) return said;
  for (const id of ev.ids) {
    const relieved = relievedByRestore(id, endpoints[id]!, ev.policy, ev.now, restored);
    if (relieved === undefined) continue;
    endpoints[id] = relieved.state;
    const reason = { code: relieved.transition.reason, message: relieved.transition.message, endpoint: id };
    said.push({ transitions: [{ endpoint: id, ...relieved.transition }] }, told(reason, 'info', ev.service.dnsName));
  }
  return said;
}

function cutOf(ev: Evaluation, id: string): { cutAt?: number; raisedAt?: number } {
  const cutAt = lastCutAt(ev.previous.recentChanges, id);
  const raised = raisedAt(ev.previous.recentChanges, id);
  return { ...(cutAt === undefined ? {} : { cutAt }), ...(raised === undefined ? {} : { raisedAt: raised }) };
}

function healthCheckOf(ev: Evaluation, id: string): { healthCheck?: 'healthy' | 'unhealthy'; healthCheckFailures?: number } {
  const observed = ev.observations.endpoints[id];
  const healthCheck = observed?.healthCheck;
  const failures = observed?.healthCheckFailures;
  return { ...(healthCheck === undefined ? {} : { healthCheck }), ...(failures === undefined ? {} : { healthCheckFailures: failures }) };
}

/**
 * The healthy serving endpoints and which of them were slow (a breach, not a failure) in their own
 * detection window, this period included, and whether every endpoint is healthy (calm); undefined
 * when the observations are not news. Read once per decision: each endpoint's peers are the others.
 */
function slowPeers(ev: Evaluation, judged: Verdicts): { serving: readonly string[]; slow: ReadonlySet<string>; calm: boolean } | undefined {
  if (!judged.fresh) return undefined;
  const calm = ev.ids.every((id) => ev.priorEndpoints[id]!.status === 'healthy');
  const serving = ev.ids.filter((id) => ev.current[id]! > 0 && ev.priorEndpoints[id]!.status === 'healthy');
  // Slow, not failing: errors are an incident of their own, not the workload's noise.
  const slow = serving.filter((id) => {
    const { breaches, fails } = countInWindow(ev.priorEndpoints[id]!.history, ev.observations.periodStart, ev.policy);
    const verdict = judged.verdicts[id]!;
    return breaches > fails || (verdict.verdict === 'breach' && !verdict.failing);
  });
  return { serving, slow: new Set(slow), calm };
}

/** An endpoint's peers: the other healthy serving endpoints, which of them were slow, and whether the service is calm. */
function peersOf(slow: ReturnType<typeof slowPeers>, id: string): { peers?: Peers } {
  if (slow === undefined) return {};
  const others = slow.serving.filter((other) => other !== id);
  return { peers: { serving: others.length, breaching: others.filter((other) => slow.slow.has(other)), calm: slow.calm } };
}

function withLimit(state: EndpointState, limit: EndpointState['learnedLimit']): EndpointState {
  const { learnedLimit: _old, ...rest } = state;
  return limit === undefined ? rest : { ...rest, learnedLimit: limit };
}

/**
 * The endpoint's request rate against its warm capacity, when both are known (`ev.utilisation`),
 * and the service's demand as capacity is planned against it: what a recovery step's headroom is judged on.
 */
function loadOf(ev: Evaluation, index: number, demand: number | null): { load?: EndpointLoad } {
  const id = ev.ids[index]!;
  const config = ev.service.endpoints[index]!;
  const utilisation = ev.utilisation[id];
  const warmRps = ev.warmNow[id] ?? config.capacity.warmRps;
  if (utilisation === null || utilisation === undefined || warmRps === undefined) return {};
  const load = { rps: utilisation * warmRps, capacityRps: warmRps * config.capacity.targetUtilization };
  return { load: demand === null ? load : { ...load, demandRps: demand } };
}

/**
 * What each endpoint carries now, as a fraction of its baseline share: capacity give-back can make
 * it more than its state says, and a recovery step must be judged from what it really carries.
 */
function carriedFactors(ev: Evaluation, baselineShares: Readonly<Record<string, number>>): Record<string, number> {
  const currentShares = sharesOf(ev.current, ev.ids);
  return Object.fromEntries(ev.ids.map((id) => [id, baselineShares[id]! > 0 ? currentShares[id]! / baselineShares[id]! : 0]));
}

function severityOf(to: EndpointState['status']): Severity {
  if (to === 'drained') return 'critical';
  return to === 'healthy' || to === 'recovering' ? 'info' : 'warning';
}

function unknownSignals(verdict: EndpointVerdict): string {
  return verdict.signals
    .filter((s) => s.verdict === 'unknown')
    .map((s) => `${s.signal} ${s.unknownCause}`)
    .join(', ');
}
