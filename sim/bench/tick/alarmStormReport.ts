/**
 * The alarm storm's report (bench:tick --alarm-storm): one JSON document, or the deliveries side by
 * side in a table.
 */
import { ALARM_RATE_SHARE, ALARM_TIMEOUT_SECONDS, type AlarmStormResult, type StormTickResult } from './alarmStorm.js';
import { REGIONS } from './fleet.js';

const round = (n: number, digits = 3) => Number(n.toFixed(digits));
const roundOrNull = (n: number | null, digits = 3) => (n === null ? null : round(n, digits));

export interface AlarmStormDocument {
  readonly services: number;
  readonly endpoints: number;
  readonly zones: number;
  readonly alarmStorm: {
    readonly failedRegion: string;
    readonly alarms: number;
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
    readonly rateShare: number;
    readonly deliveries: Readonly<Record<string, AlarmStormResult>>;
  };
}

function roundedTick(t: StormTickResult): StormTickResult {
  return {
    ...t,
    ticks: t.ticks.map((tick) => ({
      ...tick,
      firedSeconds: round(tick.firedSeconds),
      shards: tick.shards.map((s) => ({
        ...s,
        startSeconds: round(s.startSeconds),
        endSeconds: round(s.endSeconds),
        ioSeconds: round(s.ioSeconds),
        cpuSeconds: round(s.cpuSeconds),
      })),
    })),
    lastDrainSeconds: roundOrNull(t.lastDrainSeconds),
    cpuShare: round(t.cpuShare),
  };
}

export function alarmStormDocument(
  shape: { services: number; endpoints: number; zones: number; memoryMb?: number },
  results: readonly AlarmStormResult[],
): AlarmStormDocument {
  const rounded = (r: AlarmStormResult): AlarmStormResult => ({
    ...r,
    firstWriteSeconds: roundOrNull(r.firstWriteSeconds),
    medianWriteSeconds: roundOrNull(r.medianWriteSeconds),
    lastWriteSeconds: roundOrNull(r.lastWriteSeconds),
    endSeconds: round(r.endSeconds),
    cpuOnCriticalPathSeconds: round(r.cpuOnCriticalPathSeconds),
    invocationSeconds: round(r.invocationSeconds, 1),
    longestInvocationSeconds: round(r.longestInvocationSeconds),
    lambdaCostUsd: round(r.lambdaCostUsd, 5),
    pacerWaitSeconds: round(r.pacerWaitSeconds, 1),
    cpuSeconds: round(r.cpuSeconds),
    ...(r.tick ? { tick: roundedTick(r.tick) } : {}),
  });
  return {
    services: shape.services,
    endpoints: shape.endpoints,
    zones: shape.zones,
    alarmStorm: {
      failedRegion: REGIONS[0],
      alarms: results[0]?.alarms ?? 0,
      timeoutSeconds: ALARM_TIMEOUT_SECONDS,
      memoryMb: shape.memoryMb ?? 512,
      rateShare: ALARM_RATE_SHARE,
      deliveries: Object.fromEntries(results.map((r) => [r.delivery, rounded(r)])),
    },
  };
}

const LABEL = 40;
const COLUMN = 30;

