/**
 * Percentile statistics (`p95`, `p99.9`): which percentile a statistic names, and how many samples
 * make it meaningful. No zod here, so the Lambda bundles need not carry the config schema for it.
 */

/** The percentile of a statistic (`p99` → 99), or undefined for plain statistics. */
export function percentileOf(statistic: string): number | undefined {
  const match = /^p(\d+(?:\.\d+)?)$/.exec(statistic);
  return match ? Number(match[1]) : undefined;
}

/** Requests a tail must expect at its trip share before its count means anything: 10. */
export const TAIL_EXPECTED = 10;

/** Whether `samples` requests are enough that a tail of share `allowed` expects `TAIL_EXPECTED` of them (1,000 at a p99, 200 at a 5% error rate). */
export function expectsTail(samples: number, allowed: number): boolean {
  return samples * allowed >= TAIL_EXPECTED - 1e-9;
}

/**
 * Samples a percentile needs to mean anything: about 10 / (1 − p). Below that many samples a p99
 * is decided by a handful of requests (1,000 for p99, 200 for p95), so the signal is `unknown`.
 */
export function defaultMinSamples(statistic: string): number {
  const p = percentileOf(statistic);
  if (p === undefined || p >= 100) return 1;
  return Math.ceil(TAIL_EXPECTED / (1 - p / 100) - 1e-9);
}
