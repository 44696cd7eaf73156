/**
 * Weight planning: from each endpoint's intended fraction of its baseline to the weights that
 * carry it out. Traffic an endpoint sheds has to go somewhere, and Route 53 weights are
 * relative, so "somewhere" is decided here explicitly: healthy actives first, then standbys,
 * then overflow endpoints, never past an endpoint's warm headroom. What no one can take is given
 * back to degraded endpoints (shed less, and say so) — overloading the healthy region too would
 * turn one incident into two. `planTargets` is the decision's plan phase: from the endpoints'
 * states, rollouts and drains to integer weights.
 */
import type { EndpointConfig, Policy, ServiceConfig } from './config.js';
import { atImpairedLoad, countInWindow, dwellOver, extremeBreach, pastTripText, readsPastTrip, trafficFactor } from './hysteresis.js';
import { type PeerLimit, plannedWarm, planningLimit } from './learnedHeadroom.js';
import { untilText } from './overrides.js';
import { phase, type Evaluation, type Phase } from './phase.js';
import { rolloutFactor } from './rollout.js';
import type { EndpointState, EndpointVerdict, Overrides, PolicyReason, Reason, RolloutState, Weights } from './types.js';
import { tailEvidence } from './tailEvidence.js';
import { integerWeights, pct, sharesOf } from './weights.js';

/** Periods of observed demand kept for capacity planning. */
const DEMAND_PERIODS = 5;

/** The weights each endpoint's baseline gives. */
export function baselineWeights(service: ServiceConfig): Weights {
  const weights: Weights = {};
  for (const e of service.endpoints) weights[e.setIdentifier] = e.baselineWeight;
  return weights;
}

export interface PlanInput {
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  readonly rollouts: Readonly<Record<string, RolloutState>>;
  readonly overrides: Overrides;
  /** This period's verdicts, by SetIdentifier (what each endpoint's state machine moved on). */
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  /** The demand capacity is planned against, read once per decision (`plannedDemand`). */
  readonly demand: PlannedDemand;
}

export interface Planned {
  /** Integer weights policy wants, before the safety and anti-flap guards. */
  readonly target: Weights;
  /** The endpoints' states, with each degraded one's shed as far as it could be carried out. */
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  readonly demandHistory: readonly number[];
  /** The demand (requests/s) capacity was planned against; null when unknown. */
  readonly demand: number | null;
  /** What the planner knew of each endpoint, for the capacity handshake to plan with more capacity. */
  readonly planned: readonly PlanEndpoint[];
}

/** The plan phase of a decision: the weights the endpoints' states, rollouts and drains call for, within capacity. */
export function planTargets(ev: Evaluation, input: PlanInput): Phase<Planned> {
  const { service, ids, total } = ev;
  const { demandHistory, demand, typical } = input.demand;
  const drains = Object.entries(input.overrides.drains ?? {}).map(([id, drain]) => ({
    code: 'MAINTENANCE_DRAIN' as const,
    endpoint: id,
    message: `${id} drained for maintenance by ${drain.by}${untilText(drain)}: ${drain.reason}`,
  }));
  const planEnds = planEndpoints(ev, input);
  const planned = planWeights(planEnds, demand, ev.policy, typical);
  const endpoints = shedCarriedOut(service, input, planned.weights);
  const planReasons = planEnds.flatMap((e) => [e.headroom, e.stepWaits].filter((r) => r !== undefined));
  return phase(
    { target: integerWeights(planned.weights, ids, total), endpoints, demandHistory, demand, planned: planEnds },
    { reasons: [...drains, ...planReasons], blocked: planned.blocked },
  );
}

export interface PlannedDemand {
  /** The last few fresh periods' demand, this one's included when fresh: kept in the state. */
  readonly demandHistory: readonly number[];
  /** The busiest of them; null when none is known. */
  readonly demand: number | null;
  /** Their mean: what a receiver carries on average, where a burst is not the question (`burstRoom`); null when none is known. */
  readonly typical: number | null;
}

/**
 * The demand (requests/s) capacity is planned against: the busiest of the last few periods' (one
 * quiet minute, or a region that stopped reporting, must not make the others look roomier than they
 * are), with this period's when its observations are fresh. A period judged again (an alarm's
 * evaluation between two scheduled ones) replaces its own reading rather than adding one: the
 * history is of periods, however often each is read. Null when none is known.
 */
