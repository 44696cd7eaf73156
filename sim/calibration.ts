/**
 * Calibrating a serving unit from a load test the operator already has: a CSV table (one row per
 * load point) or `vllm bench serve --save-result` JSON files. The unit's model (servingUnit.ts) is
 * fitted so that the simulated load test (loadTest.ts) reproduces the table, and a fit that cannot
 * match it says which points miss and by how much, rather than handing back a poor model.
 *
 * CSV: a header row, then one row per load point. Exactly one load column, `concurrency` (closed
 * loop) or `rps` (open loop), and any of: ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, ttft_mean_ms,
 * tpot_p50_ms, tpot_mean_ms, req_s, out_tok_s, gpu_util, kv_cache (percent, or a 0–1 fraction),
 * prompt_tokens, output_tokens (the load test's mean lengths). Empty cells are missing values.
 *
 * Closed-loop testers do not keep exactly C requests in flight: clients spend time between
 * requests (LLMPerf at high concurrency spends seconds). Where a row gives TTFT, TPOT and req/s,
 * Little's law says what the server really held (req/s × latency), and the difference becomes
 * that point's client overhead; between rows it is interpolated in log-log, beyond them it grows
 * in proportion to the concurrency.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { ValidationProblem } from '../functions/core/config.js';
import { ValidationError } from '../functions/core/errors.js';
import { runLoadPoint, type Load, type LoadResult, type UnitModel, type Workload } from './loadTest.js';
import { nelderMead } from './nelderMead.js';
import type { ServerParams } from './servingUnit.js';

export const METRIC_COLUMNS = [
  'ttft_p50_ms',
  'ttft_p95_ms',
  'ttft_p99_ms',
  'ttft_mean_ms',
  'tpot_p50_ms',
  'tpot_mean_ms',
  'req_s',
  'out_tok_s',
  'gpu_util',
  'kv_cache',
] as const;
export type MetricColumn = (typeof METRIC_COLUMNS)[number];
const WORKLOAD_COLUMNS = ['prompt_tokens', 'output_tokens'] as const;
export type LoadKind = 'concurrency' | 'rps';

export interface CalibrationPoint {
  readonly load: number;
  readonly metrics: Readonly<Partial<Record<MetricColumn, number>>>;
}

export interface CalibrationTable {
  readonly source: string;
  readonly kind: LoadKind;
  readonly points: readonly CalibrationPoint[];
  /** The load test's mean token lengths, when the table says. */
  readonly promptTokens?: number;
  readonly outputTokens?: number;
}

/** What the load test's clients did on top of the server's latency, by concurrency. */
export interface ClientOverhead {
  /** [concurrency, seconds] from the table's rows, ascending. */
  readonly points: readonly (readonly [number, number])[];
}

export interface FittedModel extends UnitModel {
  readonly workload: Workload;
  readonly kind: LoadKind;
  readonly clientOverhead: ClientOverhead;
}

/** One row, one metric: what the table says and what the fitted model gives. */
export interface FitError {
  readonly load: number;
  readonly column: MetricColumn;
  readonly table: number;
  readonly model: number;
  /** model / table − 1. */
  readonly relative: number;
}

export interface CalibrationFit {
  readonly model: FittedModel;
  readonly errors: readonly FitError[];
  /** Rows and metrics the fit misses by more than the tolerance. */
  readonly misses: readonly FitError[];
}

/** A fit is poor when any fitted metric is off by more than this (the held-back-point bar is 25%). */
export const FIT_TOLERANCE = 0.25;
const DEFAULT_MAX_NUM_SEQS = 256;
/**
 * KV-cache size when the table does not show it (no `kv_cache` column): room for `max_num_seqs`
 * sequences of the load test's average length, so the cache fills as the batch does.
 */
function defaultKvTokens(maxNumSeqs: number, workload: Workload): number {
  return maxNumSeqs * (workload.promptTokens + workload.outputTokens);
}
/** GPU utilisation a busy unit reports when the table has no `gpu_util` column: large models under tensor parallelism rarely read 100%. */
const DEFAULT_GPU_BUSY_SHARE = 0.9;

