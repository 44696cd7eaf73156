/**
 * Pooled tails: a recovering endpoint's periods since its step began, judged together. A step of a
 * recovery carries few requests (10% of a small region's share is a few a second), and one
 * minute of them proves little of a p99 (tailEvidence.ts: 2 slow requests of 50 are not a
 * breach), so a region still slow at the step's share reads `unknown (low-sample)` minute after
 * minute while its recovery goes on into more traffic. The minutes together are the same test on
 * more requests: 9 past trip of 253 over four minutes prove a p99 past its trip (a healthy p99
 * gives that about 1 time in 400). Each period of a recovering endpoint keeps its counts in its
 * history (`VerdictRecord.tails`, state layout 11; no other endpoint's periods are pooled, so
 * none keeps them). A period whose percentile was within trip (CloudWatch
 * is asked for no rank then) counts as many past trip as the percentile allows, the most it can
 * have had: pooling never proves what a period's own value denies.
 *
 * Only the step of a recovering endpoint is judged so (hysteresis.ts): the step is what is being
 * tried, on few requests. The periods keep their own verdicts: a healthy endpoint keeps its M of N,
 * and a pool is no period's breach (it counts toward no window, and teaches no learned limit).
 */
import { tailEvidence } from './tailEvidence.js';
import type { EndpointState, EndpointVerdict, PeriodTail, VerdictRecord } from './types.js';
import type { DetectionRules } from './verdicts.js';

/** A pool needs this many periods: one period alone is its own verdict. */
const MIN_POOLED_PERIODS = 2;

/** What a pool of periods proved of one percentile signal. */
export interface PooledBreach {
  readonly signal: string;
  readonly periods: number;
  readonly samples: number;
  readonly worse: number;
  /** The share the percentile allows past trip. */
  readonly allowed: number;
}

/** The percentile signals' counts of a period's verdict, by signal, as its history record keeps them. */
export function periodTails(verdict: EndpointVerdict): Pick<VerdictRecord, 'tails'> {
  const tails = verdict.signals.filter((s) => s.tail !== undefined).map((s) => [s.signal, s.tail!] as const);
  return tails.length > 0 ? { tails: Object.fromEntries(tails) } : {};
}

/**
 * The first percentile signal whose periods since the recovery step began (`stepSince`, this
 * period's included), pooled, prove it past its trip at the policy's confidence; undefined when
 * none does, or fewer than MIN_POOLED_PERIODS periods have counts. Fewer requests than it takes a
 * healthy endpoint to have one past trip prove nothing pooled either (tailEvidence.ts, a thin
 * breach: one client's burst of long prompts is all it takes).
 */
export function pooledBreach(state: EndpointState, rules: DetectionRules): PooledBreach | undefined {
  const since = state.history.filter((r) => r.periodStart >= state.stepSince && r.tails !== undefined);
  if (since.length < MIN_POOLED_PERIODS) return undefined;
  const signals = new Set(since.flatMap((r) => Object.keys(r.tails!)));
  for (const signal of signals) {
    const pool = pooled(signal, since);
    if (pool.periods < MIN_POOLED_PERIODS || pool.samples * pool.allowed < 1) continue;
    if (tailEvidence(pool.samples, pool.worse, pool.allowed, rules.confidence, rules.severeTailShare).breach) return pool;
  }
  return undefined;
}

/** One signal's counts summed over the periods that have it, those with the newest one's allowance only (a policy edited meanwhile). */
function pooled(signal: string, records: readonly VerdictRecord[]): PooledBreach {
  const tails = records.map((r) => r.tails?.[signal]).filter((t): t is PeriodTail => t !== undefined);
  const { allowed } = tails.at(-1)!;
  const same = tails.filter((t) => t.allowed === allowed);
  const samples = same.reduce((sum, t) => sum + t.samples, 0);
  const worse = same.reduce((sum, t) => sum + t.worse, 0);
  return { signal, periods: same.length, samples, worse, allowed };
}