export function plannedDemand(ev: Evaluation, fresh: boolean): PlannedDemand {
  const observedDemand = demandOf(ev);
  const recent = fresh && observedDemand !== null ? [observedDemand] : [];
  const again = recent.length > 0 && ev.previous.lastPeriodStart === ev.observations.periodStart;
  const before = again ? ev.previous.demandHistory.slice(0, -1) : ev.previous.demandHistory;
  const demandHistory = [...before, ...recent].slice(-DEMAND_PERIODS);
  if (demandHistory.length === 0) return { demandHistory, demand: null, typical: null };
  const typical = demandHistory.reduce((sum, d) => sum + d, 0) / demandHistory.length;
  return { demandHistory, demand: Math.max(...demandHistory), typical };
}

/** What the planner needs of each endpoint. */
function planEndpoints(ev: Evaluation, input: PlanInput): PlanEndpoint[] {
  const { policy, total } = ev;
  const currentShares = sharesOf(ev.current, ev.ids);
  const loadLimits = loadLimitsOf(ev, input.endpoints);
  return ev.service.endpoints.map((config) => {
    const id = config.setIdentifier;
    const state = input.endpoints[id]!;
    const limit = rolloutFactor(input.rollouts[id], policy.rollout);
    // Drained for maintenance, or held out by a deployment: not serving, and not to be given traffic back.
    const operatorDrain = input.overrides.drains?.[id] !== undefined;
    const maintenance = operatorDrain || limit === 0;
    const { warmRps, reason: headroom } = warmOf(ev, config, state, loadLimits);
    const current = currentShares[id]! * total;
    const carried = current / Math.max(1e-9, config.baselineWeight);
    const servingAgain = !maintenance && servesAgain(state, current);
    const stepWaits = maintenance ? undefined : stepWaitsOf(id, state, ev, carried, input.verdicts[id]);
    // Its own share: by its state, or what it carries when it serves again; a rollout bounds either.
    const own = servingAgain ? Math.min(1, carried) : ownFactor(state, policy, carried, stepWaits !== undefined);
    return {
      config,
      ...(warmRps !== undefined ? { warmRps } : {}),
      ...(headroom !== undefined ? { headroom } : {}),
      ...(stepWaits !== undefined ? { stepWaits } : {}),
      state,
      maintenance,
      deploying: !operatorDrain && limit === 0 && input.rollouts[id]?.phase === 'deploying',
      factor: maintenance ? 0 : Math.min(own, limit ?? Number.POSITIVE_INFINITY),
      failing: state.status === 'drained' && state.failed === true && !servingAgain,
      current,
      severe: severeInWindow(state, ev.now, policy),
      dwelling: !dwellOver(state, ev.now),
      lateAtAnyShare: lateAtAnyShare(ev, config, state, input.verdicts[id]),
      failsMany: failsMoreThan(ev, config, input.verdicts[id], MANY),
      failsSome: failsMoreThan(ev, config, input.verdicts[id], SOME),
      // By state, not by this period's verdict: one breaching minute must not move traffic (M of N decides).
      receiver: !maintenance && state.status === 'healthy' && input.rollouts[id] === undefined,
    };
  });
}

/**
 * A failing endpoint kept at some weight (the others had no room; its health check kept Route 53
 * from answering with it while it was down) that is clear again serves what Route 53 now sends it:
 * it keeps that until its recovery starts from there, rather than be cut to zero the minute the
 * others have room and raised again at its first recovery step (a flap the clients feel). By
 * state: its last recorded period is clear.
 */
function servesAgain(state: EndpointState, current: number): boolean {
  return state.status === 'drained' && state.failed === true && current > 1e-9 && state.history.at(-1)?.verdict === 'clear';
}

/**
 * Its share of baseline by its state. A recovering endpoint holds what it carries when a step not
 * yet carried out (a flap hold or the deadband kept it back) is not to be carried out now: its step
 * failed, held back from flapping (hysteresis.ts), or the step waits on a period past trip
 * (`stepWaits`, `stepWaitsOf`).
 */
function ownFactor(state: EndpointState, policy: Policy, carried: number, stepWaits: boolean): number {
  const factor = trafficFactor(state, policy);
  if (state.status === 'recovering' && (state.recoveryFailed !== undefined || stepWaits)) return Math.min(factor, carried);
  return factor;
}

/** A step carried within this much of the endpoint's baseline is out: integer weights round it. */
const STEP_CARRIED = 0.02;

/**
 * A recovering endpoint's step taken in an earlier period and not yet written (a flap hold on
 * another endpoint or the deadband kept the change back) is not written on a period in which one of
 * its signals reads past trip, proven or not: the step was taken on a clear period, and this one
 * says the endpoint may be slow at the share it carries. It carries what it carries
 * (`RECOVERY_STEP_WAITS`), and the step goes out on the next period within trip. Not for an
 * endpoint back from failing (errors, down): it is where its traffic belongs, and takes it back as
 * the receivers fill (`planWeights`).
 */
