/**
 * A region's replicas over time, when the region can scale (`regions[].scaling` in a scenario):
 * how many it is asked to hold, which are launching, which serve, which drain, and what they cost.
 *
 * - **Asking** for more replicas launches them at once, as an Auto Scaling group or a SageMaker
 *   variant does, as long as the region can obtain them (`obtainable`: extra replicas beyond the
 *   configured ones, the quota or the capacity pool). Replicas beyond that wait, unlaunched and
 *   unbilled, and come only if room frees; the platform says so after PROBLEM_AFTER_SECONDS
 *   (`InsufficientInstanceCapacity`), as a failed scaling activity does.
 * - **Launching** takes a provisioning delay (instance launch, image pull, model load, warm-up)
 *   drawn per launch from a stream keyed by (seed, region, launch index): every controller whose
 *   k-th launch in a region happens meets the same delay (common random numbers).
 * - **Giving back** cancels launches that have not come into service, newest first, then drains
 *   replicas in service, newest first: a draining replica takes no new requests and leaves once its
 *   queue and running batch are empty (a scale-in with connection draining), so no request fails
 *   because capacity was given back.
 * - **Cost**: a replica bills from its launch until it leaves (the configured ones from the start).
 *
 * Incidents are not the fleet's business: an incident's `capacityFactor` takes a share of whatever
 * serves (region.ts), and an outage resets every unit; the platform still counts the replicas.
 */
import { hashString, inverseNormalCdf, Rng, streamSeed } from './random.js';

export interface ProvisioningModel {
  /**
   * `lognormal`: the two values are the 5th and 95th percentiles (median their geometric mean);
   * `uniform`: every delay between them is equally likely.
   */
  readonly minutes: readonly [number, number];
  readonly distribution: 'lognormal' | 'uniform';
}

export interface RegionScaling {
  /** Most replicas the region can be asked to hold (the group's max size, the variant's max capacity). */
  readonly maxReplicas: number;
  /** Extra replicas, beyond the configured ones, the region can obtain (0: none: quota or no capacity). */
  readonly obtainable: number;
  readonly provisioning: ProvisioningModel;
}

/** A launch that cannot be met shows as a problem this long after it was asked for (a failed scaling activity). */
export const PROBLEM_AFTER_SECONDS = 120;

/** z at the 95th percentile: a lognormal's [5th, 95th] range is median · exp(±1.645 σ). */
const Z95 = 1.6448536269514722;
const PROVISION_KEY = hashString('provisioning');
const rng = new Rng(0);

/** Seconds from the launch to in service of the region's k-th launch (0-based) of the run. */
export function provisioningSeconds(model: ProvisioningModel, seed: number, region: string, k: number): number {
  rng.reseed(streamSeed(seed, PROVISION_KEY, hashString(region), k));
  // Strictly inside (0, 1): the normal quantile stays finite.
  const u = (rng.nextUint32() + 0.5) / 4294967296;
  const [low, high] = model.minutes;
  if (model.distribution === 'uniform') return 60 * (low + (high - low) * u);
  const median = Math.sqrt(low * high);
  const sigma = Math.log(high / low) / (2 * Z95);
  return 60 * median * Math.exp(sigma * inverseNormalCdf(u));
}

type Phase = 'waiting' | 'launching' | 'in-service' | 'draining' | 'gone';

interface Replica<U> {
  phase: Phase;
  askedAt: number;
  launchedAt: number | null;
  readyAt: number;
  leftAt: number | null;
  unit: U | null;
}

/** What the platform reports (CapacityReading's fields, at the fleet's time). */
export interface FleetReading {
  readonly inService: number;
  readonly desired: number;
  readonly problem?: string;
}

export interface FleetOptions<U> {
  readonly region: string;
  readonly seed: number;
  /** Replicas configured (in service from the start, billed throughout). */
  readonly base: number;
  /** Null: the region cannot scale (asking throws). */
  readonly scaling: RegionScaling | null;
  readonly newUnit: () => U;
  /** A draining unit with nothing queued or running leaves. */
  readonly isIdle: (unit: U) => boolean;
}

export class RegionFleet<U> {
  private readonly replicas: Replica<U>[] = [];
  private desiredCount: number;
  private launches = 0;
  private changed = true;
  /** In-service counts as they changed: (time, count), for the run's truth. */
  private readonly history: { t: number; count: number }[];

  constructor(private readonly options: FleetOptions<U>) {
    this.desiredCount = options.base;
    for (let i = 0; i < options.base; i++) {
      this.replicas.push({ phase: 'in-service', askedAt: 0, launchedAt: 0, readyAt: 0, leftAt: null, unit: options.newUnit() });
    }
    this.history = [{ t: 0, count: options.base }];
  }

  get scaling(): RegionScaling | null {
    return this.options.scaling;
  }

  get desired(): number {
    return this.desiredCount;
  }

  /** Replicas in service (provisioned, warm, not draining). */
  get inServiceCount(): number {
    return this.count('in-service');
  }

