/**
 * The rules a planned change must pass before it is written, most authoritative first.
 *   Safety: a pin sets the weights; a freeze holds them; fail static holds (or returns to
 *   baseline); with nothing known this period nothing moves; no evaluation moves more than the
 *   step bound; and Route 53 is never left with every weight at zero.
 *   Anti-flap: the rebalance deadband, the weight deadband, the flap guard and the change budget.
 */
import type { Policy } from './config.js';
import { untilText } from './overrides.js';
import { notice, phase, type Evaluation, type Phase, type Said } from './phase.js';
import type { DecisionMode, EndpointVerdict, Overrides, Reason, RecentChange, RolloutState, ServiceState, Transition, WeightChange, Weights } from './types.js';
import { changesBetween, formatWeights, integerWeights, pct, sameWeights, shareMoved, sharesOf } from './weights.js';
import { baselineWeights } from './weightPlanner.js';

const HOUR_MS = 3_600_000;

export interface SafetyInput {
  readonly target: Weights;
  readonly overrides: Overrides;
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  readonly failStatic: boolean;
  /** Under fail static, an endpoint's own signals brought it back toward its baseline. */
  readonly restoredUnderFailStatic: boolean;
  /** Exempt from the step bound (see isEmergency). */
  readonly emergency: boolean;
  /** The rollouts as this decision leaves them, by SetIdentifier. */
  readonly rollouts?: Readonly<Record<string, RolloutState>>;
}

export interface Guarded {
  readonly mode: DecisionMode;
  readonly target: Weights;
}

/**
 * An emergency is not budgeted and not bounded: the drain of an endpoint found failing in this
 * evaluation, or the end of a drill its guard alarm aborted. A drain that the safety rules keep at
 * the share it serves (`minHealthyEndpoints`) is none: one weight point less is the other
 * records' rounding, not a drain, and must not decide whether the change budget applies.
 */
export function isEmergency(
  ev: Evaluation,
  planned: { transitions: readonly Transition[]; endpoints: ServiceState['endpoints']; target: Weights; abortedDrills: readonly string[] },
): boolean {
  const { transitions, endpoints, target } = planned;
  return (
    transitions.some((t) => t.to === 'drained' && endpoints[t.endpoint]!.failed === true && cuts(target[t.endpoint]!, ev.current[t.endpoint]!)) ||
    planned.abortedDrills.length > 0
  );
}

/** A weight cut by more than a point, or to zero. */
function cuts(to: number, from: number): boolean {
  return to < from - 1 || (to === 0 && from > 0);
}

/** The safety guards, most authoritative first. */
export function applySafety(ev: Evaluation, input: SafetyInput): Phase<Guarded> {
  const guarded = holdOrBound(ev, input);
  return guarded.value.mode === 'pinned' || guarded.value.mode === 'frozen' ? guarded : neverAllZero(ev, guarded);
}

function holdOrBound(ev: Evaluation, input: SafetyInput): Phase<Guarded> {
  const { ids, current, policy } = ev;
  const { overrides, target } = input;
  if (overrides.pin !== undefined) {
    const pinned = overrides.pin.weights;
    const message = `weights pinned by ${overrides.pin.by}${untilText(overrides.pin)}: ${overrides.pin.reason}`;
    return phase({ mode: 'pinned', target: Object.fromEntries(ids.map((id) => [id, pinned[id] ?? current[id]!])) }, { reasons: [{ code: 'PINNED', message }] });
  }
  if (overrides.freeze !== undefined) {
    const { by, reason } = overrides.freeze;
    const message = `policy would set ${formatWeights(target, ids)}; frozen by ${by}${untilText(overrides.freeze)}: ${reason}`;
    return phase({ mode: 'frozen', target: { ...current } }, sameWeights(target, current, ids) ? {} : { blocked: [{ code: 'FROZEN', message }] });
  }
  const offUnproven = rolloutCuts(ev, input);
  if (input.failStatic) {
    if (policy.safety.failStaticAction === 'baseline') return bounded(ev, 'fail-static', baselineWeights(ev.service));
    return input.restoredUnderFailStatic || offUnproven ? bounded(ev, 'fail-static', target) : phase({ mode: 'fail-static', target: { ...current } });
  }
  if (ids.every((id) => input.verdicts[id]!.verdict === 'unknown') && Object.keys(overrides.drains ?? {}).length === 0 && !offUnproven) {
    // Nothing is known this period: carry on with nothing, not even a move decided earlier.
    const blocked: Reason[] = sameWeights(target, current, ids)
      ? []
      : [{ code: 'ALL_UNKNOWN_HOLD', message: 'no endpoint has usable data this period; holding weights' }];
    return phase({ mode: 'normal', target: { ...current } }, { blocked });
  }
  return input.emergency ? phase({ mode: 'normal', target }) : bounded(ev, 'normal', target);
}