function stepWaitsOf(id: string, state: EndpointState, ev: Evaluation, carried: number, verdict: EndpointVerdict | undefined): PolicyReason | undefined {
  if (state.status !== 'recovering' || state.failed === true || state.recoveryFailed !== undefined || verdict === undefined) return undefined;
  // Taken this period, on this period's verdict: it goes out now.
  if (state.stepSince >= ev.now) return undefined;
  const factor = trafficFactor(state, ev.policy);
  const past = verdict.signals.filter(readsPastTrip);
  // Within STEP_CARRIED of its baseline, the step is out (weights are integers).
  if (factor - carried <= STEP_CARRIED || past.length === 0) return undefined;
  const proven = verdict.verdict === 'breach' ? '' : ', unproven';
  const message = `${id} recovery step to ${pct(factor)} of baseline waits at ${pct(carried)}: ${past.map(pastTripText).join(', ')}${proven}; it goes out on the next period within trip`;
  return { code: 'RECOVERY_STEP_WAITS', endpoint: id, message };
}

/** Warm capacity from the instances in service where a provider says (else as configured), less what the endpoint, or a peer on the same traffic, has shown it cannot take. */
function warmOf(ev: Evaluation, config: EndpointConfig, state: EndpointState, loadLimits: readonly PeerLimit[]): ReturnType<typeof plannedWarm> {
  const id = config.setIdentifier;
  const limit = planningLimit(
    state.learnedLimit,
    loadLimits.filter((l) => l.id !== id),
  );
  return plannedWarm(config, limit, ev.warmNow[id] ?? config.capacity.warmRps);
}

/**
 * The endpoints' limits learned from load, which the others are planned under too
 * (`planningLimit`), read once per decision: learned at `shedding.impairedLoadShare` of the
 * endpoint's planned capacity or more (lower, a slow endpoint is impaired, not busy), with no
 * severe breach in its detection window (a region slow by a severe margin is impaired), and not failing.
 */
function loadLimitsOf(ev: Evaluation, endpoints: Readonly<Record<string, EndpointState>>): PeerLimit[] {
  const { policy, now } = ev;
  return ev.service.endpoints.flatMap((e) => {
    const state = endpoints[e.setIdentifier]!;
    const limit = state.learnedLimit;
    if (limit === undefined || state.failed === true || severeInWindow(state, now, policy)) return [];
    if (limit.utilisation < policy.shedding.impairedLoadShare * e.capacity.targetUtilization) return [];
    return [{ id: e.setIdentifier, limit }];
  });
}

/** Any severe breach among the endpoint's verdicts of the last `detection.window` periods. */
function severeInWindow(state: EndpointState, now: number, policy: Policy): boolean {
  return countInWindow(state.history, now - policy.evaluationPeriodSeconds * 1000, policy).severe > 0;
}

/**
 * A shed the others had no room for did not happen: record what was carried out, so the endpoint
 * stays degraded at what it really sheds instead of drifting to drained on paper.
 */
function shedCarriedOut(service: ServiceConfig, input: PlanInput, weights: Weights): Record<string, EndpointState> {
  const endpoints = { ...input.endpoints };
  for (const e of service.endpoints) {
    const id = e.setIdentifier;
    const state = endpoints[id]!;
    if (state.status === 'degraded' && e.baselineWeight > 0 && input.overrides.drains?.[id] === undefined) {
      const carriedOut = Math.max(0, 1 - weights[id]! / e.baselineWeight / (state.shedFrom ?? 1));
      if (carriedOut < state.shed - 1e-9) endpoints[id] = { ...state, shed: carriedOut };
    }
  }
  return endpoints;
}

/**
 * Requests per second the whole service receives, from the endpoints that report their load,
 * scaled up by the share of traffic they carry (a region that is down often reports nothing).
 * Unknown when the reporting endpoints carry less than half of the traffic.
 */
function demandOf(ev: Evaluation): number | null {
  const shares = sharesOf(ev.current, ev.ids);
  let sum = 0;
  let covered = 0;
  for (const id of ev.ids) {
    const rate = ev.observations.endpoints[id]?.requestRate;
    if (rate === undefined || rate === null || !Number.isFinite(rate) || rate < 0) continue;
    sum += rate;
    covered += shares[id]!;
  }
  return covered >= 0.5 && sum > 0 ? sum / covered : null;
}

