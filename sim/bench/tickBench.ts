/**
 * bench:tick — one scheduled tick of a fleet, through the real use case and the real AWS adapters
 * against in-process fakes that enforce AWS's documented limits and charge an assumed latency per
 * call (sim/bench/tick/awsFigures.ts says which figure comes from where), on virtual time.
 *
 *   npm run bench:tick -- --services 1000 --endpoints 5 --zones 20 [--incident 0.1] [--memory 512]
 *                         [--target 20] [--shard-size N] [--outage [--health-check-reads N]] [--json]
 *
 * --outage: every service's first region is down from the start, and every record has a Route 53
 * health check (fleet.ts); the first tick drains the region, the next ones read the drained records'
 * health checks, at most --health-check-reads a tick (default: as the AWS runtime sizes it).
 *
 * Reports the first tick (every service read: the worst tick) — API calls by service and
 * operation, each shard's simulated time (waiting on AWS, plus its share of the CPU as a Lambda of
 * that memory would take it) and the critical path, the CPU of the tick on this machine — and the
 * steady state (the average tick of a whole quiet cycle after it) with the monthly cost per
 * service. With --json, exactly one JSON document.
 *
 *   npm run bench:tick -- --services 1000 --endpoints 5 --zones 20 --alarm-storm
 *                         [--delivery direct|queued|both] [--batch 50] [--max-concurrency 2] [--arrival any|by-zone]
 *                         [--with-tick [--tick-at SECONDS]] [--json]
 *
 * --alarm-storm: instead of the ticks, the alarm function through a region's failure
 * (tick/alarmStorm.ts). It brings the outage world of --outage with it, from the storm's start, so
 * --outage, --incident and --health-check-reads are refused with it. Reports per delivery, side by
 * side: how many services ended drained and when their weights were written, the invocations, the
 * peak concurrency and the invocation-seconds, the API calls and throttles, what screening ignored
 * and which evaluations failed.
 *
 * --with-tick: the schedule's tick of the minute runs during the storm, on the same account's
 * buckets, firing --tick-at seconds after the storm's start (default 0: its shards start with the
 * alarm invocations), and the next minute's while services remain undrained. Adds, per delivery:
 * when the last service was drained and by whom (alarm function or tick), each tick's shards (time,
 * throttles, failures, evaluations by status and mode), and the whole account's throttles.
 */
import { parseArgs } from 'node:util';
import { monthlyCost, perService, type MonthlyCost, type TickUsage } from './tick/costModel.js';
import { ALARM_QUEUE_BATCH, ALARM_QUEUE_CONCURRENCY, type AlarmArrival, type AlarmDelivery } from './tick/alarmStorm.js';
import { REGIONS } from './tick/fleet.js';
import { runTickBench, type TickBenchRun, type TickResult } from './tick/tickRun.js';

const usage = [
  'usage: npm run bench:tick -- --services N --endpoints E --zones Z [--incident 0.1] [--memory 512] [--target 20] [--shard-size N] [--outage [--health-check-reads N]] [--json]',
  '       npm run bench:tick -- --services N --endpoints E --zones Z --alarm-storm [--delivery direct|queued|both] [--batch 50] [--max-concurrency 2] [--arrival any|by-zone] [--with-tick [--tick-at 0]] [--memory 512] [--json]',
  '  --alarm-storm: the first region fails and every service’s error alarm on it goes to ALARM at once; it implies the outage world,',
  '  so --outage, --incident and --health-check-reads do not go with it. --batch (1-10000) and --max-concurrency (2-1000): the queued delivery’s.',
  '  --arrival: the events in no particular order (any, the default) or a hosted zone’s together (by-zone: the best case for batches).',
  '  --with-tick: the schedule’s tick runs during the storm, firing --tick-at (0-59) seconds after its start, then every minute while services remain undrained.',
].join('\n');

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        services: { type: 'string', default: '1000' },
        endpoints: { type: 'string', default: '5' },
        zones: { type: 'string', default: '20' },
        incident: { type: 'string' },
        memory: { type: 'string', default: '512' },
        target: { type: 'string', default: '20' },
        'shard-size': { type: 'string' },
        outage: { type: 'boolean', default: false },
        'health-check-reads': { type: 'string' },
        'alarm-storm': { type: 'boolean', default: false },
        delivery: { type: 'string' },
        batch: { type: 'string' },
        'max-concurrency': { type: 'string' },
        arrival: { type: 'string' },
        'with-tick': { type: 'boolean', default: false },
        'tick-at': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`bench:tick: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const { values } = parseCommandLine();

function refuse(message: string): never {
  console.error(`bench:tick: ${message}\n${usage}`);
  process.exit(2);
}

function whole(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`bench:tick: --${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    process.exit(2);
  }
  return n;
}