  /** Units in service, in replica order (the configured ones first, then the extras as they came). */
  inServiceUnits(): U[] {
    return this.replicas.filter((r) => r.phase === 'in-service').map((r) => r.unit!);
  }

  drainingUnits(): U[] {
    return this.replicas.filter((r) => r.phase === 'draining').map((r) => r.unit!);
  }

  /** The platform is asked to hold `desired` replicas from time t. Throws, changing nothing, when it cannot be asked that. */
  request(t: number, desired: number): void {
    const scaling = this.options.scaling;
    if (scaling === null) throw new RangeError(`${this.options.region}: the region cannot scale (no scaling in the scenario's world)`);
    if (!Number.isInteger(desired) || desired < 1) {
      throw new RangeError(`${this.options.region}: desired replicas must be a whole number of at least 1 (got ${desired}); a region with none is an outage`);
    }
    if (desired > scaling.maxReplicas) {
      throw new RangeError(`${this.options.region}: desired replicas ${desired} is above the region's maximum of ${scaling.maxReplicas}`);
    }
    this.desiredCount = desired;
    const live = this.replicas.filter((r) => r.phase === 'waiting' || r.phase === 'launching' || r.phase === 'in-service');
    for (let i = live.length; i < desired; i++)
      this.replicas.push({ phase: 'waiting', askedAt: t, launchedAt: null, readyAt: Infinity, leftAt: null, unit: null });
    // Give back newest first: what has not launched, then what is launching, then what serves (it drains).
    const order: Phase[] = ['waiting', 'launching', 'in-service'];
    let excess = live.length - desired;
    for (const phase of order) {
      for (let i = this.replicas.length - 1; i >= 0 && excess > 0; i--) {
        const replica = this.replicas[i]!;
        if (replica.phase !== phase) continue;
        excess--;
        this.giveBack(replica, t);
      }
    }
    this.launch(t);
  }

  private giveBack(replica: Replica<U>, t: number): void {
    if (replica.phase === 'in-service') {
      replica.phase = 'draining';
      this.changed = true;
      return;
    }
    replica.phase = 'gone';
    replica.leftAt = replica.launchedAt === null ? null : t;
  }

  /** Launches waiting replicas, oldest ask first, while the region can obtain them. */
  private launch(t: number): void {
    const room = this.options.base + this.options.scaling!.obtainable;
    let held = this.replicas.filter((r) => r.phase === 'launching' || r.phase === 'in-service' || r.phase === 'draining').length;
    for (const replica of this.replicas) {
      if (held >= room) return;
      if (replica.phase !== 'waiting') continue;
      replica.phase = 'launching';
      replica.launchedAt = t;
      replica.readyAt = t + provisioningSeconds(this.options.scaling!.provisioning, this.options.seed, this.options.region, this.launches++);
      held++;
    }
  }

  /**
   * The fleet at time t: launches that are ready come into service (a fresh unit each), draining
   * replicas that are empty leave. Whether the units in service or draining changed.
   */
  advance(t: number): boolean {
    let freed = false;
    for (const replica of this.replicas) {
      if (replica.phase === 'launching' && replica.readyAt <= t) {
        replica.phase = 'in-service';
        replica.unit = this.options.newUnit();
        this.changed = true;
      } else if (replica.phase === 'draining' && this.options.isIdle(replica.unit!)) {
        replica.phase = 'gone';
        replica.leftAt = t;
        replica.unit = null;
        this.changed = true;
        freed = true;
      }
    }
    if (freed && this.options.scaling !== null) this.launch(t);
    const changed = this.changed;
    this.changed = false;
    if (changed) {
      const count = this.inServiceCount;
      if (count !== this.history[this.history.length - 1]!.count) this.history.push({ t, count });
    }
    return changed;
  }

  /** Replicas in service at time t, as the fleet went (for the run's truth, after the run too). */
  inServiceAt(t: number): number {
    let count = this.history[0]!.count;
    for (const entry of this.history) {
      if (entry.t > t) break;
      count = entry.count;
    }
    return count;
  }

  /** What the platform reports at time t. */
  reading(t: number): FleetReading {
    const waiting = this.replicas.filter((r) => r.phase === 'waiting');
    const oldest = waiting.length > 0 ? Math.min(...waiting.map((r) => r.askedAt)) : Infinity;
    const problem =
      t - oldest >= PROBLEM_AFTER_SECONDS
        ? `InsufficientInstanceCapacity: ${waiting.length} of the ${this.desiredCount} replicas asked for cannot be obtained in ${this.options.region}`
        : undefined;
    return { inService: this.inServiceCount, desired: this.desiredCount, ...(problem !== undefined ? { problem } : {}) };
  }

  /** Replica-seconds billed up to `end`: every launched replica from its launch until it left (or `end`). */
  instanceSeconds(end: number): number {
    let total = 0;
    for (const r of this.replicas) {
      if (r.launchedAt === null) continue;
      total += Math.max(0, Math.min(end, r.leftAt ?? end) - r.launchedAt);
    }
    return total;
  }

  private count(phase: Phase): number {
    let n = 0;
    for (const r of this.replicas) if (r.phase === phase) n++;
    return n;
  }
}
