/**
 * Route 53 weights are integers 0–255 and only their ratios matter. These turn intended shares
 * into integers that keep the ratios (largest remainder, not naive rounding, which can lose or
 * invent a whole point per record) and measure how much traffic a change moves.
 */
import type { WeightChange, Weights } from './types.js';

/** Route 53's largest weight. */
export const MAX_WEIGHT = 255;

/** Each record's share of the traffic; all-zero weights split evenly, as Route 53 does. `weights` has every id. */
export function sharesOf(weights: Readonly<Weights>, ids: readonly string[]): Weights {
  let total = 0;
  for (const id of ids) total += Math.max(0, weights[id]!);
  const shares: Weights = {};
  for (const id of ids) shares[id] = total > 0 ? Math.max(0, weights[id]!) / total : 1 / ids.length;
  return shares;
}

/** Share of all traffic that moves between two weight sets: half the L1 distance of their shares. */
export function shareMoved(from: Readonly<Weights>, to: Readonly<Weights>, ids: readonly string[]): number {
  const a = sharesOf(from, ids);
  const b = sharesOf(to, ids);
  let sum = 0;
  for (const id of ids) sum += Math.abs(a[id]! - b[id]!);
  return sum / 2;
}

/**
 * Integer weights summing to `total` (or fewer, so no weight exceeds 255) with the given real
 * proportions, by the largest-remainder method. Every record meant to carry traffic gets at least
 * 1: rounding must never silently drain an endpoint.
 */
export function integerWeights(intended: Readonly<Weights>, ids: readonly string[], total: number): Weights {
  let sum = 0;
  let max = 0;
  for (const id of ids) {
    const w = Math.max(0, intended[id]!);
    sum += w;
    if (w > max) max = w;
  }
  const out: Weights = {};
  if (sum <= 0) {
    for (const id of ids) out[id] = 0;
    return out;
  }
  const positive = ids.filter((id) => intended[id]! > 0).length;
  // Keep the largest record within 255, and the total large enough that each positive record can get 1.
  const scaledTotal = Math.max(positive, Math.min(Math.round(total), Math.floor((MAX_WEIGHT * sum) / max)));
  const remainders: { id: string; rest: number }[] = [];
  let assigned = 0;
  for (const id of ids) {
    const exact = (Math.max(0, intended[id]!) / sum) * scaledTotal;
    const floor = Math.floor(exact + 1e-9);
    out[id] = floor;
    assigned += floor;
    remainders.push({ id, rest: exact - floor });
  }
  // Ties go to the earlier record, so the result never depends on anything but the input.
  remainders.sort((a, b) => b.rest - a.rest);
  for (let i = 0; assigned < scaledTotal && i < remainders.length; i++) {
    const id = remainders[i]!.id;
    out[id] = out[id]! + 1;
    assigned++;
  }
  for (const id of ids) {
    if (intended[id]! > 0 && out[id] === 0) {
      // Take the point from the largest record; it cannot be the only positive one.
      const donor = ids.reduce((best, other) => (out[other]! > out[best]! ? other : best), ids[0]!);
      out[donor] = out[donor]! - 1;
      out[id] = 1;
    }
  }
  return out;
}

/** The records whose weight differs, in `ids` order. */
export function changesBetween(current: Readonly<Weights>, target: Readonly<Weights>, ids: readonly string[]): WeightChange[] {
  return ids.filter((id) => current[id] !== target[id]).map((id) => ({ setIdentifier: id, from: current[id]!, to: target[id]! }));
}

export function sameWeights(a: Readonly<Weights>, b: Readonly<Weights>, ids: readonly string[]): boolean {
  return ids.every((id) => a[id] === b[id]);
}

/** A fraction as a whole percentage, for the sentences reasons are told in: 0.456 → "46%". */
export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** `a=100 b=50`, for reasons. */
export function formatWeights(weights: Readonly<Weights>, ids: readonly string[]): string {
  return ids.map((id) => `${id}=${weights[id] ?? 0}`).join(' ');
}

/**
 * The weights to write for `target`, given what Route 53 holds (`live`): exactly the target's
 * shares, at the scale that leaves the most records as they are. Route 53 routes by share alone,
 * and its change throughput counts every record changed: draining one of five records at 100
 * writes that one record (0 100 100 100 100), not all five (0 125 125 125 125).
 *
 * A scale is a candidate when it keeps some record as it is (`live / target` of a record), or is
 * the target's own. It is taken only if it keeps every share exactly (each record scales to a
 * whole number), no record exceeds 255, and the records that carry traffic are the target's.
 * The fewest changed records wins; ties go to the target's own scale, then to the larger scale.
 */
export function writtenWeights(target: Readonly<Weights>, live: Readonly<Weights>, ids: readonly string[]): Weights {
  let best: { weights: Weights; unchanged: number; scale: number } | undefined;
  for (const scale of candidateScales(target, live, ids)) {
    const weights = scaledWeights(target, ids, scale);
    if (!weights) continue;
    const unchanged = ids.filter((id) => weights[id] === live[id]).length;
    if (!best || unchanged > best.unchanged || (unchanged === best.unchanged && preferredScale(scale, best.scale))) best = { weights, unchanged, scale };
  }
  return best!.weights;
}

/** Route 53 holds `target`'s shares as it would be written: what steer53 writes for it, and nothing else. */
export function holdsAsWritten(target: Readonly<Weights>, live: Readonly<Weights>, ids: readonly string[]): boolean {
  return ids.every((id) => target[id] !== undefined && live[id] !== undefined) && sameWeights(writtenWeights(target, live, ids), live, ids);
}

/** The target's own scale first, then each scale that keeps one record as it is. */
function candidateScales(target: Readonly<Weights>, live: Readonly<Weights>, ids: readonly string[]): number[] {
  const scales = [1];
  for (const id of ids) {
    const t = target[id]!;
    const l = live[id];
    if (t > 0 && l !== undefined && l > 0 && !scales.some((s) => Math.abs(s - l / t) < 1e-12)) scales.push(l / t);
  }
  return scales;
}

/** The target at `scale`, or undefined when a record would not scale to a whole weight within 255. */
function scaledWeights(target: Readonly<Weights>, ids: readonly string[], scale: number): Weights | undefined {
  const out: Weights = {};
  for (const id of ids) {
    const exact = target[id]! * scale;
    const w = Math.round(exact);
    if (Math.abs(exact - w) > 1e-9 || w > MAX_WEIGHT || w > 0 !== target[id]! > 0) return undefined;
    out[id] = w;
  }
  return out;
}

function preferredScale(scale: number, than: number): boolean {
  if (than === 1) return false;
  return scale === 1 || scale > than;
}