export interface PlanEndpoint {
  readonly config: EndpointConfig;
  /** Warm capacity (requests/s) from the instances in service, for an endpoint with a capacity provider; else its configured `warmRps`. */
  readonly warmRps?: number;
  /** Why it is planned below its target utilisation (`HEADROOM_LEARNED`), when it is. */
  readonly headroom?: PolicyReason;
  /** Why its recovery step, not yet written, waits at what it carries (`RECOVERY_STEP_WAITS`), when it does. */
  readonly stepWaits?: PolicyReason;
  readonly state: EndpointState;
  /** Fraction of its baseline the endpoint should carry on its own account (state, overrides). */
  readonly factor: number;
  /** May take traffic others shed (healthy, not drained by an operator). */
  readonly receiver: boolean;
  /** Drained by an operator: kept at zero unless a safety rule needs it. */
  readonly maintenance: boolean;
  /**
   * Held out while it deploys (`drain-during-deploy`), not by an operator: a precaution, bounded by
   * the others' capacity, so what they have no room for stays on it rather than overload them.
   */
  readonly deploying?: boolean;
  /** Failing (errors, hard-down) rather than slow: given traffic only as a last resort, and never more than it has. */
  readonly failing: boolean;
  /** Weight the endpoint carries now, in baseline units (its share of the traffic × the baseline total). */
  readonly current: number;
  /** Severe breaches in its detection window (by its state's history, not this period alone): it is given traffic back after milder ones. */
  readonly severe: boolean;
  /** Within its dwell since it last moved toward less traffic: a slow endpoint is not given more than it carries. */
  readonly dwelling: boolean;
  /**
   * Degraded or drained for slowness, its breach extreme this period while it carries well under
   * its planned capacity: its requests are late whatever share it carries, so the receivers' burst
   * room is used before it is given traffic back.
   */
  readonly lateAtAnyShare?: boolean;
  /**
   * Its per-request error rate this period proves that more than a quarter of its requests fail
   * (`MANY`): kept for lack of room elsewhere, it fails more of what it is given than a receiver in
   * its burst room misses, so that room is used first. Only a failing endpoint's matters.
   */
  readonly failsMany?: boolean;
  /**
   * Its per-request error rate this period proves that more than a tenth of its requests fail
   * (`SOME`): kept for lack of room elsewhere, it fails more of what it is given than a receiver up
   * to its full warm capacity in the busiest minute misses. Only a failing endpoint's matters.
   */
  readonly failsSome?: boolean;
}

export interface PlanResult {
  /** Real-valued weights in baseline units; only their ratios matter. */
  readonly weights: Weights;
  readonly blocked: readonly Reason[];
}

const tiers = ['active', 'standby', 'overflow'] as const;

/**
 * Largest share of all traffic an endpoint may carry: its `maxShare`, and, when demand is known,
 * what its warm capacity can serve at the target utilisation (or at `utilisation`: 1 for its full warm capacity).
 */
export function capacityShare(config: EndpointConfig, demandRps: number | null, warmNow?: number, utilisation = config.capacity.targetUtilization): number {
  const { maxShare } = config.capacity;
  const warmRps = warmNow ?? config.capacity.warmRps;
  if (warmRps === undefined || demandRps === null || demandRps <= 0) return maxShare;
  return Math.min(maxShare, (warmRps * utilisation) / demandRps);
}

/** Weights being planned: what is placed so far, the weight still to place, and what had to give. */
interface Allotment {
  readonly weights: Weights;
  readonly remaining: number;
  readonly blocked: readonly Reason[];
}

/**
 * Plans real-valued weights for one service, against the busiest recent demand (`demandRps`); the
 * typical one (`typicalRps`, by default the same) bounds only the receivers' burst room.
 */
export function planWeights(endpoints: readonly PlanEndpoint[], demandRps: number | null, policy: Policy, typicalRps: number | null = demandRps): PlanResult {
  const total = endpoints.reduce((sum, e) => sum + e.config.baselineWeight, 0);
  const own = ownWeights(endpoints);
  // Hand the freed weight to receivers, tier by tier, each up to its headroom (water-filling). An
  // endpoint back from a hard failure (errors, down; now clear) is where its traffic belongs: it
  // takes it back once the receivers are at their warm capacity, before they keep more than that
  // for carrying it now. (One that was slow may be slow again under load: it takes its steps.)
  const fillTiers = (start: Allotment, current: boolean) =>
    tiers.reduce(
      (allotment, role) =>
        allotment.remaining <= 1e-9
          ? allotment
          : fill(
              endpoints.filter((e) => e.receiver && e.config.role === role),
              allotment,
              total,
              demandRps,
              current,
            ),
      start,
    );
  const returning = endpoints.filter((e) => e.state.failed === true && e.state.status === 'recovering');
  const filled = fillTiers(returning.length > 0 ? restoreRecovering(returning, fillTiers(own, false)) : own, true);
  const placed = filled.remaining > 1e-9 ? giveBackTheRest(endpoints, filled, total, { busiest: demandRps, typical: typicalRps }) : filled;
  const kept = keepMinimumServing(endpoints, placed.weights, total, policy);
  return { weights: kept.weights, blocked: [...placed.blocked, ...kept.blocked] };
}