const incident = Number(values.incident ?? '0');
if (!(incident >= 0 && incident <= 1)) {
  console.error(`bench:tick: --incident must be a share from 0 to 1, got "${values.incident}"`);
  process.exit(2);
}
const alarmStorm = values['alarm-storm'] === true;
if (alarmStorm) {
  const clashing = [
    values.outage ? '--outage' : '',
    values.incident !== undefined ? '--incident' : '',
    values['health-check-reads'] !== undefined ? '--health-check-reads' : '',
  ].filter(Boolean);
  if (clashing.length > 0)
    refuse(`--alarm-storm brings its own outage world (the first region fails at the storm's start): ${clashing.join(', ')} cannot go with it`);
  if (values.delivery !== undefined && !['direct', 'queued', 'both'].includes(values.delivery))
    refuse(`--delivery must be direct, queued or both, got "${values.delivery}"`);
  if (values.arrival !== undefined && !['any', 'by-zone'].includes(values.arrival)) refuse(`--arrival must be any or by-zone, got "${values.arrival}"`);
  if (values.delivery === 'direct' && (values.batch !== undefined || values['max-concurrency'] !== undefined))
    refuse('--batch and --max-concurrency are the queued delivery’s: not with --delivery direct');
  if (values['tick-at'] !== undefined && values['with-tick'] !== true) refuse('--tick-at goes with --with-tick only');
} else {
  const stormOnly = [
    values.delivery !== undefined ? '--delivery' : '',
    values.batch !== undefined ? '--batch' : '',
    values['max-concurrency'] !== undefined ? '--max-concurrency' : '',
    values.arrival !== undefined ? '--arrival' : '',
    values['with-tick'] === true ? '--with-tick' : '',
    values['tick-at'] !== undefined ? '--tick-at' : '',
  ].filter(Boolean);
  if (stormOnly.length > 0) refuse(`${stormOnly.join(', ')} ${stormOnly.length === 1 ? 'goes' : 'go'} with --alarm-storm only`);
}
const options = {
  services: whole('services', values.services, 1, 20_000),
  endpoints: whole('endpoints', values.endpoints, 1, 10),
  zones: whole('zones', values.zones, 1, 1000),
  incident,
  memoryMb: whole('memory', values.memory, 128, 10_240),
  targetSeconds: whole('target', values.target, 1, 45),
  ...(values['shard-size'] !== undefined ? { shardSize: whole('shard-size', values['shard-size'], 1, 20_000) } : {}),
  outage: values.outage === true,
  ...(values['health-check-reads'] !== undefined ? { healthCheckReadsPerTick: whole('health-check-reads', values['health-check-reads'], 1, 1_000_000) } : {}),
};

const stormOptions = alarmStorm
  ? {
      deliveries: (values.delivery === 'direct' ? ['direct'] : values.delivery === 'queued' ? ['queued'] : ['direct', 'queued']) satisfies AlarmDelivery[],
      batch: whole('batch', values.batch ?? String(ALARM_QUEUE_BATCH), 1, 10_000),
      maxConcurrency: whole('max-concurrency', values['max-concurrency'] ?? String(ALARM_QUEUE_CONCURRENCY), 2, 1000),
      arrival: (values.arrival === 'by-zone' ? 'by-zone' : 'any') as AlarmArrival,
      ...(values['with-tick'] === true ? { tick: { atSeconds: whole('tick-at', values['tick-at'] ?? '0', 0, 59) } } : {}),
    }
  : undefined;

/** The average of the ticks after the first: a whole quiet cycle. */
function steadyUsage(run: TickBenchRun): TickUsage {
  const ticks = run.ticks.slice(1);
  const mean = (f: (t: TickResult) => number) => ticks.reduce((sum, t) => sum + f(t), 0) / ticks.length;
  const ops = [...new Set(ticks.flatMap((t) => Object.keys(t.calls)))];
  return {
    calls: Object.fromEntries(ops.map((op) => [op, mean((t) => t.calls[op] ?? 0)])),
    metricsRequested: mean((t) => t.metricsRequested),
    readUnits: mean((t) => t.readUnits),
    writeUnits: mean((t) => t.writeUnits),
    servicesRead: mean((t) => t.servicesRead),
    shardSeconds: run.shards.map((_, i) => mean((t) => t.shards[i]!.simulatedSeconds)),
  };
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));
const roundCost = (cost: MonthlyCost) => Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round(v, 4)]));

/** The alarm storm, each delivery on a fleet of its own. */
async function alarmStormBench(storm: NonNullable<typeof stormOptions>): Promise<void> {
  // Loaded only here: it brings the alarm handler's edge along.
  const { runAlarmStorm } = await import('./tick/alarmStorm.js');
  const { alarmStormDocument, printAlarmStorm } = await import('./tick/alarmStormReport.js');
  const results = [];
  for (const delivery of storm.deliveries) {
    results.push(
      await runAlarmStorm({
        ...options,
        delivery,
        batch: storm.batch,
        maxConcurrency: storm.maxConcurrency,
        arrival: storm.arrival,
        ...(storm.tick ? { tick: storm.tick } : {}),
      }),
    );
  }
  const document = alarmStormDocument(options, results);
  if (values.json) console.log(JSON.stringify(document, null, 2));
  else printAlarmStorm(document);
}

