/**
 * DNS as clients live it. A weight change written to Route 53 reaches every authoritative server
 * after the propagation delay (about 60 s until GetChange reports INSYNC). From then on, each
 * client picks up the new answer only when its resolver's cached answer expires: most resolvers
 * honour the TTL, but a tail of them keep answers far longer.
 *
 * The stale tail is calibrated to public measurements: with a 20 s TTL, 90% of requests had moved
 * within 60 s, yet 2% of users still used the stale answer after 15 minutes (Flavel, Mani, Maltz,
 * IEEE LANMAN 2014); 8.74% of resolvers extend TTLs arbitrarily (Bhowmick et al., PAM 2023).
 * Model: a share `q` of requests comes from TTL-extending resolvers that keep an answer for the TTL
 * plus an exponential extra time of mean `tail`; the rest refresh evenly within the TTL. Solving
 * q·e^(−40/tail) = 0.10 and q·e^(−880/tail) = 0.02 gives tail = 840 / ln 5 ≈ 522 s, q ≈ 0.108.
 */

export interface DnsParams {
  readonly ttlSeconds: number;
  readonly staleFraction: number;
  readonly staleTailSeconds: number;
}

/**
 * The share of requests at time τ after an answer became visible that still use an answer from
 * before it: 1 at τ ≤ 0, falling to 0.
 */
export function staleShare(params: DnsParams, tau: number): number {
  if (tau <= 0) return 1;
  const q = params.staleFraction;
  const ttl = params.ttlSeconds;
  const compliant = ttl <= 0 ? 0 : Math.max(0, 1 - tau / ttl);
  const sticky = Math.exp(-Math.max(0, tau - ttl) / params.staleTailSeconds);
  return (1 - q) * compliant + q * sticky;
}

/** Shares per endpoint from Route 53 weights: an all-zero set is answered evenly (Route 53's rule). */
export function sharesOf(weights: readonly number[]): Float64Array {
  const shares = new Float64Array(weights.length);
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) shares[i] = total > 0 ? weights[i]! / total : 1 / weights.length;
  return shares;
}

interface Epoch {
  /** When the answer became visible at the authoritative servers. */
  readonly visibleAt: number;
  readonly shares: Float64Array;
}

/**
 * The answers clients hold, as a mix of every answer Route 53 has given: the share of requests
 * following answer k is the share whose cached answer was fetched after k became visible and before
 * k + 1 did. Times in seconds from the scenario start.
 */
export class ClientDns {
  private epochs: Epoch[];

  constructor(
    private readonly params: DnsParams,
    initialShares: Float64Array,
  ) {
    this.epochs = [{ visibleAt: -Infinity, shares: initialShares }];
  }

  /** A new answer, visible to resolvers from `visibleAt`. Answers are published in time order. */
  publish(visibleAt: number, shares: Float64Array): void {
    const last = this.epochs[this.epochs.length - 1]!;
    if (visibleAt < last.visibleAt) throw new RangeError('DNS answers must be published in time order');
    this.epochs.push({ visibleAt, shares });
  }

  /** Share of requests reaching each endpoint at time t, written into `out`. */
  sharesAt(t: number, out: Float64Array): Float64Array {
    out.fill(0);
    // Only answers already visible count; later ones are still propagating.
    let newest = this.epochs.length - 1;
    while (newest > 0 && this.epochs[newest]!.visibleAt > t) newest--;
    let upper = 1; // stale share relative to the next newer visible epoch (0 → none newer)
    let firstKept = 0;
    for (let k = newest; k >= 0; k--) {
      const epoch = this.epochs[k]!;
      const olderThanThis = k === 0 ? 0 : staleShare(this.params, t - epoch.visibleAt);
      const share = (k === newest ? 1 : upper) - olderThanThis;
      if (share > 0) for (let i = 0; i < out.length; i++) out[i]! += share * epoch.shares[i]!;
      upper = olderThanThis;
      if (olderThanThis < 1e-6) {
        firstKept = k;
        break;
      }
    }
    // Answers no client holds any more are forgotten, so the mix stays short.
    if (firstKept > 0) {
      this.epochs = this.epochs.slice(firstKept);
      this.epochs[0] = { visibleAt: -Infinity, shares: this.epochs[0]!.shares };
    }
    return out;
  }
}
