/**
 * One region of the world: `replicas` serving units (servingUnit.ts) behind a round-robin load
 * balancer, fed request by request. Arrivals in a step are a Poisson count around what DNS sends
 * the region, at uniformly spread times, each with a prompt and output length drawn from the
 * demand's mix for that step. The region keeps, per minute, what its servers would report:
 * every request's time to first token (a histogram, for percentiles over all requests), errors
 * and timeouts, GPU busy time, KV-cache usage and queue depth.
 *
 * Random draws come from streams keyed by (seed, region, step): two controllers that send the
 * region the same share meet the same requests, and a larger share adds requests to the end of
 * the same stream (common random numbers).
 */
import { LatencyHistogram } from './latencyHistogram.js';
import type { UnitModel } from './loadTest.js';
import type { RegionCondition } from './latencyModel.js';
import { EXPONENTIAL_TABLE, inverseNormalCdf, lognormalTable, Rng, streamSeed } from './random.js';
import { RegionFleet, type RegionScaling } from './fleet.js';
import { ServingUnit, type UnitSink } from './servingUnit.js';

/** What a region's servers report for one minute (before CloudWatch publishes it). */
export interface MinuteReport {
  requests: number;
  /** Requests answered with an error (5xx) or refused (down). */
  serverErrors: number;
  /** Requests whose client gave up before the first token. */
  timedOut: number;
  /** First tokens out in the minute, by time to first token (client-side: network included). */
  readonly ttft: LatencyHistogram;
  /** First tokens later than the SLO. */
  late: number;
  /** GPU-busy seconds summed over the replicas, and replica-seconds (for the average). */
  gpuBusySeconds: number;
  replicaSeconds: number;
  /** Sums of samples taken every step: KV-cache share and waiting requests per replica. */
  kvSum: number;
  queueSum: number;
  samples: number;
  /** The region was down for the whole minute (its instances report nothing). */
  downSteps: number;
  steps: number;
}

function newReport(): MinuteReport {
  return {
    requests: 0,
    serverErrors: 0,
    timedOut: 0,
    ttft: new LatencyHistogram(),
    late: 0,
    gpuBusySeconds: 0,
    replicaSeconds: 0,
    kvSum: 0,
    queueSum: 0,
    samples: 0,
    downSteps: 0,
    steps: 0,
  };
}

/** Minutes of reports kept open: a first token can come several minutes after its request arrived. */
const OPEN_MINUTES = 16;

/** Seconds of a high-resolution report: what a server publishing with StorageResolution 1 sends every 10 s. */
export const HIGH_RESOLUTION_SECONDS = 10;

/** What a region's servers report for 10 s, for high-resolution metrics: the gateway's counts and the first tokens out in it. */
export interface HighResolutionReport {
  requests: number;
  serverErrors: number;
  readonly ttft: LatencyHistogram;
}

/** Ten-second reports kept open: as many as a minute's (a first token is counted when it comes out). */
const OPEN_BINS = (OPEN_MINUTES * 60) / HIGH_RESOLUTION_SECONDS;

export interface RegionOptions {
  readonly model: UnitModel;
  readonly replicas: number;
  readonly networkLatencyMs: number;
  readonly sloMs: number;
  readonly timeoutSeconds: number;
  readonly seed: number;
  readonly key: number;
  /** The region's name (keys its provisioning delays). */
  readonly name: string;
  /** How the region scales when asked; null: it holds `replicas` throughout. */
  readonly scaling: RegionScaling | null;
  /** Keep 10-second reports too (a high-resolution alarm watches the region). @default false */
  readonly highResolution?: boolean;
}

export class RegionSim implements UnitSink {
  /** The region's replicas as the platform holds them: asked for, launching, serving, draining. */
  readonly fleet: RegionFleet<ServingUnit>;
  /** Units in service, in replica order; the first `active` serve (an incident may take the rest away). */
  private units: ServingUnit[] = [];
  /** Units given back, finishing what they hold: no new requests. */
  private draining: ServingUnit[] = [];
  private readonly reports: MinuteReport[] = Array.from({ length: OPEN_MINUTES }, newReport);
  private readonly reportMinute = new Int32Array(OPEN_MINUTES).fill(-1);
  private readonly bins: HighResolutionReport[] = [];
  private readonly binIndex = new Int32Array(OPEN_BINS).fill(-1);
  private readonly rng = new Rng(0);
  private readonly jitter: Float64Array;
  private next = 0;
  private active: number;
  private wasDown = false;
  private addedLatencyMs = 0;