/**
 * The target takes traffic off an endpoint under a rollout (a deploy's drain, a canary's step, a
 * rollback): the pipeline's move, away from an unproven version, not a decision on this period's
 * observations. It goes ahead when they are suspect (fail static) or unknown, as an operator's
 * drain does: the endpoints' states did not move on that evidence, so the rest of the plan is
 * what the last trusted periods called for.
 */
function rolloutCuts(ev: Evaluation, input: SafetyInput): boolean {
  const rollouts = input.rollouts ?? {};
  return Object.entries(movesOf(ev, ev.current, input.target)).some(([id, way]) => way === -1 && rollouts[id] !== undefined);
}

function bounded(ev: Evaluation, mode: DecisionMode, target: Weights): Phase<Guarded> {
  const step = boundStep(ev.current, target, ev.ids, ev.total, ev.policy);
  return phase({ mode, target: step.value }, step);
}

/**
 * All zero makes Route 53 split evenly: the opposite of any intent. (Only reachable when Route 53
 * already holds all zeros and a rule says hold.)
 */
function neverAllZero(ev: Evaluation, guarded: Phase<Guarded>): Phase<Guarded> {
  if (!ev.ids.every((id) => guarded.value.target[id] === 0)) return guarded;
  const reason: Reason = { code: 'ALL_ZERO_WEIGHTS', message: 'Route 53 holds 0 on every record (an even split); writing baseline instead' };
  return phase({ ...guarded.value, target: baselineWeights(ev.service) }, guarded, { blocked: [reason] });
}

/** Moves at most `maxShiftPerEvaluation` of the traffic toward the target in one evaluation. */
export function boundStep(current: Weights, target: Weights, ids: readonly string[], total: number, policy: Policy): Phase<Weights> {
  const moved = shareMoved(current, target, ids);
  const limit = policy.safety.maxShiftPerEvaluation;
  if (moved <= limit + 1e-9) return phase(target);
  const from = sharesOf(current, ids);
  const to = sharesOf(target, ids);
  const fraction = limit / moved;
  const between: Weights = {};
  for (const id of ids) between[id] = from[id]! + (to[id]! - from[id]!) * fraction;
  // Integer weights quantise shares; with small totals a rounded step could overshoot the target
  // or move a record the wrong way. Use the finest resolution that stays within 255 if it must.
  const coarse = integerWeights(
    between,
    ids,
    Math.max(
      total,
      ids.reduce((sum, id) => sum + current[id]!, 0),
    ),
  );
  const step = isBetween(sharesOf(coarse, ids), from, to, ids) ? coarse : integerWeights(between, ids, Number.MAX_SAFE_INTEGER);
  const message = `moving ${Math.round(limit * 100)}% of traffic now (${formatWeights(step, ids)}) toward ${formatWeights(target, ids)}; the rest follows in later evaluations`;
  return phase(step, { blocked: [{ code: 'STEP_BOUNDED', message }] });
}

function isBetween(shares: Weights, from: Weights, to: Weights, ids: readonly string[]): boolean {
  return ids.every((id) => shares[id]! >= Math.min(from[id]!, to[id]!) - 1e-9 && shares[id]! <= Math.max(from[id]!, to[id]!) + 1e-9);
}

export interface AntiFlapInput {
  readonly mode: DecisionMode;
  readonly target: Weights;
  readonly emergency: boolean;
  /** An endpoint's state (or rollout) asked for a move: the change is more than a rebalance. */
  readonly stateMoved: boolean;
  /** An endpoint's own state asked for less traffic (a shed, a drain, a failed recovery) or a rollout held one back. */
  readonly sheds: boolean;
  /** A rollout moved (a canary step, a rollback): the pipeline's protocol, not a change of mind. */
  readonly rolloutMoved: boolean;
  readonly overrides: Overrides;
  /** Endpoints this decision restored because their Route 53 health check passes again (`HEALTH_CHECK_RESTORED`). */
  readonly restoredByHealthCheck?: readonly string[];
}

export interface Settled {
  /** The weights the decision settles on: the target, or what Route 53 holds when nothing is written. */
  readonly target: Weights;
  readonly changes: readonly WeightChange[];
  /** The change budget's window after this decision. */
  readonly recentChanges: ServiceState['recentChanges'];
}

