/**
 * Learned headroom: the utilisation at which an endpoint was last seen too slow for its load. The
 * configured `warmRps × targetUtilization` is what the team provisioned; an endpoint may breach
 * below it (bursty traffic, longer prompts than the sizing assumed, a gray failure that cut its
 * throughput). The planner then gives it no more than a margin under the load it breached at,
 * instead of moving traffic back into it because the configuration says it has room.
 *
 * The rule, per endpoint, on each fresh period:
 *   - a breach (not a failure: errors say nothing of capacity) at a utilisation of at least
 *     `MIN_UTILISATION` lowers the limit to that utilisation (a breach at 5% of capacity is not
 *     about load), once it is confirmed: at least `CONFIRMING_BREACHES` breaches in the detection
 *     window, this one included. One slow minute alone (a burst of long prompts, a big resolver's
 *     clients landing all at once) is not the endpoint's capacity, as it is not enough to degrade it;
 *   - a clear period at a higher utilisation than the limit raises the limit to it. The
 *     utilisation is the period's load as functions/app/observe.ts reads it, the busiest of the
 *     last `LOAD_PERIODS` minutes. A clear minute right after breaching ones reads their load, and
 *     raises the limit to the busiest of them: in practice a limit mostly holds while the endpoint
 *     keeps breaching, not until it has shown it copes (docs/runtime.md, "Learned headroom", says
 *     why that is kept);
 *   - the limit is forgotten `LIMIT_TTL_MS` after the breach that set it: capacity comes back
 *     (instances replaced, the burst over), and a forgotten limit costs at most one more breach.
 * The planner plans with `MARGIN` × the limit when that is below the target utilisation; with the
 * lowest limit the endpoint's peers learned from load instead, when that is lower (`planningLimit`).
 */
import type { EndpointConfig } from './config.js';
import type { EpochMs, LearnedLimit, PolicyReason, VerdictRecord } from './types.js';
import { pct } from './weights.js';

/** A breach below this utilisation is not about load (a gray failure at low traffic, a cold start). */
export const MIN_UTILISATION = 0.2;
/** The planner keeps an endpoint this far under the utilisation it breached at. */
export const MARGIN = 0.9;
/** How long a learned limit holds after the breach that set it. */
export const LIMIT_TTL_MS = 30 * 60_000;
/** Breaches in the detection window, the period's own included, before one teaches a limit. */
export const CONFIRMING_BREACHES = 2;

/**
 * The endpoint's limit after this period: `record` is the period's verdict (undefined when the
 * observations were not fresh), `utilisation` its request rate over its warm capacity, `breaches`
 * the breaches in the detection window with this period's.
 */
export function learnLimit(
  prior: LearnedLimit | undefined,
  record: VerdictRecord | undefined,
  utilisation: number | null | undefined,
  now: EpochMs,
  breaches: number,
): LearnedLimit | undefined {
  const held = prior !== undefined && now - prior.at < LIMIT_TTL_MS ? prior : undefined;
  if (record === undefined || utilisation === null || utilisation === undefined || !Number.isFinite(utilisation)) return held;
  const confirmed = breaches >= CONFIRMING_BREACHES;
  if (record.verdict === 'breach' && confirmed && utilisation >= MIN_UTILISATION && (held === undefined || utilisation < held.utilisation)) {
    return { utilisation, at: now };
  }
  if (record.verdict === 'clear' && held !== undefined && utilisation > held.utilisation) return { ...held, utilisation };
  return held;
}

/** A limit another endpoint of the service learned from load. */
export interface PeerLimit {
  readonly id: string;
  readonly limit: LearnedLimit;
}

/** The limit an endpoint is planned with: its own, or a lower one another endpoint of the service learned (`from`). */
export interface PlanningLimit extends LearnedLimit {
  readonly from?: string;
}

/**
 * The lower of the endpoint's own limit and the lowest its peers learned from load: the
 * same model serving the same traffic (the same prompts, the same bursts from the same resolvers)
 * is too slow at about the same utilisation in every region, so a receiver is not filled past
 * where a peer was too slow. The caller gives only the peers' limits learned from load, not those
 * of an impaired or failing region.
 */
export function planningLimit(own: LearnedLimit | undefined, peers: readonly PeerLimit[]): PlanningLimit | undefined {
  let lowest: PlanningLimit | undefined = own;
  for (const { id, limit } of peers) {
    if (lowest === undefined || limit.utilisation < lowest.utilisation) lowest = { ...limit, from: id };
  }
  return lowest;
}

/**
 * The warm capacity (requests/s) to plan the endpoint with: `warmRps` scaled down to `MARGIN` × its
 * limit (learned, or a peer's) when that is below its target utilisation, and the reason saying so; else as it is.
 */
export function plannedWarm(
  config: EndpointConfig,
  limit: PlanningLimit | undefined,
  warmRps: number | undefined,
): { warmRps: number | undefined; reason?: PolicyReason } {
  const target = config.capacity.targetUtilization;
  if (limit === undefined || warmRps === undefined || MARGIN * limit.utilisation >= target) return { warmRps };
  const planned = MARGIN * limit.utilisation;
  const id = config.setIdentifier;
  const who = limit.from === undefined ? 'it was' : `${limit.from}, serving the same traffic, was`;
  const message = `${id} planned at ${pct(planned)} of its warm capacity, not ${pct(target)}: ${who} too slow at ${pct(limit.utilisation)}`;
  return { warmRps: (warmRps * planned) / target, reason: { code: 'HEADROOM_LEARNED', endpoint: id, message } };
}
