/**
 * Seeded randomness for the simulator. The model never calls Math.random(): every random draw
 * comes from a stream keyed by (seed, what, where, when), so that the same scenario and seed give
 * the same numbers, and so that two controllers run on the same world see the same noise (common
 * random numbers: a region's noise in minute 42 does not depend on what an earlier controller did).
 */

/** A 32-bit integer mix (the finaliser of MurmurHash3): spreads nearby keys across the whole range. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes a seed and any number of integer keys into one 32-bit stream seed. */
export function streamSeed(seed: number, ...keys: number[]): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const key of keys) h = mix32(h ^ mix32((key | 0) + 0x7f4a7c15));
  return h;
}

/** A stable 32-bit hash of a string (FNV-1a), to key streams by region or controller name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * mulberry32: a small, fast generator with a 32-bit state; plenty for simulation noise (its
 * period of 2^32 is far beyond the draws of one region-step stream).
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Starts the stream again from another seed (no allocation in hot loops). */
  reseed(seed: number): void {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe to take the logarithm of. */
  nextOpen(): number {
    return 1 - this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal draw, by table lookup of the inverse CDF (fast, and exact enough for noise). */
  normal(): number {
    return NORMAL_TABLE[Math.floor(this.next() * NORMAL_TABLE_SIZE)]!;
  }

  /** An exponential draw with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.nextOpen()) * mean;
  }
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
 * Used to build the lookup table and by the oracle's analytic model.
 */
export function inverseNormalCdf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** The standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; absolute error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Sixteen random bits index these tables: a draw is one lookup. */
export const TABLE_BITS = 16;
const NORMAL_TABLE_SIZE = 1 << TABLE_BITS;
const NORMAL_TABLE = (() => {
  const table = new Float64Array(NORMAL_TABLE_SIZE);
  for (let i = 0; i < NORMAL_TABLE_SIZE; i++) table[i] = inverseNormalCdf((i + 0.5) / NORMAL_TABLE_SIZE);
  return table;
})();

/** exp(σ·z) at 2^16 normal quantiles: lognormal noise of median 1 by table lookup. */
const lognormalTables = new Map<number, Float64Array>();
export function lognormalTable(sigma: number): Float64Array {
  let table = lognormalTables.get(sigma);
  if (!table) {
    table = new Float64Array(NORMAL_TABLE_SIZE);
    for (let i = 0; i < NORMAL_TABLE_SIZE; i++) table[i] = Math.exp(sigma * NORMAL_TABLE[i]!);
    lognormalTables.set(sigma, table);
  }
  return table;
}

/** −ln(u) at 2^16 uniform quantiles: a unit-mean exponential draw by table lookup. */
export const EXPONENTIAL_TABLE = (() => {
  const table = new Float64Array(NORMAL_TABLE_SIZE);
  for (let i = 0; i < NORMAL_TABLE_SIZE; i++) table[i] = -Math.log((i + 0.5) / NORMAL_TABLE_SIZE);
  return table;
})();

/**
 * The k-th smallest of the first n values (0-based), by quickselect; reorders `values` in place.
 * O(n) on average, which keeps per-minute percentiles cheap for thousands of region-minutes.
 */
export function selectKth(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const tmp = values[i]!;
        values[i] = values[j]!;
        values[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/**
 * A percentile of the first n values the way CloudWatch reports one: the nearest-rank value
 * (p99 of 1,000 samples is the 990th smallest). Reorders `values`.
 */
export function percentile(values: Float64Array, n: number, p: number): number {
  if (n === 0) return NaN;
  const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  const above = n - rank; // the value sought is the smallest of the `above` largest
  return above <= TOP_SCAN_LIMIT ? smallestOfLargest(values, n, above) : selectKth(values, n, rank);
}

const TOP_SCAN_LIMIT = 64;
const topHeap = new Float64Array(TOP_SCAN_LIMIT);

/**
 * The m-th largest of the first n values, by one pass with a min-heap of the m largest seen: a
 * high percentile (p99 of 1,000 samples: m = 11) costs about one comparison per value. Leaves
 * `values` in order.
 */
function smallestOfLargest(values: Float64Array, n: number, m: number): number {
  const heap = topHeap;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (size < m) {
      // Sift up.
      let j = size++;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (heap[parent]! <= v) break;
        heap[j] = heap[parent]!;
        j = parent;
      }
      heap[j] = v;
    } else if (v > heap[0]!) {
      // Replace the smallest of the top m and sift down.
      let j = 0;
      for (;;) {
        const left = 2 * j + 1;
        if (left >= m) break;
        const right = left + 1;
        const child = right < m && heap[right]! < heap[left]! ? right : left;
        if (heap[child]! >= v) break;
        heap[j] = heap[child]!;
        j = child;
      }
      heap[j] = v;
    }
  }
  return heap[0]!;
}