  constructor(private readonly options: RegionOptions) {
    this.fleet = new RegionFleet({
      region: options.name,
      seed: options.seed,
      base: Math.max(1, options.replicas),
      scaling: options.scaling,
      newUnit: () => new ServingUnit(options.model.params, this, options.timeoutSeconds),
      isIdle: (unit) => unit.waiting === 0 && unit.batch === 0,
    });
    this.fleet.advance(0);
    this.units = this.fleet.inServiceUnits();
    this.active = this.units.length;
    this.jitter = lognormalTable(options.model.prefillJitterSigma);
  }

  /** Replicas in service now (provisioned and warm, whatever an incident does to them). */
  get replicas(): number {
    return this.units.length;
  }

  /** The open report of minute m (the caller has not finished it yet). */
  report(m: number): MinuteReport {
    const i = m % OPEN_MINUTES;
    if (this.reportMinute[i] !== m) {
      // A slot is reused only once its minute was taken (takeReport): an old minute is never mixed in.
      const fresh = newReport();
      this.reports[i] = fresh;
      this.reportMinute[i] = m;
    }
    return this.reports[i]!;
  }

  /** The open 10-second report of bin b, when the region keeps them. */
  private bin(b: number): HighResolutionReport | undefined {
    if (!this.options.highResolution) return undefined;
    const i = b % OPEN_BINS;
    if (this.binIndex[i] !== b) {
      this.bins[i] = { requests: 0, serverErrors: 0, ttft: new LatencyHistogram() };
      this.binIndex[i] = b;
    }
    return this.bins[i];
  }

  /** Hands over the 10-second report of bin b (seconds 10b to 10b + 10); the region forgets it. */
  takeHighResolutionReport(b: number): HighResolutionReport {
    const report = this.bin(b) ?? { requests: 0, serverErrors: 0, ttft: new LatencyHistogram() };
    this.binIndex[b % OPEN_BINS] = -1;
    return report;
  }

  /** Hands over minute m's report; the region forgets it. */
  takeReport(m: number): MinuteReport {
    const report = this.report(m);
    this.reportMinute[m % OPEN_MINUTES] = -1;
    return report;
  }

  // UnitSink: what the units say happened.
  firstToken(t: number, ttftSeconds: number): void {
    const report = this.report(Math.floor(t / 60));
    const ms = ttftSeconds * 1000 + this.options.networkLatencyMs + this.addedLatencyMs;
    report.ttft.add(ms);
    if (ms > this.options.sloMs) report.late++;
    this.bin(Math.floor(t / HIGH_RESOLUTION_SECONDS))?.ttft.add(ms);
  }

  failed(t: number): void {
    this.report(Math.floor(t / 60)).timedOut++;
  }

  finished(): void {}

  /**
   * One step [t, t + dt) of step index s: `expected` requests on average reach the region (its
   * share of the demand); `prompts`/`outputs` hold the step's token mix (sampled per request).
   */
  step(
    s: number,
    t: number,
    dt: number,
    expected: number,
    condition: RegionCondition,
    mix: { prompts: ArrayLike<number>; outputs: ArrayLike<number>; offset: number; size: number },
  ): void {
    const m = Math.floor(t / 60);
    const report = this.report(m);
    report.steps++;
    if (this.fleet.advance(t)) {
      this.units = this.fleet.inServiceUnits();
      this.draining = this.fleet.drainingUnits();
    }
    this.rng.reseed(streamSeed(this.options.seed, this.options.key, s));
    const n = poissonCount(this.rng.next(), expected);
    report.requests += n;
    const bin = this.bin(Math.floor(t / HIGH_RESOLUTION_SECONDS));
    if (bin) bin.requests += n;
    if (condition.down) {
      // Connections refused; the instances and everything queued on them are gone.
      if (!this.wasDown) for (const unit of [...this.units, ...this.draining]) unit.reset(t);
      this.wasDown = true;
      report.serverErrors += n;
      if (bin) bin.serverErrors += n;
      report.downSteps++;
      return;
    }
    if (this.wasDown) for (const unit of [...this.units, ...this.draining]) unit.reset(t);
    this.wasDown = false;
    this.applyCondition(t, condition);
    const errorsBefore = report.serverErrors;
    this.arrive(t, dt, n, condition.errorRate, report, mix);
    if (bin) bin.serverErrors += report.serverErrors - errorsBefore;
    for (let u = 0; u < this.active; u++) this.units[u]!.runUntil(t + dt);
    for (const unit of this.draining) unit.runUntil(t + dt);
    this.sample(report, dt);
  }