// ---------------------------------------------------------------------------------------------
// Reading tables

/** Reads a calibration table: CSV, or one or more `vllm bench serve --save-result` JSON files. */
export function loadCalibration(paths: string | readonly string[]): CalibrationTable {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new ValidationError('calibration', [{ path: '(files)', message: 'needs at least one file' }]);
  const texts = list.map((path) => {
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (error) {
      throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
    }
  });
  if (texts.length === 1 && extname(texts[0]!.path).toLowerCase() === '.csv') return parseCalibrationCsv(texts[0]!.text, texts[0]!.path);
  return parseVllmResults(texts);
}

/** Parses the CSV form; every problem is reported at once, with its line and column. */
export function parseCalibrationCsv(text: string, source: string): CalibrationTable {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const problems: ValidationProblem[] = [];
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const loadColumns = header.filter((h): h is LoadKind => h === 'concurrency' || h === 'rps');
  if (loadColumns.length !== 1) {
    problems.push({
      path: 'header',
      message: `needs exactly one load column, concurrency or rps (found ${loadColumns.length === 0 ? 'none' : loadColumns.join(' and ')})`,
    });
  }
  const known = new Set<string>(['concurrency', 'rps', ...METRIC_COLUMNS, ...WORKLOAD_COLUMNS]);
  for (const [i, column] of header.entries()) {
    if (!known.has(column))
      problems.push({
        path: `header column ${i + 1}`,
        message: `unknown column "${column}" (known: concurrency, rps, ${[...METRIC_COLUMNS, ...WORKLOAD_COLUMNS].join(', ')})`,
      });
  }
  if (lines.length < 2) problems.push({ path: '(file)', message: 'needs a header and at least one row' });
  if (problems.length > 0) throw new ValidationError(source, problems);

  const kind = loadColumns[0]!;
  const points: CalibrationPoint[] = [];
  const prompts: number[] = [];
  const outputs: number[] = [];
  for (let row = 1; row < lines.length; row++) {
    const cells = lines[row]!.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      problems.push({ path: `line ${row + 1}`, message: `has ${cells.length} cells, the header ${header.length}` });
      continue;
    }
    const values: Record<string, number> = {};
    for (const [i, column] of header.entries()) {
      const cell = cells[i]!;
      if (cell === '') continue;
      const value = Number(cell);
      if (!Number.isFinite(value) || value < 0) problems.push({ path: `line ${row + 1}.${column}`, message: `must be a number ≥ 0 (got "${cell}")` });
      else values[column] = value;
    }
    const load = values[kind];
    if (load === undefined || load <= 0) {
      problems.push({ path: `line ${row + 1}.${kind}`, message: 'must be a number > 0' });
      continue;
    }
    if (values.prompt_tokens !== undefined) prompts.push(values.prompt_tokens);
    if (values.output_tokens !== undefined) outputs.push(values.output_tokens);
    points.push({ load, metrics: metricsOf(values) });
  }
  problems.push(...pointProblems(points, kind));
  if (problems.length > 0) throw new ValidationError(source, problems);
  return { source, kind, points: sortPoints(points), ...meanIfAny('promptTokens', prompts), ...meanIfAny('outputTokens', outputs) };
}