/**
 * Each endpoint's weight on its own account; what they give up is to be placed. An endpoint above
 * its baseline (a survivor that degraded carrying a failed region's traffic sheds from that load)
 * holds the excess only for want of room elsewhere: when the others' own weights claim it back (the
 * failed region restored), the excess gives way first, rather than every endpoint shrinking alike.
 */
function ownWeights(endpoints: readonly PlanEndpoint[]): Allotment {
  const weights: Weights = {};
  let freed = 0;
  for (const e of endpoints) {
    const own = e.config.baselineWeight * e.factor;
    weights[e.config.setIdentifier] = own;
    freed += e.config.baselineWeight - own;
  }
  const excess = endpoints.reduce((sum, e) => sum + Math.max(0, weights[e.config.setIdentifier]! - e.config.baselineWeight), 0);
  if (freed >= 0 || excess <= 1e-9) return { weights, remaining: freed, blocked: [] };
  // Claimed back: the excess shrinks by what the others' own weights need, no further.
  const cut = Math.min(1, -freed / excess);
  for (const e of endpoints) {
    const id = e.config.setIdentifier;
    const over = weights[id]! - e.config.baselineWeight;
    if (over > 0) weights[id] = weights[id]! - over * cut;
  }
  return { weights, remaining: freed + excess * cut, blocked: [] };
}

/**
 * Degraded or drained for slowness, with an extreme breach this period (a signal proven severe,
 * `detection.extremeExcess` past its trip) while it carries at most `shedding.impairedLoadShare`
 * of its planned capacity: impaired, and its requests late whatever share it keeps. This period's
 * verdict only orders where shed traffic goes; whether the endpoint sheds is its state's business
 * (M of N).
 */
function lateAtAnyShare(ev: Evaluation, config: EndpointConfig, state: EndpointState, verdict: EndpointVerdict | undefined): boolean {
  const utilisation = ev.utilisation[config.setIdentifier];
  if ((state.status !== 'degraded' && state.status !== 'drained') || verdict === undefined || utilisation === null || utilisation === undefined) return false;
  // In shares of its warm capacity: the load it carries against the load it was planned for.
  return extremeBreach(verdict, ev.policy, true) && atImpairedLoad({ rps: utilisation, capacityRps: config.capacity.targetUtilization }, ev.policy);
}

/** The demand the burst room is judged on: the busiest of the last few periods, and their mean. */
interface BurstDemand {
  readonly busiest: number | null;
  readonly typical: number | null;
}

/**
 * A fail-severity per-request share (an error rate) proving, at the policy's confidence, that more
 * than `share` of this period's requests failed (a one-sided binomial test on its count, as its
 * breach is proven: docs/runtime.md, "Tail evidence"), on an endpoint whose health check is read passing.
 */
function failsMoreThan(ev: Evaluation, config: EndpointConfig, verdict: EndpointVerdict | undefined, share: number): boolean {
  // Only while its health check is read passing: a record whose check fails is out of Route 53's
  // answers, so what it keeps moves no client now and is what it serves the moment its check passes
  // (a hard outage's end); one whose check is not read (none on the record, or not read this
  // period, as at the drain itself) is kept as before.
  if (ev.observations.endpoints[config.setIdentifier]?.healthCheck !== 'healthy') return false;
  // The breach's own count (its failed requests of the period's), tested against `share` instead of the trip.
  return (verdict?.signals ?? []).some(
    (s) =>
      s.perRequest === true &&
      s.severity === 'fail' &&
      s.verdict === 'breach' &&
      s.tail !== undefined &&
      tailEvidence(s.tail.samples, s.tail.worse, share, ev.policy.detection.confidence, 1).breach,
  );
}

/**
 * More than this share of its requests failing: more than the receivers miss in their burst room.
 * Measured on the held-out errors worlds (docs/runtime.md, "One failing more than a quarter of its
 * requests"): at a fifth, a region failing 24% on the code trace lost to its receivers' bursts.
 */
const MANY = 0.25;

/**
 * More than this share of its requests failing: more than a receiver misses up to its full warm
 * capacity in the busiest minute. Measured on the held-out errors worlds (docs/runtime.md, "One
 * failing more than a tenth of its requests"): below it, a small receiver at its full warm capacity
 * lost to a region failing 5% of its requests.
 */
const SOME = 0.1;

/**
 * The receivers' burst room, for traffic that would otherwise go back to an endpoint late at any
 * share: past their target utilisation in the busiest minutes, up to the more of their full warm
 * capacity (`warmRps`) at the busiest demand and their target utilisation at the mean one (never
 * past `maxShare`). Planned at the busiest minute alone, a bursty workload keeps a receiver at
 * half its capacity on average (on the code trace the busiest of five minutes is, at the median,
 * 2.3 times their mean; on the conversation trace 1.1) while the late endpoint's requests miss in
 * every minute; at its target utilisation on average, a receiver misses only in the bursts.
 */
