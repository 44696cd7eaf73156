/**
 * Sharded ticks: the schedule splits the services into shards, each evaluated by its own
 * invocation, so that each finishes well inside the function's timeout at the paced API rates.
 *
 * Shards are made of whole hosted zones first (every zone is read once per tick, so a zone split
 * over two shards is read twice), in config order; a zone with more services than a shard holds is
 * split. A service is always in exactly one shard, and a shard's tick of a minute runs once (a
 * tick claim per shard and minute; a shard started after the next tick fired is skipped): the tick
 * stays the single writer of each service it evaluates, as without shards (any other writer, an
 * alarm or a deployment event, is kept out by the state's version and the intent lease, unchanged).
 *
 * How many services a shard holds comes from an estimate of a shard's time (`estimateShardSeconds`),
 * from the calls it makes and what each costs: see `TickCostModel` for the figures and why.
 */
import type { ServiceConfig } from '../core/config.js';
import { canaryQueryOf } from '../core/canaryLatency.js';
import { defaultMinSamples, percentileOf } from '../core/percentiles.js';

export interface Shard {
  /** `shard-01`, `shard-02`, …: the tick claim's key, the metrics dimension and the dashboard's line. */
  readonly id: string;
  readonly services: readonly string[];
  readonly zones: readonly string[];
}

/**
 * What a tick's calls and work cost, for the estimate. The latencies are steer53's assumptions
 * (AWS publishes no per-call latency), the same ones `npm run bench:tick` charges its fakes with;
 * the CPU figure is measured by that benchmark on a development machine, and scaled to Lambda's
 * share of a vCPU at the function's memory (1,769 MB is one vCPU: Lambda developer guide, "Memory
 * and computing power").
 */
export interface TickCostModel {
  readonly latencyMs: {
    readonly batchGetItem: number;
    readonly putItem: number;
    readonly getMetricData: number;
    readonly describeAlarms: number;
    readonly listResourceRecordSets: number;
    readonly changeResourceRecordSets: number;
  };
  /** CPU of one evaluated service on one full vCPU. */
  readonly cpuMsPerService: number;
  /** The function's memory: its share of a vCPU is memory / 1,769 MB. */
  readonly memoryMb: number;
  /** Services decided at once (RuntimeOptions.concurrency). */
  readonly concurrency: number;
  /** Route 53 requests a second and burst this shard may use (its share of the account's). */
  readonly route53: { readonly perSecond: number; readonly burst: number };
}

export const DefaultTickCostModel: TickCostModel = {
  latencyMs: { batchGetItem: 20, putItem: 10, getMetricData: 300, describeAlarms: 100, listResourceRecordSets: 150, changeResourceRecordSets: 250 },
  cpuMsPerService: 6,
  memoryMb: 512,
  concurrency: 4,
  route53: { perSecond: 10, burst: 50 },
};

/** GetMetricData queries per call, DescribeAlarms names per call, BatchGetItem keys per call, records per page. */
const PER_CALL = { queries: 500, alarms: 100, keys: 100, records: 300 } as const;
const ONE_VCPU_MB = 1769;

function queriesOf(service: ServiceConfig): Map<string, { queries: number; alarms: number }> {
  const byRegion = new Map<string, { queries: number; alarms: number }>();
  for (const endpoint of service.endpoints) {
    const region = byRegion.get(endpoint.region) ?? { queries: 0, alarms: 0 };
    for (const signal of endpoint.signals) {
      if (signal.source === 'alarm') region.alarms += 1;
      else {
        const statistic = signal.metric.statistic;
        // A percentile is asked with its SampleCount where too few samples make it unknown (observe.ts).
        region.queries += percentileOf(statistic) !== undefined && (signal.minSamples ?? defaultMinSamples(statistic)) > 1 ? 2 : 1;
      }
    }
    if (endpoint.load) region.queries += 1;
    // The canary's statistic of the rollout latency signal, with its SampleCount (observe.ts).
    const canary = canaryQueryOf(endpoint, service.policy.rollout);
    if (canary) region.queries += percentileOf(canary.statistic) !== undefined ? 2 : 1;
    byRegion.set(endpoint.region, region);
  }
  return byRegion;
}

