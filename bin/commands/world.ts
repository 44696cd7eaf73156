/**
 * `steer53 world sweep`: fit the simulator's serving-unit model to a load-test table and show what
 * the fitted world does across loads, beside what the table measured where it has the point.
 *
 *   steer53 world sweep --calibration FILE [--calibration FILE…] (--concurrency 1,4,16 | --rps 1,5,10)
 *                       [--fit-loads 1,64,256] [--json]
 *
 * `--fit-loads` fits from those rows only, so the others are held back and show how well the
 * model predicts what it was not fitted to. With `--json`, exactly one document on stdout:
 * `{ "points": [ { "concurrency"|"rps", "ttftP50Ms", "ttftP95Ms", "ttftP99Ms", "reqPerS", "gpuUtil", "kvCache" } ] }`
 * (gpuUtil and kvCache in percent).
 */
import { parseArgs } from 'node:util';
import type { ValidationProblem } from '../../functions/core/config.js';
import {
  type CalibrationFit,
  type CalibrationTable,
  fitCalibration,
  loadCalibration,
  loadFor,
  type LoadKind,
  type MetricColumn,
  missProblems,
  selectPoints,
} from '../../sim/calibration.js';
import { type LoadResult, runLoadPoint } from '../../sim/loadTest.js';

export const WORLD_USAGE = 'steer53 world sweep --calibration FILE [--calibration FILE…] (--concurrency 1,4,16 | --rps 1,5,10) [--fit-loads 1,64,256] [--json]';

export interface WorldIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface SweepPoint {
  readonly concurrency?: number;
  readonly rps?: number;
  readonly ttftP50Ms: number;
  readonly ttftP95Ms: number;
  readonly ttftP99Ms: number;
  readonly reqPerS: number;
  readonly gpuUtil: number;
  readonly kvCache: number;
}

interface SweepRequest {
  readonly files: readonly string[];
  readonly kind: LoadKind;
  readonly loads: readonly number[];
  readonly fitLoads: readonly number[] | undefined;
  readonly json: boolean;
}

export async function runWorld(args: readonly string[], io: WorldIo): Promise<number> {
  const parsed = parseSweepArgs(args, io);
  if (typeof parsed === 'number') return parsed;
  const table = loadCalibration(parsed.files);
  const fitTable = parsed.fitLoads ? selectPoints(table, parsed.fitLoads) : table;
  io.err(`fitting the serving-unit model to ${fitTable.points.length} row(s) of ${table.source}…`);
  const fit = fitCalibration(fitTable);
  const results = parsed.loads.map((load) => ({
    load,
    result: runLoadPoint(fit.model, fit.model.workload, loadFor({ ...fit.model, kind: parsed.kind }, load), { seconds: 600 }),
  }));
  const points = results.map(({ load, result }) => sweepPoint(parsed.kind, load, result));
  if (parsed.json) {
    io.out(JSON.stringify({ points }));
  } else {
    for (const line of sweepLines(parsed.kind, table, fit, results)) io.out(line);
  }
  if (fit.misses.length > 0) {
    io.err(`the fit cannot match ${fitTable.source} within ±25%:`);
    for (const problem of missProblems(fit, fitTable.kind)) io.err(`  ${problem.path}: ${problem.message}`);
    return 1;
  }
  return 0;
}