function burstRoom(
  endpoints: readonly PlanEndpoint[],
  allotment: Allotment,
  total: number,
  demand: BurstDemand,
  late: readonly PlanEndpoint[],
  why = 'its requests are late at any share',
  atMean = true,
): Allotment {
  const names = late.map((e) => e.config.setIdentifier).join(', ');
  const room = atMean ? 'up to full warm capacity, or target utilisation at the mean demand' : 'up to full warm capacity';
  // Where warm capacity or demand is unknown this is `maxShare`, which the receivers already hold.
  const atTheMean = (e: PlanEndpoint) => (atMean ? capacityShare(e.config, demand.typical, e.warmRps) : 0);
  return giveBack(
    allotment,
    endpoints.filter((e) => e.receiver),
    (receivers) => `running ${receivers} past target utilisation in the busiest minutes (${room}), rather than giving traffic back to ${names}: ${why}`,
    (e) => Math.max(capacityShare(e.config, demand.busiest, e.warmRps, 1), atTheMean(e)) * total,
  );
}

/**
 * Nobody has room. Overloading the healthy endpoints would turn one incident into two (past its
 * knee an LLM server's queue grows without bound), so give the traffic back: first to
 * slow-but-serving endpoints (shed less), and only then, as a last resort, to failing ones — a
 * bounded share of errors is better than every region timing out. Chosen by state, so a noisy
 * signal cannot move weights; the one exception orders, not decides: an endpoint late at any
 * share (an extreme breach this period, at low load) comes after the receivers' burst room.
 */
function giveBackTheRest(endpoints: readonly PlanEndpoint[], filled: Allotment, total: number, demand: BurstDemand): Allotment {
  const recovering = restoreRecovering(endpoints, filled);
  // A slow endpoint gets back at most what it carried when it degraded (it may have been carrying
  // others' traffic then): shedding it into a failing endpoint would turn slow requests into failed ones.
  // Mildly slow ones first: a region a few percent past its trip serves most requests in time, one
  // with severe breaches in its window (most requests late) serves few.
  const slowOnes = endpoints.filter((e) => (e.state.status === 'degraded' || e.state.status === 'drained' || failedStep(e)) && !e.failing && !e.maintenance);
  // Within its dwell, a slow endpoint is not pushed back up to make room for another's shed (that
  // reversal is a flap): the receivers run hot instead. Nor is a drained one, dwell or not: drained,
  // it was too slow at any share it kept, and keeps only what the others cannot take; it gets more
  // by its recovery steps. Traffic an operator's drain or a deployment's hold-out frees is planned,
  // not a change of mind, and may still go back to it.
  const freedByPlan = endpoints.some((e) => e.maintenance);
  const keepsWhatItCarries = (e: PlanEndpoint) => (e.dwelling || failedStep(e) || e.state.status === 'drained') && !freedByPlan;
  const shedLess = (allotment: Allotment, candidates: readonly PlanEndpoint[]) =>
    giveBack(
      allotment,
      candidates,
      (names) => `shedding less from ${names}: the other endpoints have no warm headroom for it`,
      (e) => Math.min(e.config.baselineWeight * Math.max(1, e.state.shedFrom ?? 1), keepsWhatItCarries(e) ? e.current : Number.POSITIVE_INFINITY),
    );
  // One late at any share comes last of the slow ones, after the receivers' burst room: a receiver
  // past its target utilisation still serves most requests in time; that one serves almost none.
  const late = slowOnes.filter((e) => e.lateAtAnyShare === true);
  const slowAtSomeShare = slowOnes.filter((e) => e.lateAtAnyShare !== true);
  const mild = shedLess(
    recovering,
    slowAtSomeShare.filter((e) => !e.severe),
  );
  const severe = shedLess(
    mild,
    slowAtSomeShare.filter((e) => e.severe),
  );
  const slow = late.length > 0 ? shedLess(burstRoom(endpoints, severe, total, demand, late), late) : severe;
  const deploying = keepDeploying(endpoints, slow);
  // One failing more than a quarter of its requests comes after the receivers' burst room, as one late at any share does.
  const failingMany = endpoints.filter((e) => e.failing && !e.maintenance && e.failsMany === true);
  const roomy = failingMany.length > 0 ? burstRoom(endpoints, deploying, total, demand, failingMany, 'more than a quarter of its requests fail') : deploying;
  // One failing more than a tenth comes after the receivers' full warm capacity in the busiest minute
  // alone: the mean term plans them past it in the busiest minutes of a bursty workload.
  const failingSome = endpoints.filter((e) => e.failing && !e.maintenance && e.failsSome === true);
  const warmFull = failingSome.length > 0 ? burstRoom(endpoints, roomy, total, demand, failingSome, 'more than a tenth of its requests fail', false) : roomy;
  // A failing endpoint keeps what it has, never more: traffic moved into it would fail outright.
  const failing = giveBack(
    warmFull,
    endpoints.filter((e) => e.failing && !e.maintenance),
    (names) => `keeping some traffic on failing ${names}: the other endpoints have no warm headroom for it`,
    keptNoMoreThanNow,
  );
  return failing.remaining > 1e-9 ? overloadReceivers(endpoints, failing, total) : failing;
}