export function printAlarmStorm(document: AlarmStormDocument): void {
  const { alarmStorm: storm } = document;
  const results = Object.values(storm.deliveries);
  const row = (label: string, cell: (r: AlarmStormResult) => string) =>
    console.log(`  ${label.padEnd(LABEL)}${results.map((r) => cell(r).padEnd(COLUMN)).join('')}`.trimEnd());
  const seconds = (n: number | null) => (n === null ? '—' : `${n} s`);
  const keys = (pick: (r: AlarmStormResult) => Readonly<Record<string, number>>) => [...new Set(results.flatMap((r) => Object.keys(pick(r))))].sort();

  console.log(
    `bench:tick --alarm-storm — ${document.services} services × ${document.endpoints} endpoints in ${document.zones} hosted zones: ${storm.failedRegion} fails, ${storm.alarms} error alarms go OK→ALARM at once`,
  );
  console.log(
    `  the alarm function: ${storm.timeoutSeconds} s timeout (its deadline), ${storm.memoryMb} MB, ${storm.rateShare * 100}% of the account's API rates; one tick read the healthy fleet before;`,
  );
  const tick = results[0]?.tick;
  console.log(
    `  the events arrive ${results[0]?.arrival === 'by-zone' ? 'a hosted zone’s together (--arrival by-zone)' : 'in no particular order (a batch spans most zones)'}; ${tick ? 'the schedule’s tick runs during the storm (below);' : 'no tick runs during the storm;'}`,
  );
  if (tick)
    console.log(
      `  the tick fires ${tick.atSeconds} s after the storm’s start, then every minute while services remain undrained (≤ ${tick.maxTicks} ticks), its shards on the same account’s buckets;\n` +
        '  the rows down to ‘requests over a Route 53 batch limit’ are the alarm function’s (its CPU split from the tick’s by API calls); services drained counts either’s drains;',
    );
  console.log('  times are virtual seconds from the storm’s start, waiting on AWS (CPU not on the clock); nothing delivered again is run\n');
  console.log(`  ${''.padEnd(LABEL)}${results.map((r) => r.delivery.padEnd(COLUMN)).join('')}`.trimEnd());
  row('delivery', (r) => (r.delivery === 'direct' ? 'an invocation per event' : `batches of ${r.batch}, ≤ ${r.maxConcurrency} at once`));
  row(`services drained (${storm.failedRegion} at 0)`, (r) => String(r.drained));
  row('services not drained', (r) => String(r.notDrained));
  row('weights written: first / median', (r) => `${seconds(r.firstWriteSeconds)} / ${seconds(r.medianWriteSeconds)}`);
  row('weights written: last service', (r) => `${seconds(r.lastWriteSeconds)} (${r.servicesWritten} services)`);
  row('last invocation ended', (r) => seconds(r.endSeconds));
  row('CPU left off the clock (critical path)', (r) => `≤ ${r.cpuOnCriticalPathSeconds} s more`);
  row('invocations', (r) => String(r.invocations));
  row('peak concurrent invocations', (r) => String(r.peakConcurrency));
  row('invocation-seconds (Lambda cost)', (r) => `${r.invocationSeconds} s ($${r.lambdaCostUsd})`);
  row('longest invocation (+ its CPU)', (r) => seconds(r.longestInvocationSeconds));
  row(`invocations past the ${storm.timeoutSeconds} s timeout`, (r) => String(r.pastTimeout));
  row('invocations returning records', (r) => String(r.failedInvocations));
  row('alarm events to deliver again', (r) => String(r.redelivered));
  row('pacer waits, summed', (r) => seconds(r.pacerWaitSeconds));
  row('alarm changes acted on', (r) => String(r.screening.acted));
  for (const why of keys((r) => r.screening.ignored)) row(`  ignored: ${why}`, (r) => String(r.screening.ignored[why] ?? 0));
  for (const code of keys((r) => r.screening.refused)) row(`  refused: ${code}`, (r) => String(r.screening.refused[code] ?? 0));
  for (const status of keys((r) => r.evaluations)) row(`evaluations ${status}`, (r) => String(r.evaluations[status] ?? 0));
  const failures = keys((r) => r.evaluationFailures);
  if (failures.length === 0) row('evaluations failed', () => '0');
  for (const name of failures) {
    console.log(`  evaluations failed: ${name}`);
    row('', (r) => String(r.evaluationFailures[name] ?? 0));
  }
  console.log('  API calls (throttled):');
  for (const op of keys((r) => ({ ...r.calls, ...r.throttled }))) row(`  ${op}`, (r) => `${r.calls[op] ?? 0}${r.throttled[op] ? ` (${r.throttled[op]})` : ''}`);
  row('requests over a Route 53 batch limit', (r) => String(r.overBatchLimits));
  row('CPU on this machine', (r) => seconds(r.cpuSeconds));
  if (results.some((r) => r.tick)) printTicks(results, row, keys);
}

type Row = (label: string, cell: (r: AlarmStormResult) => string) => void;
type Keys = (pick: (r: AlarmStormResult) => Readonly<Record<string, number>>) => string[];