/** Parses `vllm bench serve --save-result` files: one load point per file (or an array of results). */
export function parseVllmResults(files: readonly { path: string; text: string }[]): CalibrationTable {
  const problems: ValidationProblem[] = [];
  const points: CalibrationPoint[] = [];
  const kinds = new Set<LoadKind>();
  let input = 0;
  let output = 0;
  let completed = 0;
  for (const { path, text } of files) {
    let parsed: unknown;
    try {
      // Python's json writes a rate of infinity as a bare Infinity, which JSON does not allow.
      parsed = JSON.parse(text.replace(/\b-?Infinity\b|\bNaN\b/g, 'null'));
    } catch (error) {
      problems.push({ path, message: `is not valid JSON: ${(error as Error).message}` });
      continue;
    }
    const results = Array.isArray(parsed) ? parsed : [parsed];
    for (const [i, result] of results.entries()) {
      const where = Array.isArray(parsed) ? `${path}[${i}]` : path;
      const read = vllmPoint(result, where, problems);
      if (!read) continue;
      kinds.add(read.kind);
      points.push(read.point);
      input += read.inputTokens;
      output += read.outputTokens;
      completed += read.completed;
    }
  }
  if (kinds.size > 1)
    problems.push({ path: '(files)', message: 'mix closed-loop (max_concurrency) and open-loop (request_rate) results; calibrate from one kind' });
  const kind = [...kinds][0] ?? 'rps';
  problems.push(...pointProblems(points, kind));
  if (points.length === 0 && problems.length === 0) problems.push({ path: '(files)', message: 'hold no load point' });
  const source = files.map((f) => f.path).join(', ');
  if (problems.length > 0) throw new ValidationError(source, problems);
  return {
    source,
    kind,
    points: sortPoints(points),
    ...(completed > 0 && input > 0 ? { promptTokens: input / completed } : {}),
    ...(completed > 0 && output > 0 ? { outputTokens: output / completed } : {}),
  };
}

function vllmPoint(
  result: unknown,
  where: string,
  problems: ValidationProblem[],
): { kind: LoadKind; point: CalibrationPoint; inputTokens: number; outputTokens: number; completed: number } | undefined {
  if (typeof result !== 'object' || result === null) {
    problems.push({ path: where, message: 'is not a vllm bench serve result object' });
    return undefined;
  }
  const r = result as Record<string, unknown>;
  const number = (key: string): number | undefined => (typeof r[key] === 'number' && Number.isFinite(r[key]) ? (r[key] as number) : undefined);
  const concurrency = number('max_concurrency');
  const rate = number('request_rate');
  if (concurrency === undefined && rate === undefined) {
    problems.push({ path: `${where}.max_concurrency`, message: 'neither max_concurrency nor a finite request_rate: the load point is unknown' });
    return undefined;
  }
  const kind: LoadKind = concurrency !== undefined ? 'concurrency' : 'rps';
  const metrics: Record<string, number> = {};
  const take = (column: MetricColumn, key: string) => {
    const value = number(key);
    if (value !== undefined) metrics[column] = value;
  };
  take('ttft_p50_ms', 'median_ttft_ms');
  take('ttft_mean_ms', 'mean_ttft_ms');
  take('ttft_p95_ms', 'p95_ttft_ms');
  take('ttft_p99_ms', 'p99_ttft_ms');
  take('tpot_p50_ms', 'median_tpot_ms');
  take('tpot_mean_ms', 'mean_tpot_ms');
  take('req_s', 'request_throughput');
  take('out_tok_s', 'output_throughput');
  if (Object.keys(metrics).length === 0) {
    problems.push({ path: where, message: 'has none of median_ttft_ms, mean_ttft_ms, p99_ttft_ms, median_tpot_ms, request_throughput, output_throughput' });
    return undefined;
  }
  return {
    kind,
    point: { load: (concurrency ?? rate)!, metrics },
    inputTokens: number('total_input_tokens') ?? 0,
    outputTokens: number('total_output_tokens') ?? 0,
    completed: number('completed') ?? 0,
  };
}

function metricsOf(values: Readonly<Record<string, number>>): Partial<Record<MetricColumn, number>> {
  const metrics: Partial<Record<MetricColumn, number>> = {};
  for (const column of METRIC_COLUMNS) {
    const value = values[column];
    if (value === undefined) continue;
    // Utilisation and cache usage come as percent or as a fraction; steer53 keeps percent.
    metrics[column] = (column === 'gpu_util' || column === 'kv_cache') && value <= 1 ? value * 100 : value;
  }
  return metrics;
}

function pointProblems(points: readonly CalibrationPoint[], kind: LoadKind): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const seen = new Set<number>();
  for (const point of points) {
    if (seen.has(point.load)) problems.push({ path: `${kind} ${point.load}`, message: 'appears twice' });
    seen.add(point.load);
  }
  if (
    points.length > 0 &&
    !points.some((p) => p.metrics.ttft_p50_ms !== undefined || p.metrics.ttft_mean_ms !== undefined || p.metrics.ttft_p99_ms !== undefined)
  ) {
    problems.push({
      path: '(table)',
      message: 'has no time-to-first-token column (ttft_p50_ms, ttft_mean_ms or ttft_p99_ms): nothing to calibrate latency from',
    });
  }
  return problems;
}