function parseSweepArgs(args: readonly string[], io: WorldIo): SweepRequest | number {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    io.err(`steer53 world: ${(error as Error).message}`);
    io.err(`usage: ${WORLD_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`usage: ${WORLD_USAGE}`);
    return 0;
  }
  const problems: ValidationProblem[] = [];
  if (positionals[0] !== 'sweep' || positionals.length !== 1)
    problems.push({ path: '<subcommand>', message: `must be sweep (got ${positionals.join(' ') || 'nothing'})` });
  if (!values.calibration || values.calibration.length === 0)
    problems.push({ path: '--calibration', message: 'is required: a load-test CSV or vllm bench serve JSON files' });
  if ((values.concurrency === undefined) === (values.rps === undefined))
    problems.push({ path: '--concurrency', message: 'give exactly one of --concurrency or --rps' });
  const kind: LoadKind = values.concurrency !== undefined ? 'concurrency' : 'rps';
  const loads = numberList(values.concurrency ?? values.rps, `--${kind}`, problems, kind === 'concurrency');
  const fitLoads = values['fit-loads'] === undefined ? undefined : numberList(values['fit-loads'], '--fit-loads', problems, false);
  if (problems.length > 0) {
    for (const p of problems) io.err(`steer53 world: ${p.path}: ${p.message}`);
    io.err(`usage: ${WORLD_USAGE}`);
    return 2;
  }
  return { files: values.calibration!, kind, loads, fitLoads, json: values.json };
}

function parseOptions(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      calibration: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      rps: { type: 'string' },
      'fit-loads': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
}

function numberList(text: string | undefined, flag: string, problems: ValidationProblem[], integers: boolean): number[] {
  if (text === undefined) return [];
  const items = text.split(',').map((s) => s.trim());
  const numbers = items.map(Number);
  const bad = items.filter((item, i) => item === '' || !Number.isFinite(numbers[i]) || numbers[i]! <= 0 || (integers && !Number.isInteger(numbers[i])));
  if (bad.length > 0)
    problems.push({
      path: flag,
      message: `must be a comma-separated list of ${integers ? 'whole numbers' : 'numbers'} > 0 (bad: ${bad.map((b) => `"${b}"`).join(', ')})`,
    });
  return numbers;
}

function sweepPoint(kind: LoadKind, load: number, r: LoadResult): SweepPoint {
  const round = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
  return {
    ...(kind === 'concurrency' ? { concurrency: load } : { rps: load }),
    ttftP50Ms: round(r.ttftP50Ms, 1),
    ttftP95Ms: round(r.ttftP95Ms, 1),
    ttftP99Ms: round(r.ttftP99Ms, 1),
    reqPerS: round(r.reqPerS, 3),
    gpuUtil: round(r.gpuUtil, 1),
    kvCache: round(r.kvCache, 1),
  };
}

/** Columns shown, with the table column that measures the same thing. */
const SHOWN: readonly { name: string; of: (r: LoadResult) => number; table: readonly MetricColumn[] }[] = [
  { name: 'ttft p50 ms', of: (r) => r.ttftP50Ms, table: ['ttft_p50_ms'] },
  { name: 'ttft mean ms', of: (r) => r.ttftMeanMs, table: ['ttft_mean_ms'] },
  { name: 'ttft p95 ms', of: (r) => r.ttftP95Ms, table: ['ttft_p95_ms'] },
  { name: 'ttft p99 ms', of: (r) => r.ttftP99Ms, table: ['ttft_p99_ms'] },
  { name: 'tpot ms', of: (r) => r.tpotMs, table: ['tpot_mean_ms', 'tpot_p50_ms'] },
  { name: 'req/s', of: (r) => r.reqPerS, table: ['req_s'] },
  { name: 'gpu %', of: (r) => r.gpuUtil, table: ['gpu_util'] },
  { name: 'kv %', of: (r) => r.kvCache, table: ['kv_cache'] },
];

function sweepLines(kind: LoadKind, table: CalibrationTable, fit: CalibrationFit, results: readonly { load: number; result: LoadResult }[]): string[] {
  const p = fit.model.params;
  const lines = [
    `fitted serving unit: prefill ${p.prefillIdleMs.toFixed(0)} ms idle → ${p.prefillBusyMs.toFixed(0)} ms busy (half at batch ${p.prefillHalfBatch.toFixed(0)}, jitter σ ${fit.model.prefillJitterSigma.toFixed(2)}) for ${p.referencePromptTokens.toFixed(0)} prompt tokens; decode ${p.decodeBaseMs.toFixed(1)} ms/iteration, doubling at batch ${p.decodeDoublingBatch.toFixed(0)} (exponent ${p.decodeExponent.toFixed(2)}); max ${p.maxNumSeqs} sequences; GPU reports ${(p.gpuBusyShare * 100).toFixed(0)}% when busy`,
    `workload: ${fit.model.workload.promptTokens.toFixed(0)} prompt / ${fit.model.workload.outputTokens.toFixed(0)} output tokens on average`,
    '',
    [kind.padStart(11), ...SHOWN.map((c) => c.name.padStart(20))].join(''),
  ];
  for (const { load, result } of results) {
    const row = table.points.find((point) => point.load === load);
    const cells = SHOWN.map((c) => {
      const measured = c.table.map((column) => row?.metrics[column]).find((v) => v !== undefined);
      const value = c.of(result);
      const text = fmt(value);
      return (measured === undefined ? text : `${text} (${fmt(measured)} ${signed(value / measured - 1)})`).padStart(20);
    });
    lines.push([String(load).padStart(11), ...cells].join(''));
  }
  lines.push('', 'In brackets: the table’s value at that load and the fitted world’s error against it.');
  return lines;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${Math.round(x * 100)}%`;
}
