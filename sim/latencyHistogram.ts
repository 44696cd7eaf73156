/**
 * Every request's latency, kept as a log-bucketed histogram (2% wide buckets from 1 ms to 10
 * minutes): percentiles over all requests of a minute, as CloudWatch computes them from raw
 * values, at a fixed cost however many requests there are. A percentile is read at its bucket's
 * geometric middle, so it is within 1% of the exact value.
 */

const MIN_MS = 1;
const RATIO = 1.02;
const LOG_RATIO = Math.log(RATIO);
export const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / LOG_RATIO) + 1;

/** The bucket of a latency in ms (values under 1 ms land in the first, over 10 minutes in the last). */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const b = Math.floor(Math.log(ms / MIN_MS) / LOG_RATIO) + 1;
  return b < BUCKETS ? b : BUCKETS - 1;
}

/** The value a bucket stands for (its geometric middle). */
export function valueOfBucket(b: number): number {
  return b === 0 ? MIN_MS : MIN_MS * RATIO ** (b - 0.5);
}

export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;

  add(ms: number, weight = 1): void {
    this.counts[bucketOf(ms)]! += weight;
    this.count += weight;
    this.sum += ms * weight;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  addAll(other: LatencyHistogram): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b]! += other.counts[b]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
    if (other.min < this.min) this.min = other.min;
  }

  clear(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Number.POSITIVE_INFINITY;
  }

  /** The p-th percentile (0–100) in ms; NaN when empty. Nearest rank, as CloudWatch's percentiles. */
  percentile(p: number): number {
    if (this.count <= 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count - 1e-9));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank - 1e-9) return valueOfBucket(b);
    }
    return valueOfBucket(BUCKETS - 1);
  }

  /** Share of the values at or below `ms` (CloudWatch's percentile rank, as a fraction), read at the buckets' middles as percentiles are; 1 when empty. */
  shareAtOrBelow(ms: number): number {
    if (this.count <= 0) return 1;
    let below = 0;
    for (let b = 0; b < BUCKETS; b++) if (valueOfBucket(b) <= ms) below += this.counts[b]!;
    return below / this.count;
  }

  get mean(): number {
    return this.count > 0 ? this.sum / this.count : Number.NaN;
  }
}