function sortPoints(points: readonly CalibrationPoint[]): CalibrationPoint[] {
  return [...points].sort((a, b) => a.load - b.load);
}

function meanIfAny<K extends string>(key: K, values: readonly number[]): Partial<Record<K, number>> {
  return values.length > 0 ? ({ [key]: values.reduce((a, b) => a + b, 0) / values.length } as Record<K, number>) : {};
}

/** A table restricted to some of its load points (the held-back points of a calibration check). */
export function selectPoints(table: CalibrationTable, loads: readonly number[]): CalibrationTable {
  const wanted = new Set(loads);
  const missing = loads.filter((load) => !table.points.some((p) => p.load === load));
  if (missing.length > 0) throw new ValidationError(table.source, [{ path: table.kind, message: `has no row for ${missing.join(', ')}` }]);
  return { ...table, points: table.points.filter((p) => wanted.has(p.load)) };
}

// ---------------------------------------------------------------------------------------------
// Client overhead (closed loop)

/** Each row's client overhead, where Little's law can tell it: concurrency / req/s − latency. */
export function clientOverheadOf(table: CalibrationTable, outputTokens: number): ClientOverhead {
  if (table.kind !== 'concurrency') return { points: [] };
  const points: [number, number][] = [];
  for (const point of table.points) {
    const m = point.metrics;
    const ttft = m.ttft_mean_ms ?? m.ttft_p50_ms;
    const tpot = m.tpot_mean_ms ?? m.tpot_p50_ms;
    if (ttft === undefined || tpot === undefined || m.req_s === undefined || m.req_s <= 0) continue;
    const latency = (ttft + tpot * Math.max(0, outputTokens - 1)) / 1000;
    points.push([point.load, Math.max(0, point.load / m.req_s - latency)]);
  }
  return { points };
}

/** The overhead at a concurrency: log-log between known rows, proportional to concurrency beyond them. */
export function overheadAt(overhead: ClientOverhead, concurrency: number): number {
  const points = overhead.points;
  if (points.length === 0) return 0;
  if (concurrency <= points[0]![0]) return (points[0]![1] * concurrency) / points[0]![0];
  const last = points[points.length - 1]!;
  if (concurrency >= last[0]) return (last[1] * concurrency) / last[0];
  for (let i = 1; i < points.length; i++) {
    const [c1, z1] = points[i]!;
    if (concurrency > c1) continue;
    const [c0, z0] = points[i - 1]!;
    if (z0 <= 0 || z1 <= 0) return z0 + ((z1 - z0) * (concurrency - c0)) / (c1 - c0);
    const f = Math.log(concurrency / c0) / Math.log(c1 / c0);
    return Math.exp(Math.log(z0) + f * Math.log(z1 / z0));
  }
  return last[1];
}

/** The simulated load for one point of the table's kind. */
export function loadFor(model: Pick<FittedModel, 'kind' | 'clientOverhead'>, load: number): Load {
  return model.kind === 'concurrency' ? { concurrency: load, clientOverheadSeconds: overheadAt(model.clientOverhead, load) } : { rps: load };
}

// ---------------------------------------------------------------------------------------------
// Fitting

const MODEL_VALUE: Record<MetricColumn, (r: LoadResult) => number> = {
  ttft_p50_ms: (r) => r.ttftP50Ms,
  ttft_p95_ms: (r) => r.ttftP95Ms,
  ttft_p99_ms: (r) => r.ttftP99Ms,
  ttft_mean_ms: (r) => r.ttftMeanMs,
  tpot_p50_ms: (r) => r.tpotMs,
  tpot_mean_ms: (r) => r.tpotMs,
  req_s: (r) => r.reqPerS,
  out_tok_s: (r) => r.outTokS,
  gpu_util: (r) => r.gpuUtil,
  kv_cache: (r) => r.kvCache,
};