/**
 * An endpoint held out while it deploys keeps what the others have no warm headroom for: its drain
 * is a precaution, and a deploy replaces its instances a part at a time, so it serves while the
 * receivers, pushed past their capacity, would turn one planned change into an incident. Never
 * more than it carries now (the drain only goes down during the deploy, so it cannot flap), nor
 * than its baseline.
 */
function keepDeploying(endpoints: readonly PlanEndpoint[], allotment: Allotment): Allotment {
  return giveBack(
    allotment,
    endpoints.filter((e) => e.deploying === true),
    (names) => `keeping ${names} serving while it deploys: the other endpoints have no warm headroom for its share`,
    keptNoMoreThanNow,
  );
}

/** What an endpoint kept for lack of room elsewhere may hold: never more than it carries now, nor than its baseline. */
function keptNoMoreThanNow(e: PlanEndpoint): number {
  return Math.min(e.config.baselineWeight, e.current);
}

/**
 * A recovering endpoint has shown it is healthy again: it takes traffic back first. Up to what it
 * carried when it last shed (it may have been carrying others' traffic then, as a slow one may).
 */
function restoreRecovering(endpoints: readonly PlanEndpoint[], allotment: Allotment): Allotment {
  return giveBack(
    allotment,
    endpoints.filter((e) => e.state.status === 'recovering' && !failedStep(e) && !e.maintenance),
    (names) => `restoring ${names} faster than its recovery steps: the other endpoints have no warm headroom`,
    (e) => e.config.baselineWeight * Math.max(1, e.state.shedFrom ?? 1),
  );
}

/** A recovering endpoint whose step failed, held back from flapping (hysteresis.ts): slow, not shown healthy. */
function failedStep(e: PlanEndpoint): boolean {
  return e.state.status === 'recovering' && e.state.recoveryFailed !== undefined;
}

/**
 * What is left runs the receivers past their target utilisation (into their burst room): placed
 * on them explicitly, or normalising the weights would spread it onto failing ones.
 */
function overloadReceivers(endpoints: readonly PlanEndpoint[], allotment: Allotment, total: number): Allotment {
  const { remaining } = allotment;
  const weights = { ...allotment.weights };
  const receivers = endpoints.filter((e) => e.receiver && weights[e.config.setIdentifier]! > 0);
  const held = receivers.reduce((sum, e) => sum + weights[e.config.setIdentifier]!, 0);
  for (const e of receivers) weights[e.config.setIdentifier] = weights[e.config.setIdentifier]! + (remaining * weights[e.config.setIdentifier]!) / held;
  const share = Math.round((remaining / total) * 100);
  const message =
    receivers.length > 0
      ? `${receivers.map((e) => e.config.setIdentifier).join(', ')} will run past their capacity limits (target utilisation, maxShare): no endpoint has headroom for ${share}% of the traffic`
      : `no endpoint can take the ${share}% of the traffic being shed`;
  return { weights, remaining, blocked: [...allotment.blocked, { code: 'CAPACITY_LIMITED', message }] };
}

/** Returns up to the remaining weight to endpoints below their `ceiling`, in proportion to the room each has. */
function giveBack(allotment: Allotment, candidates: readonly PlanEndpoint[], say: (names: string) => string, ceiling: (e: PlanEndpoint) => number): Allotment {
  const amount = allotment.remaining;
  const rooms = candidates.map((e) => Math.max(0, ceiling(e) - allotment.weights[e.config.setIdentifier]!));
  const room = rooms.reduce((sum, r) => sum + r, 0);
  if (amount <= 1e-9 || room <= 1e-9) return allotment;
  const given = Math.min(room, amount);
  const weights = { ...allotment.weights };
  candidates.forEach((e, i) => {
    weights[e.config.setIdentifier] = weights[e.config.setIdentifier]! + (given * rooms[i]!) / room;
  });
  const names = candidates
    .filter((_, i) => rooms[i]! > 1e-9)
    .map((e) => e.config.setIdentifier)
    .join(', ');
  return { weights, remaining: amount - given, blocked: [...allotment.blocked, { code: 'CAPACITY_LIMITED', message: say(names) }] };
}