  private applyCondition(t: number, condition: RegionCondition): void {
    // An incident takes a share of whatever serves: replicas added during it are hit alike.
    const active = Math.max(1, Math.min(this.units.length, Math.round(this.units.length * condition.capacityFactor)));
    // Replicas taken away lose what they held; replicas given back start empty. (A replica that
    // left the list was given back, and drains what it holds.)
    for (let u = active; u < Math.min(this.active, this.units.length); u++) this.units[u]!.reset(t);
    for (let u = this.active; u < active; u++) this.units[u]!.reset(t);
    this.active = active;
    for (let u = 0; u < active; u++) this.units[u]!.setSlowdown(condition.latencyFactor);
    for (const unit of this.draining) unit.setSlowdown(condition.latencyFactor);
    this.addedLatencyMs = condition.addedLatencyMs;
  }

  /** n requests at uniformly spread times (sorted, by exponential spacings), round robin over the replicas. */
  private arrive(
    t: number,
    dt: number,
    n: number,
    errorRate: number,
    report: MinuteReport,
    mix: { prompts: ArrayLike<number>; outputs: ArrayLike<number>; offset: number; size: number },
  ): void {
    if (n === 0) return;
    const rng = this.rng;
    let total = 0;
    const gaps = gapBuffer(n + 1);
    for (let i = 0; i <= n; i++) {
      const g = EXPONENTIAL_TABLE[rng.nextUint32() & 0xffff]!;
      gaps[i] = g;
      total += g;
    }
    let at = t;
    const scale = dt / total;
    for (let i = 0; i < n; i++) {
      at += gaps[i]! * scale;
      const a = rng.nextUint32();
      if (errorRate > 0 && rng.next() < errorRate) {
        report.serverErrors++;
        continue;
      }
      const k = mix.offset + ((a >>> 16) % mix.size);
      const unit = this.units[this.next++ % this.active]!;
      unit.arrive(at, mix.prompts[k]!, mix.outputs[k]!, this.jitter[a & 0xffff]!);
    }
  }

  /** The servers' gauges, over the replicas serving and those draining (they report until they leave). */
  private sample(report: MinuteReport, dt: number): void {
    let kv = 0;
    let waiting = 0;
    for (let u = 0; u < this.active; u++) {
      const unit = this.units[u]!;
      report.gpuBusySeconds += unit.takeBusySeconds();
      kv += unit.kvUsage;
      waiting += unit.waiting;
    }
    for (const unit of this.draining) {
      report.gpuBusySeconds += unit.takeBusySeconds();
      kv += unit.kvUsage;
      waiting += unit.waiting;
    }
    const reporting = this.active + this.draining.length;
    report.replicaSeconds += reporting * dt;
    report.kvSum += kv / reporting;
    report.queueSum += waiting / reporting;
    report.samples++;
  }
}

let gapArray = new Float64Array(1024);
function gapBuffer(n: number): Float64Array {
  if (gapArray.length < n) gapArray = new Float64Array(Math.max(n, gapArray.length * 2));
  return gapArray;
}

/** A Poisson count with mean `mean` from one uniform u (inverse CDF; normal approximation above 50). */
export function poissonCount(u: number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * inverseNormalCdf(Math.min(1 - 1e-12, Math.max(1e-12, u)))));
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  while (u > cumulative && k < 1000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}