export interface FitOptions {
  /** Requests a simulated load point should complete (its length follows). @default 500 */
  readonly requests?: number;
  readonly maxEvaluations?: number;
  /** vLLM `max_num_seqs` of the tested server. @default 256 */
  readonly maxNumSeqs?: number;
  /** Prompt and output lengths when the table does not give them. @default the OCI random-length scenario: 480 / 300 */
  readonly promptTokens?: number;
  readonly outputTokens?: number;
}

/** The decode curve of a real 70B server (the OCI table's fit), for tables that do not show their own. */
const TYPICAL_DECODE = { decodeDoublingBatch: 77, decodeExponent: 1.46 } as const;

interface DecodeFit {
  readonly decodeBaseMs: number;
  readonly decodeDoublingBatch: number;
  readonly decodeExponent: number;
}

/**
 * Stage 1, decode: where rows give TPOT and req/s, the batch each ran is req/s × decode time
 * (Little's law), so an iteration's time against the batch is fitted directly, in closed form and
 * without simulation. Undefined when fewer than two rows tell.
 */
export function fitDecode(table: CalibrationTable, outputTokens: number): DecodeFit | undefined {
  const rows = table.points.flatMap((p) => {
    const tpot = p.metrics.tpot_mean_ms ?? p.metrics.tpot_p50_ms;
    const rate = p.metrics.req_s;
    return tpot !== undefined && rate !== undefined && tpot > 0 && rate > 0
      ? [{ batch: Math.max(1, (rate * tpot * Math.max(1, outputTokens - 1)) / 1000), tpot }]
      : [];
  });
  if (rows.length < 2) return undefined;
  const base = Math.min(...rows.map((r) => r.tpot));
  const at = (x: readonly number[]) => ({
    decodeBaseMs: Math.exp(x[0]!),
    decodeDoublingBatch: Math.exp(x[1]!),
    decodeExponent: 0.5 + 2.5 / (1 + Math.exp(-x[2]!)),
  });
  const error = (x: readonly number[]) => {
    const d = at(x);
    return rows.reduce((sum, r) => sum + logError(d.decodeBaseMs * (1 + (r.batch / d.decodeDoublingBatch) ** d.decodeExponent), r.tpot), 0);
  };
  const heaviest = rows.reduce((a, b) => (b.batch > a.batch ? b : a));
  const start = [Math.log(base * 0.95), Math.log(Math.max(2, heaviest.batch / Math.max(0.05, heaviest.tpot / base - 1))), 0];
  return at(nelderMead(error, start, { maxEvaluations: 2000, tolerance: 1e-10 }).x);
}

function modelFrom(
  x: readonly number[],
  decode: DecodeFit | undefined,
  fixed: { maxNumSeqs: number; kvCacheTokens: number; referencePromptTokens: number; gpuBusyShare: number },
): UnitModel {
  const e = (i: number) => Math.exp(x[i]!);
  const idle = e(0);
  const params: ServerParams = {
    prefillIdleMs: idle,
    prefillBusyMs: idle * (1 + e(1)),
    prefillHalfBatch: e(2),
    referencePromptTokens: fixed.referencePromptTokens,
    // Without TPOT or throughput rows the decode's shape cannot be told from TTFT: a typical one is assumed, its speed fitted.
    ...(decode ?? { decodeBaseMs: e(4), decodeDoublingBatch: TYPICAL_DECODE.decodeDoublingBatch, decodeExponent: TYPICAL_DECODE.decodeExponent }),
    // Measured TPOT already holds what prefills take from the decodes.
    prefillDecodeShare: 0,
    maxNumSeqs: fixed.maxNumSeqs,
    kvCacheTokens: fixed.kvCacheTokens,
    gpuBusyShare: fixed.gpuBusyShare,
  };
  // Jitter stays within what real prefill durations spread (cv ≤ ~1.3).
  return { params, prefillJitterSigma: Math.min(1.1, e(3)) };
}