/** The schedule's ticks during the storm (--with-tick), under the alarm function's rows. */
function printTicks(results: readonly AlarmStormResult[], row: Row, keys: Keys): void {
  const seconds = (n: number | null) => (n === null ? '—' : `${n} s`);
  /** A row whose label does not fit goes on a line of its own, its cells under it. */
  const wide: Row = (label, cell) => {
    if (label.length < LABEL) return row(label, cell);
    console.log(`  ${label}`);
    row('', cell);
  };
  const ticksOf = (r: AlarmStormResult) => r.tick?.ticks ?? [];
  console.log('  with the tick:');
  row('last service drained', (r) =>
    r.tick ? `${seconds(r.tick.lastDrainSeconds)} (${r.tick.allDrained ? 'every service' : `${r.notDrained} not drained`})` : '—',
  );
  row('drains written: alarm function / tick', (r) => (r.tick ? `${r.tick.drainsByAlarm} / ${r.tick.drainsByTick}` : '—'));
  row('ticks run', (r) => String(ticksOf(r).length));
  const most = Math.max(...results.map((r) => ticksOf(r).length));
  for (let k = 0; k < most; k += 1) {
    const tickOf = (r: AlarmStormResult) => ticksOf(r)[k];
    row(`tick ${k + 1}: fired at / services read`, (r) => {
      const t = tickOf(r);
      return t ? `${t.firedSeconds} s / ${t.read} of ${t.shards.reduce((sum, s) => sum + s.services, 0)}` : '—';
    });
    const shardIds = [...new Set(results.flatMap((r) => (tickOf(r)?.shards ?? []).map((s) => s.id)))];
    for (const id of shardIds) {
      const shardOf = (r: AlarmStormResult) => tickOf(r)?.shards.find((s) => s.id === id);
      const pick = (f: (s: NonNullable<ReturnType<typeof shardOf>>) => Readonly<Record<string, number>>) => (r: AlarmStormResult) => {
        const s = shardOf(r);
        return s ? f(s) : {};
      };
      row(`  ${id}: ran (+ its CPU, est.)`, (r) => {
        const s = shardOf(r);
        if (!s) return '—';
        return s.skipped ? 'skipped (stale)' : `${s.startSeconds} → ${s.endSeconds} s (+ ≈${s.cpuSeconds} s)`;
      });
      /** A shard's figure, or — where its tick did not run. */
      const cell = (f: (s: NonNullable<ReturnType<typeof shardOf>>) => number | undefined) => (r: AlarmStormResult) => {
        const s = shardOf(r);
        return s ? String(f(s) ?? 0) : '—';
      };
      row(
        `  ${id}: services read`,
        cell((s) => s.read),
      );
      const throttled = keys(pick((s) => s.throttled));
      if (throttled.length === 0)
        row(
          `  ${id}: throttled`,
          cell(() => 0),
        );
      for (const op of throttled)
        wide(
          `  ${id}: throttled ${op}`,
          cell((s) => s.throttled[op]),
        );
      for (const status of keys(pick((s) => s.evaluations)))
        wide(
          `  ${id}: evaluations ${status}`,
          cell((s) => s.evaluations[status]),
        );
      if (results.some((r) => (shardOf(r)?.repaired ?? 0) > 0))
        wide(
          `  ${id}: of which completed an earlier write`,
          cell((s) => s.repaired),
        );
      const failures = keys(pick((s) => s.failures));
      if (failures.length === 0)
        row(
          `  ${id}: evaluations failed`,
          cell(() => 0),
        );
      for (const name of failures)
        wide(
          `  ${id}: evaluations failed: ${name}`,
          cell((s) => s.failures[name]),
        );
    }
  }
  console.log('  the account’s API calls (throttled), alarm function and tick:');
  for (const op of keys((r) => ({ ...r.tick?.accountCalls, ...r.tick?.accountThrottled })))
    row(`  ${op}`, (r) => (r.tick ? `${r.tick.accountCalls[op] ?? 0}${r.tick.accountThrottled[op] ? ` (${r.tick.accountThrottled[op]})` : ''}` : '—'));
  row('CPU put down to the tick', (r) => (r.tick ? `${Math.round(r.tick.cpuShare * 100)}%` : '—'));
}
