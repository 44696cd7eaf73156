/**
 * A tail the service shares. An endpoint out of its healthy state recovers on clear periods. In a
 * workload whose tail sits between clear and trip everywhere (the code trace's bursts of long
 * prompts; a quiet minute's few samples), its percentile seldom goes under `clear`, and it stays
 * shed while the endpoints that never left carry its traffic at the same tail. A period in which
 * its percentile signals sit between their thresholds (or are low-sample there), each no higher
 * than the median of the healthy serving endpoints' values this period (itself under trip), is as
 * clear as the service is, and counts as clear. Failures, breaches, alarms and missing data never
 * do: only a tail no worse than the one the service's healthy endpoints show.
 */
import { percentileOf } from './percentiles.js';
import type { EndpointState, EndpointVerdict, PeerTail, SignalVerdict } from './types.js';
import { combineSignals } from './verdicts.js';

export interface PeerTailInput {
  readonly ids: readonly string[];
  readonly states: Readonly<Record<string, EndpointState>>;
  /** The weights written now: a peer serves when its weight is above 0. */
  readonly current: Readonly<Record<string, number>>;
  readonly verdicts: Readonly<Record<string, EndpointVerdict>>;
  /** The endpoints judged as drained (their signals that need traffic set aside). */
  readonly drained: ReadonlySet<string>;
}

/** The verdicts, with each endpoint out of its healthy state that is as clear as its healthy peers made clear. */
export function asClearAsPeers(input: PeerTailInput): Record<string, EndpointVerdict> {
  const { ids, states, current, verdicts } = input;
  const healthy = ids.filter((id) => states[id]!.status === 'healthy' && (current[id] ?? 0) > 0);
  const out: Record<string, EndpointVerdict> = { ...verdicts };
  for (const id of ids) {
    const verdict = verdicts[id]!;
    const peers = healthy.filter((other) => other !== id);
    if (states[id]!.status === 'healthy' || verdict.failing || (verdict.verdict !== 'hold' && verdict.verdict !== 'unknown') || peers.length === 0) continue;
    const compared = verdict.signals.map((s) => peerTail(s, peers, verdicts));
    const tails = compared.filter((t): t is PeerTail => t !== undefined);
    if (tails.length === 0) continue;
    const asPeers = verdict.signals.map((s, i) => (compared[i] !== undefined ? { ...s, verdict: 'clear' as const } : s));
    if (combineSignals(asPeers, { drained: input.drained.has(id) }).verdict !== 'clear') continue;
    out[id] = { ...verdict, verdict: 'clear', asClearAsPeers: tails };
  }
  return out;
}

/** The signal against its healthy peers' values this period, when it is a percentile in its band no worse than their median. */
function peerTail(signal: SignalVerdict, peers: readonly string[], verdicts: Readonly<Record<string, EndpointVerdict>>): PeerTail | undefined {
  const { value, trip, clear, statistic } = signal;
  if (value === null || trip === null || clear === null || clear > trip || statistic === null || percentileOf(statistic) === undefined) return undefined;
  if (signal.verdict !== 'hold' && !(signal.verdict === 'unknown' && signal.unknownCause === 'low-sample')) return undefined;
  const values: number[] = [];
  const named: string[] = [];
  for (const peer of peers) {
    const theirs = verdicts[peer]!.signals.find((s) => s.signal === signal.signal);
    if (theirs?.value === null || theirs?.value === undefined) continue;
    values.push(theirs.value);
    named.push(peer);
  }
  if (values.length === 0) return undefined;
  const peersMedian = median(values);
  if (peersMedian >= trip || value > peersMedian) return undefined;
  return { signal: signal.signal, value, peersMedian, peers: named };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