/** A starting point read off the table: the lightest row's TTFT (and TPOT, when decode is not fitted from the table). */
function initialGuess(table: CalibrationTable, decode: DecodeFit | undefined): number[] {
  const first = table.points[0]!.metrics;
  const ttft = first.ttft_mean_ms ?? first.ttft_p50_ms ?? (first.ttft_p99_ms !== undefined ? first.ttft_p99_ms / 2 : 50);
  const prefill = [Math.log(Math.max(1, ttft)), Math.log(1.5), Math.log(20), Math.log(0.5)];
  if (decode) return prefill;
  return [...prefill, Math.log(first.tpot_mean_ms ?? first.tpot_p50_ms ?? ttft * 0.32)];
}

/**
 * A weak prior on the shape parameters, centred on the fit of a real 70B server (the OCI table):
 * where the table holds enough, the data outweighs it; where it holds only TTFT, it keeps the
 * fitted curve to the shape real servers have instead of whatever the few rows allow. In units of
 * squared log error: straying by a factor of two from the centre costs what one row off by ~14% does.
 */
function priorFor(decode: DecodeFit | undefined): (x: readonly number[]) => number {
  const weight = 0.02;
  // [centre, width] in the fitted coordinates; the prefill idle time is free (the lightest row fixes it).
  const shape: (readonly [number, number] | undefined)[] = [undefined, [Math.log(1.45), 0.7], [Math.log(20), 0.7], [Math.log(0.7), 0.7]];
  return (x) => {
    let sum = 0;
    for (const [i, spec] of shape.entries()) {
      if (!spec) continue;
      const d = (x[i]! - spec[0]) / spec[1];
      sum += d * d;
    }
    if (!decode) {
      // Decode base about a third of the idle prefill.
      const d = (x[4]! - (x[0]! + Math.log(0.32))) / 0.7;
      sum += d * d;
    }
    return weight * sum;
  };
}

/** Squared log error of one metric (a missing or non-finite model value counts as a large miss). */
function logError(model: number, table: number): number {
  if (!(model > 0) || !(table > 0)) return 25;
  const e = Math.log(model / table);
  return e * e;
}

/**
 * Fits a unit model to the table: decode from TPOT in closed form where the table allows, then
 * prefill (and decode otherwise) by simulating the load test at every row. Deterministic.
 */
export function fitCalibration(table: CalibrationTable, options: FitOptions = {}): CalibrationFit {
  const workload: Workload = {
    promptTokens: table.promptTokens ?? options.promptTokens ?? 480,
    outputTokens: table.outputTokens ?? options.outputTokens ?? 300,
  };
  const clientOverhead = clientOverheadOf(table, workload.outputTokens);
  const base = { kind: table.kind, clientOverhead, workload };
  const seconds = secondsFor(table, options.requests ?? 500);
  const maxNumSeqs = options.maxNumSeqs ?? DEFAULT_MAX_NUM_SEQS;
  const fixed = { maxNumSeqs, kvCacheTokens: defaultKvTokens(maxNumSeqs, workload), referencePromptTokens: workload.promptTokens, gpuBusyShare: 1 };
  const decode = fitDecode(table, workload.outputTokens);
  const start = initialGuess(table, decode);
  const latencyColumns = METRIC_COLUMNS.filter((c) => c !== 'gpu_util' && c !== 'kv_cache' && (decode === undefined || !c.startsWith('tpot')));
  const prior = priorFor(decode);
  const objective = (x: readonly number[]) => {
    const model = modelFrom(x, decode, fixed);
    let sum = prior(x);
    for (const point of table.points) {
      const result = runLoadPoint(model, workload, loadFor(base, point.load), { seconds: seconds(point) });
      for (const column of latencyColumns) {
        const value = point.metrics[column];
        if (value !== undefined) sum += logError(MODEL_VALUE[column](result), value);
      }
    }
    return sum;
  };
  const budget = options.maxEvaluations ?? 80 * start.length;
  // Nelder–Mead restarted once from its own answer: a fresh simplex escapes a collapsed one.
  const first = nelderMead(objective, start, { maxEvaluations: Math.ceil(budget * 0.6), tolerance: 1e-6 });
  const found = nelderMead(objective, first.x, { maxEvaluations: Math.floor(budget * 0.4), tolerance: 1e-6, step: start.map(() => 0.15) });
  const best = found.value <= first.value ? found : first;
  const model: FittedModel = { ...base, ...withResourceColumns(modelFrom(best.x, decode, fixed), table, workload, seconds) };
  const errors = fitErrors(model, table, options.requests ?? 500);
  return { model, errors, misses: errors.filter((e) => Math.abs(e.relative) > FIT_TOLERANCE) };
}