/**
 * A shard's time when every one of its services is read and decided (the worst tick: the first
 * after a deploy, or an incident on them all) and, with `writes`, every zone written.
 */
export function estimateShardSeconds(services: readonly ServiceConfig[], model: TickCostModel = DefaultTickCostModel, writes = false): number {
  const { latencyMs: l } = model;
  const states = Math.ceil(services.length / PER_CALL.keys) * l.batchGetItem;
  const regions = new Map<string, { queries: number; alarms: number }>();
  for (const s of services)
    for (const [region, q] of queriesOf(s)) {
      const r = regions.get(region) ?? { queries: 0, alarms: 0 };
      regions.set(region, { queries: r.queries + q.queries, alarms: r.alarms + q.alarms });
    }
  const observe = Math.max(
    0,
    ...[...regions.values()].map((r) =>
      Math.max(Math.ceil(r.queries / PER_CALL.queries) * l.getMetricData, Math.ceil(r.alarms / PER_CALL.alarms) * l.describeAlarms),
    ),
  );
  const zones = new Map<string, number>();
  for (const s of services) zones.set(s.hostedZoneId, (zones.get(s.hostedZoneId) ?? 0) + s.endpoints.length);
  const pages = [...zones.values()].map((records) => Math.max(1, Math.ceil(records / PER_CALL.records)));
  const paced = (calls: number) => (Math.max(0, calls - model.route53.burst) / model.route53.perSecond) * 1000;
  const reads = Math.max(Math.max(0, ...pages) * l.listResourceRecordSets, paced(pages.reduce((a, b) => a + b, 0)));
  // The CPU is one thread's: deciding several services at once overlaps their writes, not their CPU.
  const cpu = model.cpuMsPerService * Math.max(1, ONE_VCPU_MB / model.memoryMb);
  const decide = services.length * cpu + (services.length * l.putItem) / model.concurrency;
  const write = writes ? zones.size * l.changeResourceRecordSets + paced(zones.size) : 0;
  return (states + Math.max(observe, reads) + decide + write) / 1000;
}

/**
 * Packs services into shards of at most `maxServices`, whole hosted zones first: zones in the
 * order the config first names them, a zone that does not fit what is left of a shard starting
 * the next one, and only a zone larger than a shard split (over as few shards as it needs).
 */
export function planShards(services: readonly ServiceConfig[], maxServices: number): Shard[] {
  if (!Number.isInteger(maxServices) || maxServices < 1) throw new RangeError(`a shard holds at least one service, got ${maxServices}`);
  const zones = new Map<string, ServiceConfig[]>();
  for (const s of services) zones.set(s.hostedZoneId, [...(zones.get(s.hostedZoneId) ?? []), s]);
  const bins: ServiceConfig[][] = [];
  let bin: ServiceConfig[] = [];
  for (const zone of zones.values()) {
    if (bin.length + zone.length > maxServices) bin = [];
    for (const service of zone) {
      if (bin.length === maxServices) bin = [];
      if (bin.length === 0) bins.push(bin);
      bin.push(service);
    }
  }
  const width = Math.max(2, String(bins.length).length);
  return bins.map((b, i) => ({
    id: `shard-${String(i + 1).padStart(width, '0')}`,
    services: b.map((s) => s.name),
    zones: [...new Set(b.map((s) => s.hostedZoneId))],
  }));
}

/**
 * The largest shard that the estimate says finishes within `targetSeconds`, when the account's
 * Route 53 rate is shared by as many concurrent shards as that size makes.
 */
export function shardSizeFor(services: readonly ServiceConfig[], targetSeconds: number, model: TickCostModel = DefaultTickCostModel): number {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (let count = 1; count <= services.length; count += 1) {
    const size = Math.ceil(services.length / count);
    const shards = planShards(services, size);
    const share = { perSecond: model.route53.perSecond / shards.length, burst: Math.max(1, model.route53.burst / shards.length) };
    const worst = Math.max(
      ...shards.map((shard) =>
        estimateShardSeconds(
          shard.services.map((n) => byName.get(n)!),
          { ...model, route53: share },
          true,
        ),
      ),
    );
    if (worst <= targetSeconds) return size;
  }
  return 1;
}