/** The ticks: the first, then a whole quiet cycle. */
async function tickBench(): Promise<void> {
  const run = await runTickBench(options);
  const first = run.ticks[0]!;
  const steady = steadyUsage(run);
  const alarmSignals = run.config.services.reduce(
    (sum, s) => sum + s.endpoints.reduce((n, e) => n + e.signals.filter((g) => g.source === 'alarm').length, 0),
    0,
  );
  // The construct's dashboards: one per service and one for the ticks.
  const inputs = {
    services: options.services,
    endpoints: options.endpoints,
    shards: run.shards.length,
    memoryMb: run.memoryMb,
    dashboards: options.services + 1,
    alarmSignals,
  };
  const cost = perService(monthlyCost(steady, inputs), options.services);
  const maxShardSeconds = Math.max(...first.shards.map((s) => s.simulatedSeconds));
  const document = {
    services: options.services,
    endpoints: options.endpoints,
    zones: options.zones,
    incident: options.incident,
    shardSize: run.shardSize,
    calls: first.calls,
    throttled: first.throttled,
    overBatchLimits: run.ticks.reduce((sum, t) => sum + t.overBatchLimits, 0),
    failures: run.ticks.reduce((sum, t) => sum + t.failures, 0),
    skippedShardTicks: run.ticks.reduce((sum, t) => sum + t.skipped, 0),
    simulatedSeconds: round(maxShardSeconds),
    shards: first.shards.map((s) => ({ ...s, ioSeconds: round(s.ioSeconds), cpuSeconds: round(s.cpuSeconds), simulatedSeconds: round(s.simulatedSeconds) })),
    maxShardSeconds: round(maxShardSeconds),
    cpuSeconds: round(first.cpuSeconds),
    /** The slowest shard of any tick of the run (with an incident, the ticks that write Route 53). */
    worstTick: (() => {
      const worst = run.ticks.reduce((a, b) =>
        Math.max(...b.shards.map((x) => x.simulatedSeconds)) > Math.max(...a.shards.map((x) => x.simulatedSeconds)) ? b : a,
      );
      return {
        minute: worst.minute,
        maxShardSeconds: round(Math.max(...worst.shards.map((x) => x.simulatedSeconds))),
        calls: worst.calls,
        throttled: worst.throttled,
      };
    })(),
    steadyState: {
      ticks: run.ticks.length - 1,
      servicesReadPerTick: round(steady.servicesRead, 1),
      callsPerTick: Object.fromEntries(Object.entries(steady.calls).map(([op, n]) => [op, round(n, 1)])),
      metricsRequestedPerTick: round(steady.metricsRequested, 1),
      maxShardSeconds: round(Math.max(...steady.shardSeconds)),
    },
    costPerServiceMonthUsd: round(cost.total, 4),
    costPerServiceMonth: roundCost(cost),
  };

  if (values.json) {
    console.log(JSON.stringify(document, null, 2));
  } else {
    const line = (label: string, value: string) => console.log(`  ${label.padEnd(34)} ${value}`);
    console.log(
      `bench:tick — ${options.services} services × ${options.endpoints} endpoints in ${options.zones} hosted zones${options.incident > 0 ? `, ${Math.round(options.incident * 100)}% in an incident` : ''}${options.outage ? `, ${REGIONS[0]} down (health checks read: ${options.healthCheckReadsPerTick ?? 'as sized'} a tick)` : ''}`,
    );
    console.log(
      `  ${run.shards.length} shard(s) of at most ${run.shardSize} services; ${run.memoryMb} MB functions; latencies and limits: sim/bench/tick/awsFigures.ts\n`,
    );
    console.log('first tick (every service read):');
    for (const [op, n] of Object.entries(first.calls).sort()) line(op, String(n));
    line('throttled', JSON.stringify(first.throttled));
    line('requests over a Route 53 batch limit', String(document.overBatchLimits));
    for (const s of document.shards)
      line(`${s.id} (${s.services} services, ${s.zones} zones)`, `${s.simulatedSeconds} s = ${s.ioSeconds} s waiting on AWS + ${s.cpuSeconds} s CPU`);
    line('critical path', `${document.maxShardSeconds} s`);
    line('CPU on this machine', `${document.cpuSeconds} s`);
    line('slowest shard of any tick', `${document.worstTick.maxShardSeconds} s (minute ${document.worstTick.minute})`);
    line('shard ticks skipped (ran over)', String(document.skippedShardTicks));
    console.log(`\nsteady state (average of ${document.steadyState.ticks} ticks):`);
    line('services read a tick', String(document.steadyState.servicesReadPerTick));
    for (const [op, n] of Object.entries(document.steadyState.callsPerTick).sort()) line(op, String(n));
    line('metrics requested a tick', String(document.steadyState.metricsRequestedPerTick));
    console.log('\nmonthly cost per service (USD):');
    for (const [k, v] of Object.entries(document.costPerServiceMonth)) line(k, v.toFixed(4));
  }
}

if (stormOptions) await alarmStormBench(stormOptions);
else await tickBench();