/** An anti-flap rule: a refusal of the change, with why, or undefined when the change may be written. */
type AntiFlapRule = (
  ev: Evaluation,
  input: AntiFlapInput,
  changes: readonly WeightChange[],
  recent: ServiceState['recentChanges'],
) => Partial<Said> | undefined;

/** In order: the first rule that refuses a change says why it is not written. */
const ANTI_FLAP_RULES: readonly AntiFlapRule[] = [rebalanceDeadband, weightDeadband, flapGuard, changeBudget];

/** A weight move smaller than this many units is no move: it neither flaps nor is flapped against. */
export const FLAP_MIN_MOVE = 1;

/** When a written change last cut the endpoint's share (by more than FLAP_MIN_MOVE), within the hour kept; undefined if none did. */
export function lastCutAt(recent: ServiceState['recentChanges'], id: string): number | undefined {
  return recent.findLast((c) => c.moved?.[id] === -1)?.at;
}

/** The written change that last moved the endpoint's share (by more than FLAP_MIN_MOVE), and which way; undefined if none did within the hour kept. */
export function lastMoveOf(recent: ServiceState['recentChanges'], id: string): { readonly at: number; readonly way: 1 | -1 } | undefined {
  const last = recent.findLast((c) => c.moved?.[id] !== undefined);
  return last === undefined ? undefined : { at: last.at, way: last.moved![id]! };
}

/** When a written change last moved the endpoint's share, if that move raised it (a cut now would reverse it); undefined otherwise. */
export function raisedAt(recent: ServiceState['recentChanges'], id: string): number | undefined {
  const last = lastMoveOf(recent, id);
  return last?.way === 1 ? last.at : undefined;
}

/**
 * Which way a change moves each endpoint's share of the answers by more than FLAP_MIN_MOVE weight
 * units of the configured total. Shares, not weights: a plan that writes fewer points in all (a
 * survivor kept below its warm capacity) can raise a weight while cutting its share, and a record
 * Route 53 leaves out of the answers (its health check failing) gives its share to the others.
 */
function movesOf(ev: Evaluation, from: Weights, to: Weights): Record<string, 1 | -1> {
  const before = sharesOf(answered(ev, from), ev.ids);
  const after = sharesOf(answered(ev, to), ev.ids);
  const moved: Record<string, 1 | -1> = {};
  for (const id of ev.ids) {
    const delta = (after[id]! - before[id]!) * ev.total;
    if (Math.abs(delta) > FLAP_MIN_MOVE + 1e-9) moved[id] = delta > 0 ? 1 : -1;
  }
  return moved;
}

/**
 * The anti-flap guards: a change too small to be worth it, or one too many this hour, is not
 * written. A health check's restore the flap guard holds goes out without its reversals when it
 * can (`flapsKept`); any other change it holds waits whole (narrowing those let recovery probes
 * out that the hold kept back, and they failed: docs/runtime.md, "Flap guard").
 */
export function applyAntiFlap(ev: Evaluation, input: AntiFlapInput): Phase<Settled> {
  const recent = ev.previous.recentChanges.filter((c) => ev.now - c.at < HOUR_MS);
  const refused = refusalOf(ev, input, recent);
  if (refused === undefined) return written(ev, input, input.target, recent);
  const kept = refused.rule === flapGuard && (input.restoredByHealthCheck ?? []).length > 0 ? flapsKept(ev, input, recent) : undefined;
  if (kept !== undefined && refusalOf(ev, { ...input, target: kept.target }, recent) === undefined) {
    return written(ev, input, kept.target, recent, { reasons: kept.reasons });
  }
  return phase({ target: { ...ev.current }, changes: [], recentChanges: recent }, refused.said);
}

/** The first anti-flap rule that refuses the change, and why; undefined when it may be written (or changes nothing). */
function refusalOf(ev: Evaluation, input: AntiFlapInput, recent: readonly RecentChange[]): { rule: AntiFlapRule; said: Partial<Said> } | undefined {
  const changes = changesBetween(ev.current, input.target, ev.ids);
  if (changes.length === 0) return undefined;
  for (const rule of ANTI_FLAP_RULES) {
    const said = rule(ev, input, changes, recent);
    if (said) return { rule, said };
  }
  return undefined;
}