function fill(tier: readonly PlanEndpoint[], allotment: Allotment, total: number, demandRps: number | null, current: boolean): Allotment {
  const weights = { ...allotment.weights };
  let remaining = allotment.remaining;
  let open = tier.filter((e) => headroom(e, total, demandRps, weights, current) > 1e-9);
  // Each round either places everything left or fills at least one endpoint to its headroom.
  for (let round = 0; round <= tier.length && remaining > 1e-9 && open.length > 0; round++) {
    const weightOf = receiverShare(open, demandRps);
    const sum = open.reduce((s, e) => s + weightOf(e), 0);
    if (sum <= 0) break;
    const pool = remaining;
    for (const e of open) {
      const id = e.config.setIdentifier;
      const add = Math.min((pool * weightOf(e)) / sum, headroom(e, total, demandRps, weights, current));
      weights[id] = weights[id]! + add;
      remaining -= add;
    }
    open = open.filter((e) => headroom(e, total, demandRps, weights, current) > 1e-9);
  }
  return { weights, remaining, blocked: allotment.blocked };
}

/**
 * What each open endpoint of a tier takes of the freed weight, relatively. By its planned warm capacity
 * (`warmRps × targetUtilization`, from the instances in service where a provider says, less what it
 * or a peer has shown it cannot take) when every open endpoint has one: each receiver's
 * utilisation rises by the same step, so a small region does not take a share of a failed one's
 * traffic that its baseline weight, set for a well service, gives it and its GPUs cannot serve. By
 * baseline weight when one has none, or an unbounded one; a tier of zero-baseline standbys without
 * capacities shares by `maxShare`.
 */
function receiverShare(open: readonly PlanEndpoint[], demandRps: number | null): (e: PlanEndpoint) => number {
  const warm = (e: PlanEndpoint) => e.warmRps ?? e.config.capacity.warmRps;
  const planned = (e: PlanEndpoint) => (warm(e) ?? 0) * e.config.capacity.targetUtilization;
  // Unbounded (the capacity handshake plans as if every instance a region needs were there): by baseline.
  if (open.every((e) => Number.isFinite(warm(e))) && open.some((e) => planned(e) > 0)) return planned;
  if (open.some((e) => e.config.baselineWeight > 0)) return (e) => e.config.baselineWeight;
  return (e) => capacityShare(e.config, demandRps, e.warmRps);
}

/**
 * Room left on a receiver: up to its capacity share, or (with `current`) up to what it carries now
 * when that is more — a healthy endpoint is serving that load, and its signals, not the capacity
 * model, say when it is too much (it degrades and sheds). A noisy demand estimate must not pull
 * traffic off a region that copes with it.
 */
function headroom(e: PlanEndpoint, total: number, demandRps: number | null, weights: Weights, current: boolean): number {
  const byCapacity = capacityShare(e.config, demandRps, e.warmRps) * total;
  const cap = current ? Math.max(byCapacity, Math.min(e.current, e.config.capacity.maxShare * total)) : byCapacity;
  return cap - weights[e.config.setIdentifier]!;
}

/** Keeps `minHealthyEndpoints` serving, and never lets every weight reach zero. */
function keepMinimumServing(endpoints: readonly PlanEndpoint[], planned: Weights, total: number, policy: Policy): { weights: Weights; blocked: Reason[] } {
  const serving = endpoints.filter((e) => planned[e.config.setIdentifier]! > 1e-9).length;
  const needed = Math.max(1, policy.safety.minHealthyEndpoints) - serving;
  if (needed <= 0) return { weights: planned, blocked: [] };
  // The least bad first: slow before failing, operator-drained last, larger baselines first.
  const rank = (e: PlanEndpoint) => (e.maintenance ? 3 : e.state.status === 'drained' ? 2 : 1);
  const kept = endpoints
    .filter((e) => planned[e.config.setIdentifier]! <= 1e-9)
    .sort((a, b) => rank(a) - rank(b) || b.config.baselineWeight - a.config.baselineWeight)
    .slice(0, needed);
  const firstStep = policy.recovery.steps[0]!;
  const weights = { ...planned };
  for (const e of kept) weights[e.config.setIdentifier] = Math.max(e.config.baselineWeight * firstStep, total * 0.01, 1e-6);
  const blocked = kept.map((e) => ({
    code: 'MIN_HEALTHY_ENDPOINTS' as const,
    endpoint: e.config.setIdentifier,
    message: `${e.config.setIdentifier} kept serving at ${Math.round(firstStep * 100)}% of baseline: at least ${policy.safety.minHealthyEndpoints} endpoint(s) must keep traffic`,
  }));
  return { weights, blocked };
}
