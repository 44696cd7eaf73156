/**
 * Tail evidence: how sure a period's requests make the engine that a percentile is past its trip.
 *
 * A p99 of 2 s means at most 1% of requests are slower than 2 s. CloudWatch counts how many of a
 * period's requests were slower than the trip (the percentile rank statistic, `PR(:trip)`, with
 * SampleCount), and under "the p99 is within its trip" that count is at most Binomial(n, 1%). So a
 * breach is a one-sided binomial test: k slow requests out of n are a breach when a count that
 * high would happen less than `1 − confidence` of the time were only 1% of requests slow. This
 * replaces a fixed minimum of samples: 6 slow requests out of 60 are a breach (a 1-in-60,000 event
 * for a healthy p99), 12 out of 1,000 are not (it happens 30% of the time), and a percentile from
 * a partial minute counts for what its samples prove. The same test against a share
 * `severeTailShare` times larger says the breach is severe: evidence scales with both how far past
 * trip the tail is and how many requests back it.
 */

/** Lanczos coefficients (g = 7, n = 9): ln Γ to about 15 significant digits. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x ≥ 1 (the engine asks only for factorials). */
function logGamma(x: number): number {
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

function logPmf(n: number, i: number, q: number): number {
  return logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) + i * Math.log(q) + (n - i) * Math.log1p(-q);
}

/**
 * Sum of the binomial probabilities from i = `from` stepping by `step` (+1 or −1), where they only
 * shrink (away from the mode), until the rest cannot change the sum.
 */
function sumAwayFromMode(n: number, from: number, step: 1 | -1, q: number): number {
  let term = Math.exp(logPmf(n, from, q));
  let sum = 0;
  const odds = q / (1 - q);
  for (let i = from; i >= 0 && i <= n && term > 0; i += step) {
    sum += term;
    if (term < sum * 1e-16) break;
    // pmf(i + 1) / pmf(i) = (n − i) / (i + 1) · q / (1 − q), and its inverse going down.
    term *= step === 1 ? ((n - i) / (i + 1)) * odds : i / (n - i + 1) / odds;
  }
  return sum;
}

/** P(X ≥ k) for X ~ Binomial(n, q): how often k or more of n requests are slow when each is with probability q. */
export function binomialUpperTail(n: number, k: number, q: number): number {
  if (k <= 0) return 1;
  if (k > n || q <= 0) return 0;
  if (q >= 1) return 1;
  // Sum whichever side of the mode k is on, from k outward, where the terms only shrink.
  if (k > n * q) return Math.min(1, sumAwayFromMode(n, k, 1, q));
  return Math.max(0, 1 - sumAwayFromMode(n, k - 1, -1, q));
}

/** What a period's slow-request count says of a percentile signal. */
export interface TailEvidence {
  /** The share of the period's requests worse than trip, k / n. */
  readonly share: number;
  /** The share the percentile allows to be worse than its trip (1% for a p99). */
  readonly allowed: number;
  /** The count proves the percentile is past its trip, at the policy's confidence. */
  readonly breach: boolean;
  /** It proves more: at least `severeShare` times the allowed share is worse than trip. */
  readonly severe: boolean;
}

/**
 * The evidence of `worse` slow requests out of `samples` against a percentile that allows
 * `allowed` of them (1 − p/100 for a higher-is-worse p-th percentile), at `confidence`.
 */
export function tailEvidence(samples: number, worse: number, allowed: number, confidence: number, severeShare: number): TailEvidence {
  const n = Math.max(0, Math.round(samples));
  const k = Math.min(n, Math.max(0, Math.round(worse)));
  const alpha = 1 - confidence;
  const breach = n > 0 && binomialUpperTail(n, k, allowed) <= alpha;
  const severeAt = allowed * severeShare;
  const severe = breach && severeAt < 1 && binomialUpperTail(n, k, severeAt) <= alpha;
  return { share: n > 0 ? k / n : 0, allowed, breach, severe };
}