/**
 * How long to simulate a row: long enough for `requests` completions at the row's measured rate
 * (a light row needs long, or its mean is noise), within 200–2,500 s.
 */
function secondsFor(table: CalibrationTable, requests: number): (point: CalibrationPoint) => number {
  const fallback = table.kind === 'rps' ? undefined : 300;
  return (point) => {
    const rate = point.metrics.req_s ?? (table.kind === 'rps' ? point.load : undefined);
    return rate !== undefined && rate > 0 ? Math.min(2500, Math.max(200, requests / rate)) : (fallback ?? 300);
  };
}

/**
 * GPU utilisation and KV-cache usage scale with the latency model's busy time and cache tokens:
 * fitted in closed form after it (the share a busy GPU reports, the cache's size).
 */
function withResourceColumns(model: UnitModel, table: CalibrationTable, workload: Workload, seconds: (point: CalibrationPoint) => number): UnitModel {
  const gpuRows = table.points.filter((p) => p.metrics.gpu_util !== undefined);
  const kvRows = table.points.filter((p) => p.metrics.kv_cache !== undefined && p.metrics.kv_cache > 0);
  if (gpuRows.length === 0 && kvRows.length === 0) return { ...model, params: { ...model.params, gpuBusyShare: DEFAULT_GPU_BUSY_SHARE } };
  const base = { kind: table.kind, clientOverhead: clientOverheadOf(table, workload.outputTokens) };
  const run = (point: CalibrationPoint) => runLoadPoint(model, workload, loadFor(base, point.load), { seconds: seconds(point) });
  let gpuBusyShare = DEFAULT_GPU_BUSY_SHARE;
  if (gpuRows.length > 0) {
    // model.params.gpuBusyShare is 1 here, so the simulated utilisation is the busy time itself.
    const ratios = gpuRows.map((p) => p.metrics.gpu_util! / Math.max(1e-9, run(p).gpuUtil));
    gpuBusyShare = Math.min(1, ratios.reduce((a, b) => a + b, 0) / ratios.length);
  }
  let kvCacheTokens = model.params.kvCacheTokens;
  if (kvRows.length > 0) {
    // Cache tokens in use = usage × size: the simulated tokens over the table's share of the cache.
    const sizes = kvRows.map((p) => (run(p).kvCache * model.params.kvCacheTokens) / p.metrics.kv_cache!);
    kvCacheTokens = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  }
  return { ...model, params: { ...model.params, gpuBusyShare, kvCacheTokens } };
}

/** Every metric of every row: table against model. */
export function fitErrors(model: FittedModel, table: CalibrationTable, requests = 500): FitError[] {
  const errors: FitError[] = [];
  const seconds = secondsFor(table, requests);
  for (const point of table.points) {
    const result = runLoadPoint(model, model.workload, loadFor(model, point.load), { seconds: seconds(point) });
    for (const column of METRIC_COLUMNS) {
      const value = point.metrics[column];
      if (value === undefined) continue;
      const simulated = MODEL_VALUE[column](result);
      errors.push({ load: point.load, column, table: value, model: simulated, relative: value > 0 ? simulated / value - 1 : Number.NaN });
    }
  }
  return errors;
}

/** The misses of a fit, as problems at their row and column (for a ValidationError). */
export function missProblems(fit: CalibrationFit, kind: LoadKind): ValidationProblem[] {
  return fit.misses.map((e) => ({
    path: `${kind} ${e.load}.${e.column}`,
    message: `the fitted model gives ${round(e.model)} where the table says ${round(e.table)} (${e.relative >= 0 ? '+' : ''}${Math.round(e.relative * 100)}%, tolerance ±${FIT_TOLERANCE * 100}%)`,
  }));
}

function round(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2);
}
