/**
 * Receivers keep their way: the part of a shed that falls on the *other* endpoints.
 *
 * A shed is never held by the flap guard (a region getting worse must not wait), so a healthy
 * endpoint that only receives or gives back traffic — a bystander to the endpoints whose states
 * moved — can be moved back against its last move by someone else's shed or recovery step: the
 * planner fills the receivers from their capacity each time, and which of them has room changes
 * with the demand and the learned headroom. The benchmark, and an operator reading the history,
 * call that reversal a flap.
 *
 * So after the plan: a healthy endpoint, healthy before this decision too, that the plan would
 * move against its last written move of the last `dwell.minSeconds`, away from its baseline share,
 * keeps its share (`RECEIVER_KEPT`), when other healthy receivers can take the difference going
 * their own way (the way they last moved, or not moved within the dwell), within their planned
 * capacity (`capacityShare`: target utilisation, learned headroom, `maxShare`; none has room
 * when the demand is unknown). All or nothing: if they cannot take all of it, the plan stands. A
 * move back toward its baseline share (an incident ending) is never kept from happening, nor one
 * off a share past its planned capacity.
 */
import { FLAP_MIN_MOVE, lastMoveOf } from './guards.js';
import { phase, type Evaluation, type Phase } from './phase.js';
import type { EndpointState, PolicyReason, RecentChange, Weights } from './types.js';
import { capacityShare, type PlanEndpoint } from './weightPlanner.js';
import { integerWeights, pct, sharesOf } from './weights.js';

export interface ReceiversInput {
  /** The plan's integer weights. */
  readonly target: Weights;
  /** The endpoints' states after this decision's steps. */
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  /** What the planner knew of each endpoint: whether it receives, its planned warm capacity. */
  readonly planned: readonly PlanEndpoint[];
  /** The demand (requests/s) the plan was made against; null when unknown. */
  readonly demand: number | null;
}

/** One way of moving: a share up (1) or down (-1). */
type Way = 1 | -1;

/** The plan, with bystanders that would be moved back against their last move kept where they are. */
export function keepReceiversWay(ev: Evaluation, input: ReceiversInput): Phase<Weights> {
  const recent = ev.previous.recentChanges.filter((c) => ev.now - c.at < ev.policy.dwell.minSeconds * 1000);
  if (recent.length === 0) return phase(input.target);
  const view = viewOf(ev, input, recent);
  const kept = ev.ids.filter((id) => turnsBack(view, id));
  if (kept.length === 0) return phase(input.target);
  const delta = kept.reduce((sum, id) => sum + view.after[id]! - view.before[id]!, 0);
  const way: Way = delta > 0 ? 1 : -1;
  // Without the demand, no receiver's room is known: none is given more than the plan gives it.
  if (way === 1 && input.demand === null) return phase(input.target);
  const takers = ev.ids.filter((id) => !kept.includes(id) && bystander(view, id) && (view.last(id)?.way ?? way) === way);
  const room = (id: string) => (way === 1 ? Math.max(0, view.ceiling(id) - view.after[id]!) : view.after[id]!);
  const roomAll = takers.reduce((sum, id) => sum + room(id), 0);
  if (roomAll + 1e-9 < Math.abs(delta)) return phase(input.target);
  const shares: Weights = { ...view.after };
  for (const id of kept) shares[id] = view.before[id]!;
  // Kept ones moved both ways can cancel out: then the takers move nothing.
  for (const id of takers) shares[id] = view.after[id]! + (roomAll > 0 ? (delta * room(id)) / roomAll : 0);
  const total = ev.ids.reduce((sum, id) => sum + input.target[id]!, 0);
  const target = integerWeights(shares, ev.ids, total);
  return phase(target, { reasons: kept.map((id) => keptReason(ev, view, id, takers)) });
}

interface View {
  /** Shares of the traffic now (Route 53's weights) and as planned. */
  readonly before: Weights;
  readonly after: Weights;
  readonly endpoints: Readonly<Record<string, EndpointState>>;
  readonly prior: Readonly<Record<string, EndpointState>>;
  readonly planned: ReadonlyMap<string, PlanEndpoint>;
  readonly total: number;
  readonly last: (id: string) => { readonly at: number; readonly way: Way } | undefined;
  /** The largest share the endpoint's planned capacity serves. */
  readonly ceiling: (id: string) => number;
}

function viewOf(ev: Evaluation, input: ReceiversInput, recent: readonly RecentChange[]): View {
  const planned = new Map(input.planned.map((e) => [e.config.setIdentifier, e]));
  return {
    before: sharesOf(ev.current, ev.ids),
    after: sharesOf(input.target, ev.ids),
    endpoints: input.endpoints,
    prior: ev.priorEndpoints,
    planned,
    total: ev.total,
    last: (id) => lastMoveOf(recent, id),
    ceiling: (id) => {
      const e = planned.get(id)!;
      return capacityShare(e.config, input.demand, e.warmRps);
    },
  };
}

/** Healthy now and before this decision, and a receiver (not drained by an operator, not under a rollout). */
function bystander(view: View, id: string): boolean {
  const e = view.planned.get(id);
  return e?.receiver === true && view.endpoints[id]!.status === 'healthy' && view.prior[id]!.status === 'healthy';
}

/** A bystander the plan moves back against its last move, away from its baseline share, from a share its capacity serves. */
function turnsBack(view: View, id: string): boolean {
  const last = view.last(id);
  if (last === undefined || !bystander(view, id)) return false;
  const move = (view.after[id]! - view.before[id]!) * view.total;
  if (Math.abs(move) <= FLAP_MIN_MOVE + 1e-9 || Math.sign(move) !== -last.way) return false;
  const base = view.planned.get(id)!.config.baselineWeight / view.total;
  const away = Math.abs(view.after[id]! - base) > Math.abs(view.before[id]! - base) + 1e-9;
  return away && view.before[id]! <= view.ceiling(id) + 1e-9;
}

function keptReason(ev: Evaluation, view: View, id: string, takers: readonly string[]): PolicyReason {
  const last = view.last(id)!;
  const ago = Math.round((ev.now - last.at) / 1000);
  const message = `${id} kept at ${pct(view.before[id]!)} of the traffic, not ${pct(view.after[id]!)}: it moved ${last.way === 1 ? 'up' : 'down'} ${ago} s ago, and moving it back now would flap; ${takers.join(', ')} ${takers.length === 1 ? 'takes' : 'take'} the difference`;
  return { code: 'RECEIVER_KEPT', message, endpoint: id };
}
