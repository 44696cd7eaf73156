/**
 * DNS as clients live it: a population of recursive resolvers of very different sizes, each
 * caching one weighted answer for its clients.
 *
 * - Route 53 answers each query with one record, chosen at random by weight. A resolver keeps that
 *   answer for the TTL, so all its clients go to one endpoint until it asks again: the split the
 *   clients see is lumpy, and a few big resolvers move whole slices of traffic at once.
 * - Resolver sizes are heavy-tailed (Pareto, α = 1.2): a few public and ISP resolvers carry many
 *   clients, most carry few.
 * - A share of resolvers stretch TTLs (8.74% of 8,524 measured resolvers did: Bhowmick et al., PAM
 *   2023), keeping answers for minutes to hours (lognormal, median 10 minutes): the stale tail
 *   after a change comes from them, it is not fitted. With a 20 s TTL this gives about 90% of
 *   traffic moved within a minute and about 2% still on the old answer after 15, as Flavel, Mani
 *   and Maltz measured (IEEE LANMAN 2014) — on average; a given seed may be lumpier.
 * - A change reaches Route 53's authoritative servers over up to `propagationSeconds` (AWS: within
 *   60 s, when GetChange says INSYNC); a resolver that asks before the server it asks has it gets
 *   the old weights. Health-check status changes travel the same way as API writes.
 *
 * Every draw is keyed by (seed, resolver, refresh), so two controllers that write the same weights
 * see the same clients move (common random numbers).
 */
import { hashString, Rng, streamSeed } from './random.js';

export interface DnsParams {
  readonly ttlSeconds: number;
  readonly propagationSeconds: number;
  /** Recursive resolvers serving the service's clients. */
  readonly resolvers: number;
  /** Pareto shape of resolver sizes (smaller: a heavier tail). */
  readonly sizeAlpha: number;
  /** Share of resolvers that keep answers past the TTL. */
  readonly stretchFraction: number;
  /** Median and lognormal sigma of how long a stretching resolver keeps an answer. */
  readonly stretchMedianSeconds: number;
  readonly stretchSigma: number;
}

/** Shares per endpoint from Route 53 weights: an all-zero set is answered evenly (Route 53's rule). */
export function sharesOf(weights: readonly number[]): Float64Array {
  const shares = new Float64Array(weights.length);
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) shares[i] = total > 0 ? weights[i]! / total : 1 / weights.length;
  return shares;
}

interface Version {
  readonly at: number;
  /** Sequence number of the write (keys its propagation draws). */
  readonly id: number;
  readonly cumulative: Float64Array;
}

const SIZE_KEY = hashString('dns-size');
const PICK_KEY = hashString('dns-pick');
const SEEN_KEY = hashString('dns-seen');

/** Cumulative shares, for picking an endpoint by one uniform draw. */
function cumulativeOf(weights: readonly number[]): Float64Array {
  const shares = sharesOf(weights);
  const cumulative = new Float64Array(shares.length);
  let sum = 0;
  for (let i = 0; i < shares.length; i++) {
    sum += shares[i]!;
    cumulative[i] = sum;
  }
  cumulative[shares.length - 1] = 1;
  return cumulative;
}

export class ClientDns {
  private readonly size: Float64Array;
  private readonly hold: Float64Array;
  private readonly endpoint: Int32Array;
  private readonly expiry: Float64Array;
  private readonly refreshes: Int32Array;
  /** Resolver indexes ordered by expiry (a binary heap). */
  private readonly heap: Int32Array;
  private readonly shares: Float64Array;
  private versions: Version[];
  private readonly rng = new Rng(0);

  constructor(
    private readonly params: DnsParams,
    initialWeights: readonly number[],
    private readonly seed: number,
  ) {
    const n = Math.max(1, params.resolvers);
    this.size = new Float64Array(n);
    this.hold = new Float64Array(n);
    this.endpoint = new Int32Array(n);
    this.expiry = new Float64Array(n);
    this.refreshes = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.shares = new Float64Array(initialWeights.length);
    this.versions = [{ at: Number.NEGATIVE_INFINITY, id: 0, cumulative: cumulativeOf(initialWeights) }];
    let total = 0;
    for (let i = 0; i < n; i++) {
      this.rng.reseed(streamSeed(seed, SIZE_KEY, i));
      this.size[i] = this.rng.nextOpen() ** (-1 / params.sizeAlpha);
      total += this.size[i]!;
      const stretches = this.rng.next() < params.stretchFraction;
      this.hold[i] = stretches
        ? Math.max(params.ttlSeconds, params.stretchMedianSeconds * Math.exp(params.stretchSigma * this.rng.normal()))
        : params.ttlSeconds;
      // Caches filled at random times before the start, all under the initial weights.
      this.expiry[i] = this.rng.next() * Math.max(1, this.hold[i]!);
      this.endpoint[i] = this.pick(i, this.versions[0]!.cumulative);
      this.heap[i] = i;
    }
    for (let i = 0; i < n; i++) {
      this.size[i]! /= total;
      this.shares[this.endpoint[i]!]! += this.size[i]!;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Route 53 holds new weights from time t; resolvers see them as they reach the servers they ask. */
  publish(t: number, weights: readonly number[]): void {
    const last = this.versions[this.versions.length - 1]!;
    if (t < last.at) throw new RangeError('DNS answers must be published in time order');
    this.versions.push({ at: t, id: last.id + 1, cumulative: cumulativeOf(weights) });
    // Versions fully propagated before the newest became visible anywhere are never handed out again.
    while (this.versions.length > 2 && this.versions[1]!.at + this.params.propagationSeconds <= t) this.versions.shift();
  }

  /** Share of clients that reach each endpoint at time t, written into `out`. */
  sharesAt(t: number, out: Float64Array): Float64Array {
    const heap = this.heap;
    while (this.expiry[heap[0]!]! <= t) {
      const i = heap[0]!;
      const at = this.expiry[i]!;
      const chosen = this.pick(i, this.versionSeenBy(i, at).cumulative);
      if (chosen !== this.endpoint[i]) {
        this.shares[this.endpoint[i]!]! -= this.size[i]!;
        this.shares[chosen]! += this.size[i]!;
        this.endpoint[i] = chosen;
      }
      this.expiry[i] = at + Math.max(1, this.hold[i]!);
      this.siftDown(0);
    }
    for (let e = 0; e < out.length; e++) out[e] = Math.max(0, this.shares[e]!);
    return out;
  }

  /** The weights resolver i gets at time t: the newest version that reached the server it asked. */
  private versionSeenBy(i: number, t: number): Version {
    for (let v = this.versions.length - 1; v > 0; v--) {
      const version = this.versions[v]!;
      if (version.at > t) continue;
      this.rng.reseed(streamSeed(this.seed, SEEN_KEY, i, version.id));
      if (version.at + this.rng.next() * this.params.propagationSeconds <= t) return version;
    }
    return this.versions[0]!;
  }

  private pick(i: number, cumulative: Float64Array): number {
    this.rng.reseed(streamSeed(this.seed, PICK_KEY, i, this.refreshes[i]!++));
    const u = this.rng.next();
    let e = 0;
    while (e < cumulative.length - 1 && u >= cumulative[e]!) e++;
    return e;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    let i = start;
    const item = heap[i]!;
    const key = this.expiry[item]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.expiry[heap[r]!]! < this.expiry[heap[l]!]! ? r : l;
      if (this.expiry[heap[child]!]! >= key) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