/** `target` settled on, and recorded in the change budget's window with which way it moves each endpoint. */
function written(ev: Evaluation, input: AntiFlapInput, target: Weights, recent: readonly RecentChange[], ...said: Partial<Said>[]): Phase<Settled> {
  const changes = changesBetween(ev.current, target, ev.ids);
  if (changes.length === 0) return phase({ target, changes, recentChanges: recent });
  const change: RecentChange = { at: ev.now, emergency: input.emergency, moved: movesOf(ev, ev.current, target) };
  return phase({ target, changes, recentChanges: [...recent, change] }, ...said);
}

/**
 * A change that would move an endpoint back the way it moved less than `dwell.minSeconds` ago
 * (a recovery step taking back what another endpoint's shed gave it, a rebalance undoing one)
 * waits until that long has passed: operators, and the benchmark, call such a reversal a flap.
 * A change that sheds (an endpoint's own state asked for less traffic), a rollout's step, an
 * operator's override or an emergency never waits.
 */
function flapGuard(ev: Evaluation, input: AntiFlapInput, _changes: readonly WeightChange[], recent: readonly RecentChange[]): Partial<Said> | undefined {
  const [first] = reversalsOf(ev, input, input.target, recent);
  if (first === undefined) return undefined;
  const { endpoint, way, at } = first;
  const message = `change to ${formatWeights(input.target, ev.ids)} would move ${endpoint} back ${way === 1 ? 'up' : 'down'} ${Math.round((ev.now - at) / 1000)} s after it moved the other way; waiting ${dwellLeftS(ev, at)} s (dwell ${ev.policy.dwell.minSeconds} s)`;
  return { reasons: [{ code: 'FLAP_HOLD', message, endpoint }] };
}

/** Seconds until a move written at `at` is `dwell.minSeconds` old. */
function dwellLeftS(ev: Evaluation, at: number): number {
  return Math.ceil((at + ev.policy.dwell.minSeconds * 1000 - ev.now) / 1000);
}

interface Reversal {
  readonly endpoint: string;
  /** The way the change would move it. */
  readonly way: 1 | -1;
  /** When the move it reverses was written. */
  readonly at: number;
}

/** The endpoints a change to `target` would move back against their last move, made within the dwell; none when the flap guard does not apply. */
function reversalsOf(ev: Evaluation, input: AntiFlapInput, target: Weights, recent: readonly RecentChange[]): Reversal[] {
  if (input.mode !== 'normal' || input.emergency || input.sheds || input.rolloutMoved || overridesChanged(ev, input)) return [];
  const windowMs = ev.policy.dwell.minSeconds * 1000;
  const moves = movesOf(ev, ev.current, target);
  // An endpoint under a rollout moving is the rollout's move (a deploy's drain, a canary step), even
  // when the evaluation that asked for it was held (everything unknown, failing static): planned,
  // not a change of mind, and it must not wait behind the receivers' last moves.
  if (Object.keys(moves).some((id) => ev.previous.rollouts[id] !== undefined)) return [];
  const drains = drainsUndone(ev, input);
  const reversals: Reversal[] = [];
  for (const [endpoint, way] of Object.entries(moves)) {
    const last = lastMoveOf(recent, endpoint);
    if (last === undefined || ev.now - last.at >= windowMs || last.way !== -way || drains.has(last.at)) continue;
    reversals.push({ endpoint, way, at: last.at });
  }
  return reversals;
}

/**
 * A change the flap guard holds, without its reversals (`FLAP_HOLD_KEPT`): each endpoint it would
 * move back keeps its share of the answers, and the others move the way the plan moves them, by
 * less. A health check's restore would otherwise wait whole: the region Route 53 answers with
 * again kept at the share its drain left it, while the survivors carry its traffic because one of
 * them moved up meanwhile for another's shed. What the kept endpoints would have given up is taken off the
 * others' gains (or what they would have taken, off the others' cuts), in proportion: no endpoint
 * goes past its planned share, so none gets more than the plan checked against its capacity, and
 * none will have to come back when the rest of the change goes out. Undefined when nothing is left to move.
 */
function flapsKept(ev: Evaluation, input: AntiFlapInput, recent: readonly RecentChange[]): { target: Weights; reasons: Reason[] } | undefined {
  const view = { before: sharesOf(answered(ev, ev.current), ev.ids), planned: sharesOf(answered(ev, input.target), ev.ids) };
  const kept = reversalsOf(ev, input, input.target, recent);
  if (kept.length === 0) return undefined;
  const shares = keptShares(ev.ids, view, new Set(kept.map((r) => r.endpoint)));
  if (shares === undefined) return undefined;
  const target = recordWeights(ev, input.target, shares);
  if (sameWeights(target, ev.current, ev.ids)) return undefined;
  return { target, reasons: kept.map((r) => keptReason(ev, input.target, r, view)) };
}

interface ShareView {
  /** Each endpoint's share of the answers now, and as planned. */
  readonly before: Weights;
  readonly planned: Weights;
}

/**
 * The kept endpoints at their share now; the others moved toward their planned share, the side
 * that would have balanced the kept ones' moves (gains when the kept ones were to give traffic
 * up, cuts when they were to take it) scaled down to balance without them. Undefined when that side
 * has nothing left to move.
 */
function keptShares(ids: readonly string[], { before, planned }: ShareView, kept: ReadonlySet<string>): Weights | undefined {
  const move = (id: string) => planned[id]! - before[id]!;
  const others = ids.filter((id) => !kept.has(id));
  // What the kept endpoints' moves would have put in (positive) or taken out of the others' share.
  const unbalanced = [...kept].reduce((sum, id) => sum + move(id), 0);
  const side = others.filter((id) => Math.sign(move(id)) === -Math.sign(unbalanced));
  const sideTotal = side.reduce((sum, id) => sum + Math.abs(move(id)), 0);
  const scale = sideTotal > 0 ? 1 - Math.abs(unbalanced) / sideTotal : 0;
  if (scale <= 1e-9) return undefined;
  const shares: Weights = {};
  for (const id of ids) shares[id] = kept.has(id) ? before[id]! : before[id]! + move(id) * (side.includes(id) ? scale : 1);
  return shares;
}

/** Integer weights answering with `shares`, at the plan's total; a record left out of the answers (its check failing) keeps its planned weight. */
function recordWeights(ev: Evaluation, target: Weights, shares: Weights): Weights {
  const inAnswers = answered(ev, target);
  const total = ev.ids.reduce((sum, id) => sum + target[id]!, 0);
  const answeredTotal = ev.ids.reduce((sum, id) => sum + inAnswers[id]!, 0);
  const intended = Object.fromEntries(ev.ids.map((id) => [id, inAnswers[id] !== target[id] ? target[id]! : shares[id]! * answeredTotal]));
  return integerWeights(intended, ev.ids, total);
}

function keptReason(ev: Evaluation, target: Weights, r: Reversal, view: ShareView): Reason {
  const message = `${r.endpoint} keeps ${pct(view.before[r.endpoint]!)} of the traffic: it moved ${r.way === 1 ? 'down' : 'up'} ${Math.round((ev.now - r.at) / 1000)} s ago, and moving it back to ${pct(view.planned[r.endpoint]!)} waits ${dwellLeftS(ev, r.at)} s (dwell ${ev.policy.dwell.minSeconds} s); the rest of the change to ${formatWeights(target, ev.ids)} is written`;
  return { code: 'FLAP_HOLD_KEPT', message, endpoint: r.endpoint };
}

/**
 * When the endpoints restored by their health check in this decision were drained, unless the
 * check was read as passing at the drain: a move made by such a drain, undone by the restore, is
 * Route 53's own call mirrored both ways, not a change of mind. A hard outage fails its health check
 * within 90 s, before its fail alarm can fire, so Route 53 had already left the record out of its
 * answers and the drain moved no client; holding the restore would only keep a region Route 53
 * calls healthy out of them. A drain made while the check was seen passing did move its clients
 * (`checkPassedAtDrain`), and its undoing is held as any other move back; so are the receivers'
 * later moves of their own.
 */
function drainsUndone(ev: Evaluation, input: AntiFlapInput): ReadonlySet<number> {
  const mirrored = (input.restoredByHealthCheck ?? []).filter((id) => ev.priorEndpoints[id]!.checkPassedAtDrain !== true);
  return new Set(mirrored.map((id) => ev.priorEndpoints[id]!.since));
}

/** An operator set, changed or ended an override in this decision: what follows is theirs, not a change of mind. */
function overridesChanged(ev: Evaluation, input: AntiFlapInput): boolean {
  return JSON.stringify(input.overrides) !== JSON.stringify(ev.previous.overrides);
}

/**
 * A cut of an endpoint drained for failing whose record Route 53 still answers with (not
 * `leftOut`): what it keeps fails, so taking it off as the others find room is not a
 * rebalance, however small. Kept under the deadband, a few percent of the traffic would go on
 * failing for as long as the incident lasts (partial-errors: 3% of the traffic, 45 minutes).
 */
function offFailing(ev: Evaluation, c: WeightChange): boolean {
  const prior = ev.priorEndpoints[c.setIdentifier];
  return c.to < c.from && prior?.status === 'drained' && prior.failed === true && !leftOut(ev).includes(c.setIdentifier);
}

/**
 * A change that only rebalances (no endpoint changed state, no override) and moves under
 * `rebalanceMinShare` of the traffic. A change to an endpoint under a rollout is the rollout's,
 * never a rebalance, even when the step that asked for it was held when it happened (a canary's
 * first step while failing static): a deadband must not keep it unwritten for good. Nor is the last
 * step back to the baseline weights, as in the weight deadband: what a bounded step or a learned
 * headroom left of an incident would otherwise stay written until the next one. Nor is a cut of
 * a failing endpoint that Route 53 still answers with (`offFailing`).
 */
function rebalanceDeadband(ev: Evaluation, input: AntiFlapInput, changes: readonly WeightChange[]): Partial<Said> | undefined {
  const { ids, current, policy } = ev;
  if (input.mode !== 'normal' || input.emergency || input.stateMoved || overridesChanged(ev, input)) return undefined;
  if (changes.some((c) => ev.previous.rollouts[c.setIdentifier] !== undefined)) return undefined;
  if (changes.some((c) => offFailing(ev, c))) return undefined;
  if (sameWeights(input.target, baselineWeights(ev.service), ids)) return undefined;
  if (shareMoved(answered(ev, current), answered(ev, input.target), ids) >= policy.rebalanceMinShare) return undefined;
  const message = `rebalance to ${formatWeights(input.target, ids)} moves under ${Math.round(policy.rebalanceMinShare * 100)}% of the traffic and no endpoint changed state; not written`;
  return { reasons: [{ code: 'DEADBAND_REBALANCE', message }] };
}

/**
 * The weights as Route 53 answers with them: a record whose health check is seen failing is left
 * out of the answers whatever its weight (while some other record is healthy), so moving its
 * weight moves no traffic. A failing endpoint kept at some weight for lack of room elsewhere is
 * such a record: cutting it when the others find room, only to restore it when its check passes,
 * would move the others twice for nothing.
 */
function answered(ev: Evaluation, weights: Weights): Weights {
  const hidden = leftOut(ev);
  if (hidden.length === 0) return weights;
  return { ...weights, ...Object.fromEntries(hidden.map((id) => [id, 0])) };
}

/** The records Route 53 leaves out of its answers: those whose health check is read failing, unless every one's is (it then answers with all). */
function leftOut(ev: Evaluation): readonly string[] {
  const hidden = ev.ids.filter((id) => ev.observations.endpoints[id]?.healthCheck === 'unhealthy');
  return hidden.length === ev.ids.length ? [] : hidden;
}

/**
 * A normal change whose every record moves under `deadbandWeight` points, none starting or stopping
 * to serve, and not the last one back to the baseline weights (an incident's end is written exactly).
 */
function weightDeadband(ev: Evaluation, input: AntiFlapInput, changes: readonly WeightChange[]): Partial<Said> | undefined {
  const { ids, policy } = ev;
  if (input.mode !== 'normal' || input.emergency) return undefined;
  const crossesZero = changes.some((c) => c.from === 0 || c.to === 0);
  if (crossesZero || !changes.every((c) => Math.abs(c.to - c.from) < policy.deadbandWeight)) return undefined;
  if (sameWeights(input.target, baselineWeights(ev.service), ids)) return undefined;
  const message = `change to ${formatWeights(input.target, ids)} is under the ${policy.deadbandWeight}-point deadband; not written`;
  return { reasons: [{ code: 'DEADBAND_WEIGHT', message }] };
}

/** One change too many this hour. Pins and emergencies are counted but never refused. */
function changeBudget(
  ev: Evaluation,
  input: AntiFlapInput,
  _changes: readonly WeightChange[],
  recent: ServiceState['recentChanges'],
): Partial<Said> | undefined {
  const max = ev.policy.changeBudget.maxChangesPerHour;
  if (input.mode === 'pinned' || input.emergency || recent.length < max) return undefined;
  const reason: Reason = {
    code: 'CHANGE_BUDGET_EXHAUSTED',
    message: `change to ${formatWeights(input.target, ev.ids)} blocked: ${recent.length} changes in the last hour (budget ${max})`,
  };
  return { blocked: [reason], notifications: [notice(reason, 'warning', ev.service.dnsName)] };
}
