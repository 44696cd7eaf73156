/**
 * Demand traces, read right or refused. A trace is a CSV file with a header or a JSONL file (one
 * JSON object per line, the column names as keys), of one of two kinds:
 * - `requests`: one row per request, with its time and optionally its prompt and output tokens
 *   (the Azure LLM inference traces);
 * - `rate`: a time series, each row a time and a rate in requests per second (a per-second QPS
 *   export), piecewise constant until the next row.
 *
 * Nothing is guessed. A timestamp unit is inferred only when one unit alone makes sense of the
 * whole column: ISO date-times, or numbers that are a plausible epoch (a date in 2000–2100) in
 * exactly one of s, ms and µs. Small numbers (offsets from the start) fit all three, so they need
 * `timestampUnit`: read as seconds, a one-hour trace in milliseconds lasts 41 days. A file that
 * looks like a rate series but was not declared one is refused, not read one request per row.
 *
 * Reading is a pipeline of plain functions: the file → a table (`readTable`), the timestamp
 * column → seconds (`readTimestamps`), the table → a trace of its kind. Every problem is collected
 * with its line and column, and thrown at once as a ValidationError.
 */
import { readFileSync } from 'node:fs';
import type { ValidationProblem } from '../functions/core/config.js';
import { ValidationError } from '../functions/core/errors.js';
import type { TimestampUnit, TraceRef } from './scenarioSchema.js';

export interface RequestTrace {
  readonly kind: 'requests';
  readonly file: string;
  readonly timestampUnit: TimestampUnit;
  /** Arrival offsets in seconds from the first arrival, ascending. */
  readonly offsets: Float64Array;
  readonly promptTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** Seconds from the first arrival to the last (at least 1). */
  readonly durationSeconds: number;
  readonly meanRps: number;
  readonly hasTokens: boolean;
}

export interface RateTrace {
  readonly kind: 'rate';
  readonly file: string;
  readonly timestampUnit: TimestampUnit;
  /** Start of each row's interval, in seconds from the first row, ascending; a row's rate holds until the next row. */
  readonly starts: Float64Array;
  /** Requests per second from each start. */
  readonly rates: Float64Array;
  /** To the end of the last row's interval (the last row lasts the median spacing of the rows). */
  readonly durationSeconds: number;
  /** The requests the rate implies over the whole series (its integral). */
  readonly requests: number;
  readonly meanRps: number;
}

export type Trace = RequestTrace | RateTrace;

/** Token counts when a trace has none: the medians of the Azure conversation trace. */
export const DEFAULT_PROMPT_TOKENS = 1020;
export const DEFAULT_OUTPUT_TOKENS = 129;
export const DEFAULT_TIMESTAMP_COLUMN = 'TIMESTAMP';
export const DEFAULT_PROMPT_TOKENS_COLUMN = 'ContextTokens';
export const DEFAULT_OUTPUT_TOKENS_COLUMN = 'GeneratedTokens';

/** The settings of a trace reference, as problems name them. */
export type TraceOption = Exclude<keyof TraceRef, 'file'>;
const TRACE_OPTIONS: readonly string[] = [
  'format',
  'kind',
  'timestampColumn',
  'timestampUnit',
  'valueColumn',
  'promptTokensColumn',
  'outputTokensColumn',
] satisfies TraceOption[];

/** Is this problem path one of the trace's settings (rather than a line of the file)? */
export function isTraceOption(path: string): path is TraceOption {
  return TRACE_OPTIONS.includes(path);
}

/**
 * How a setting is written where the trace was named, so that a message says what to type:
 * `timestampUnit: ms` in a scenario file, `--timestamp-unit ms` on the command line.
 */
export type OptionSpelling = (option: TraceOption, value: string) => string;
export const scenarioSpelling: OptionSpelling = (option, value) => `${option}: ${value}`;

/** At most this many bad rows are listed; the rest are counted. */
const MAX_ROW_PROBLEMS = 20;

/** Problems found while reading, each with where; bad rows beyond MAX_ROW_PROBLEMS are only counted. */
class Problems {
  readonly list: ValidationProblem[] = [];
  private rowProblems = 0;

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  row(line: number, column: string | undefined, message: string): void {
    this.rowProblems++;
    if (this.rowProblems <= MAX_ROW_PROBLEMS) this.list.push({ path: column === undefined ? `line ${line}` : `line ${line}.${column}`, message });
  }

  any(): boolean {
    return this.list.length > 0;
  }

  /** Every problem, as one error to throw (a read that failed always left at least one). */
  error(source: string): ValidationError {
    const more = this.rowProblems - MAX_ROW_PROBLEMS;
    const tail = more > 0 ? [{ path: '(file)', message: `${more} more bad rows not listed` }] : [];
    const list = this.list.length > 0 ? this.list : [{ path: '(file)', message: 'could not be read' }];
    return new ValidationError(source, [...list, ...tail]);
  }
}

// ---------------------------------------------------------------------------------------------
// The file → a table

type Cell = string | number | undefined;

interface Table {
  /** Column names: the CSV header, or the keys of the first JSON object. */
  readonly columns: readonly string[];
  /** The file line of each row (1-based). */
  readonly lines: readonly number[];
  /** The cells of one column, row by row (undefined where a row has none). */
  readonly column: (name: string) => readonly Cell[];
}

function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** Non-blank lines with their 1-based line numbers. */
function linesOf(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) if (raw[i]!.trim() !== '') out.push({ text: raw[i]!, line: i + 1 });
  return out;
}

function readCsv(text: string, problems: Problems, spell: OptionSpelling): Table | undefined {
  const [header, ...rows] = linesOf(text);
  if (header === undefined) {
    problems.add('(file)', 'is empty');
    return undefined;
  }
  if (header.text.trimStart().startsWith('{')) {
    problems.add('format', `the file holds JSON objects, not a CSV header: give ${spell('format', 'jsonl')}`);
    return undefined;
  }
  const columns = splitCsvLine(header.text).map((h) => h.trim());
  const cells = rows.map((row) => splitCsvLine(row.text));
  return {
    columns,
    lines: rows.map((row) => row.line),
    column: (name) => {
      const index = columns.indexOf(name);
      return cells.map((row) => (index < 0 ? undefined : row[index]?.trim()));
    },
  };
}

function readJsonl(text: string, problems: Problems): Table | undefined {
  const objects: Record<string, unknown>[] = [];
  const lines: number[] = [];
  for (const { text: line, line: number } of linesOf(text)) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.row(number, undefined, `is not JSON: ${(error as Error).message}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.row(number, undefined, 'is not a JSON object (one object per line, the column names as keys)');
      continue;
    }
    objects.push(value as Record<string, unknown>);
    lines.push(number);
  }
  if (objects.length === 0 && !problems.any()) problems.add('(file)', 'is empty');
  if (objects.length === 0) return undefined;
  return {
    columns: Object.keys(objects[0]!),
    lines,
    column: (name) =>
      objects.map((o) => {
        const v = o[name];
        return typeof v === 'number' || typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v);
      }),
  };
}

/** The format a file is read in: as given, else by its extension. */
export function formatOf(file: string, ref: Pick<TraceRef, 'format'>): 'csv' | 'jsonl' {
  return ref.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
}

// ---------------------------------------------------------------------------------------------
// The timestamp column → seconds

const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `2023-11-16 18:15:46.6805900`, `2023-11-16T18:15:46Z`, `…+01:00` → epoch milliseconds, or
 * undefined when the text is not such a date-time. Without a zone the time is taken as UTC (only
 * differences between rows matter). Fractions finer than milliseconds (the Azure traces carry 7
 * digits) are kept: Date.parse takes whole seconds and the fraction is added.
 */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, fraction, zone] = match;
  const base = Date.parse(`${date}T${time}${zone ?? 'Z'}`);
  if (Number.isNaN(base)) return undefined;
  return base + (fraction ? Number(`0.${fraction}`) * 1000 : 0);
}

/** Seconds per unit of a numeric timestamp. */
const SECONDS_PER: Readonly<Record<Exclude<TimestampUnit, 'iso'>, number>> = { s: 1, ms: 1e-3, us: 1e-6 };
const UNIT_WORDS: Readonly<Record<TimestampUnit, string>> = { s: 'seconds', ms: 'milliseconds', us: 'microseconds', iso: 'ISO date-times' };

/** Epoch seconds of 2000-01-01 and 2100-01-01: the dates a trace can plausibly start or end on. */
const EPOCH_FROM = Date.UTC(2000, 0, 1) / 1000;
const EPOCH_TO = Date.UTC(2100, 0, 1) / 1000;

/**
 * The one numeric unit in which every value from min to max is an epoch date between 2000 and
 * 2100, or undefined when none is. The three ranges (about 1e9, 1e12 and 1e15) do not overlap, so
 * at most one fits; offsets from the start fit none.
 */
export function epochUnitOf(min: number, max: number): Exclude<TimestampUnit, 'iso'> | undefined {
  for (const unit of ['s', 'ms', 'us'] as const) {
    const from = min * SECONDS_PER[unit];
    const to = max * SECONDS_PER[unit];
    if (from >= EPOCH_FROM && to < EPOCH_TO) return unit;
  }
  return undefined;
}

type Form = 'iso' | 'number';

function formOf(cell: Cell): { form: Form; value: number } | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? { form: 'number', value: cell } : undefined;
  if (cell === undefined) return undefined;
  const text = cell.trim();
  if (NUMBER.test(text)) return { form: 'number', value: Number(text) };
  const ms = parseIsoDateTime(text);
  return ms === undefined ? undefined : { form: 'iso', value: ms };
}

function shown(cell: Cell): string {
  return cell === undefined ? 'nothing' : JSON.stringify(String(cell));
}

/** Reads the timestamp column as seconds (epoch or from the start, as the file has them), and the unit it was read in. */
function readTimestamps(
  cells: readonly Cell[],
  lines: readonly number[],
  column: string,
  given: TimestampUnit | undefined,
  problems: Problems,
  spell: OptionSpelling,
): { seconds: Float64Array; unit: TimestampUnit } | undefined {
  const values = new Float64Array(cells.length);
  let first: { form: Form; line: number; cell: Cell } | undefined;
  let bad = false;
  let min = Infinity;
  let max = -Infinity;
  cells.forEach((cell, r) => {
    const read = formOf(cell);
    const line = lines[r]!;
    if (read === undefined) {
      bad = true;
      const expected =
        given === undefined ? '' : given === 'iso' ? ' (an ISO date-time such as 2023-11-16 18:15:46.680)' : ` (a number of ${UNIT_WORDS[given]})`;
      problems.row(line, column, `is not a timestamp${expected}: ${shown(cell)}`);
      return;
    }
    if (given !== undefined && (given === 'iso') !== (read.form === 'iso')) {
      bad = true;
      problems.row(
        line,
        column,
        `${read.form === 'iso' ? 'is a date-time' : 'is a number'}, but ${spell('timestampUnit', given)} says ${UNIT_WORDS[given]}: ${shown(cell)}`,
      );
      return;
    }
    if (first === undefined) first = { form: read.form, line, cell };
    else if (given === undefined && read.form !== first.form) {
      bad = true;
      problems.row(
        line,
        column,
        `${read.form === 'iso' ? 'is a date-time' : 'is a number'} (${shown(cell)}), but line ${first.line} has ${first.form === 'iso' ? 'a date-time' : 'a number'} (${shown(first.cell)}): one format per column`,
      );
      return;
    }
    values[r] = read.value;
    if (read.value < min) min = read.value;
    if (read.value > max) max = read.value;
  });
  if (bad || first === undefined) return undefined;

  if (first.form === 'iso') {
    for (let r = 0; r < values.length; r++) values[r] = values[r]! / 1000;
    return { seconds: values, unit: 'iso' };
  }
  const unit = given ?? epochUnitOf(min, max);
  if (unit === undefined || unit === 'iso') {
    const sample = cells.find((c) => Number(c) !== 0) ?? cells[0];
    problems.add(
      'timestampUnit',
      `timestamp column "${column}": values like ${String(sample).trim()} (from ${min} to ${max}) are ambiguous (seconds, milliseconds or microseconds from the start?); ` +
        `give ${spell('timestampUnit', 's | ms | us')}`,
    );
    return undefined;
  }
  for (let r = 0; r < values.length; r++) values[r] = values[r]! * SECONDS_PER[unit];
  return { seconds: values, unit };
}

// ---------------------------------------------------------------------------------------------
// Rate series, declared or not

/** Column names that say "requests per second" (compared lower-case, without separators). */
const RATE_COLUMN_NAMES = new Set([
  'qps',
  'rps',
  'rate',
  'requestrate',
  'arrivalrate',
  'requestspersecond',
  'requestpersecond',
  'reqpersec',
  'reqspersec',
  'reqpersecond',
]);

function isRateColumnName(name: string): boolean {
  return RATE_COLUMN_NAMES.has(name.toLowerCase().replace(/[^a-z]/g, ''));
}

function numberOf(cell: Cell): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (cell === undefined || !NUMBER.test(cell.trim())) return undefined;
  return Number(cell);
}

/** The spacing of rows when at least 90% of them are that far apart (a sampled series), else undefined. */
function regularSpacing(times: Float64Array): number | undefined {
  if (times.length < 3) return undefined;
  const sorted = Float64Array.from(times).sort();
  const gaps = new Float64Array(sorted.length - 1);
  for (let i = 1; i < sorted.length; i++) gaps[i - 1] = sorted[i]! - sorted[i - 1]!;
  const median = Float64Array.from(gaps).sort()[gaps.length >> 1]!;
  if (!(median > 0)) return undefined;
  let regular = 0;
  for (const gap of gaps) if (Math.abs(gap - median) <= 0.01 * median) regular++;
  return regular >= 0.9 * gaps.length ? median : undefined;
}

/**
 * A file not declared a rate series that looks like one: a numeric column named like a rate
 * (`qps`, `rps`, `rate`, `requests_per_second`) and rows at regular intervals. Read one request
 * per row, a per-second QPS export would become a steady one request per second.
 */
function looksLikeRateSeries(table: Table, times: Float64Array | undefined): { column: string; spacing: number } | undefined {
  if (times === undefined) return undefined;
  const column = table.columns.find((name) => isRateColumnName(name) && table.column(name).every((cell) => numberOf(cell) !== undefined));
  const spacing = regularSpacing(times);
  return column === undefined || spacing === undefined ? undefined : { column, spacing };
}

function secondsText(value: number): string {
  return `${Number(value.toPrecision(6))} s`;
}

// ---------------------------------------------------------------------------------------------
// Traces of each kind

type Times = { readonly seconds: Float64Array; readonly unit: TimestampUnit };

/** A numeric column, row by row; bad cells are problems. Undefined when the column is not in the file. */
function readNumbers(table: Table, name: string, what: string, problems: Problems): Float64Array | undefined {
  if (!table.columns.includes(name)) return undefined;
  const values = new Float64Array(table.lines.length);
  table.column(name).forEach((cell, r) => {
    const n = numberOf(cell);
    if (n === undefined || n < 0) problems.row(table.lines[r]!, name, `must be ${what}: ${shown(cell)}`);
    else values[r] = n;
  });
  return values;
}

/** A token column: read when present; a column named on purpose must be there. */
function readTokens(table: Table, ref: TraceRef, option: 'promptTokensColumn' | 'outputTokensColumn', problems: Problems): Float64Array | undefined {
  const name = ref[option] ?? (option === 'promptTokensColumn' ? DEFAULT_PROMPT_TOKENS_COLUMN : DEFAULT_OUTPUT_TOKENS_COLUMN);
  const values = readNumbers(table, name, 'a token count ≥ 0', problems);
  if (values === undefined && ref[option] !== undefined) problems.add(option, `no column "${name}" in the file (columns: ${table.columns.join(', ')})`);
  return values;
}

function sortedOrder(times: Times): number[] {
  return Array.from({ length: times.seconds.length }, (_, i) => i).sort((a, b) => times.seconds[a]! - times.seconds[b]!);
}

function requestTrace(times: Times, prompt: Float64Array | undefined, output: Float64Array | undefined, file: string): RequestTrace {
  const n = times.seconds.length;
  const order = sortedOrder(times);
  const first = times.seconds[order[0]!]!;
  const offsets = new Float64Array(n);
  const promptTokens = new Float64Array(n);
  const outputTokens = new Float64Array(n);
  order.forEach((row, i) => {
    offsets[i] = times.seconds[row]! - first;
    promptTokens[i] = prompt ? prompt[row]! : DEFAULT_PROMPT_TOKENS;
    outputTokens[i] = output ? output[row]! : DEFAULT_OUTPUT_TOKENS;
  });
  const durationSeconds = Math.max(1, offsets[n - 1]!);
  return {
    kind: 'requests',
    file,
    timestampUnit: times.unit,
    offsets,
    promptTokens,
    outputTokens,
    durationSeconds,
    meanRps: n / durationSeconds,
    hasTokens: prompt !== undefined && output !== undefined,
  };
}

/** Two rows at the same time make a rate series mean nothing: each is a problem. */
function checkDistinctTimes(times: Times, lines: readonly number[], problems: Problems): void {
  const order = sortedOrder(times);
  for (let i = 1; i < order.length; i++) {
    if (times.seconds[order[i]!] === times.seconds[order[i - 1]!]) {
      problems.row(lines[order[i]!]!, undefined, `has the same time as line ${lines[order[i - 1]!]} (a rate series has one row per time)`);
    }
  }
}

function rateTrace(times: Times, values: Float64Array, file: string): RateTrace {
  const n = times.seconds.length;
  const order = sortedOrder(times);
  const first = times.seconds[order[0]!]!;
  const starts = new Float64Array(n);
  const rates = new Float64Array(n);
  order.forEach((row, i) => {
    starts[i] = times.seconds[row]! - first;
    rates[i] = values[row]!;
  });
  const gaps = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) gaps[i - 1] = starts[i]! - starts[i - 1]!;
  // The last row holds for the series' usual spacing: a per-second series of 3,600 rows lasts an hour.
  const lastInterval = gaps.sort()[gaps.length >> 1]!;
  const durationSeconds = starts[n - 1]! + lastInterval;
  let requests = 0;
  for (let i = 0; i < n; i++) requests += rates[i]! * ((i + 1 < n ? starts[i + 1]! : durationSeconds) - starts[i]!);
  return { kind: 'rate', file, timestampUnit: times.unit, starts, rates, durationSeconds, requests, meanRps: requests / durationSeconds };
}

/**
 * Reads a trace from its text. Throws ValidationError with every problem: a setting the file
 * needs (path: the setting's name, such as `timestampUnit`), or a row (path: `line 12.TIMESTAMP`).
 */
export function parseTrace(text: string, ref: TraceRef, source: string, spell: OptionSpelling = scenarioSpelling): Trace {
  const problems = new Problems();
  const table = formatOf(ref.file, ref) === 'jsonl' ? readJsonl(text, problems) : readCsv(text, problems, spell);
  if (table === undefined) throw problems.error(source);
  const timestampColumn = ref.timestampColumn ?? DEFAULT_TIMESTAMP_COLUMN;
  if (!table.columns.includes(timestampColumn)) {
    problems.add('timestampColumn', `no column "${timestampColumn}" in the file (columns: ${table.columns.join(', ')})`);
    throw problems.error(source);
  }
  const times = readTimestamps(table.column(timestampColumn), table.lines, timestampColumn, ref.timestampUnit, problems, spell);
  if (ref.kind === undefined) {
    // Before reading one request per row, make sure the file is not a rate series.
    const rateLike = looksLikeRateSeries(table, times?.seconds ?? numericTimes(table.column(timestampColumn)));
    if (rateLike) {
      const every = times ? ` (every ${secondsText(rateLike.spacing)})` : '';
      problems.add(
        'kind',
        `looks like a rate series, not one request per row: column "${rateLike.column}" holds numbers and the rows come at regular intervals${every}; ` +
          `give ${spell('kind', 'rate')} and ${spell('valueColumn', rateLike.column)} (or ${spell('kind', 'requests')} to read one request per row)`,
      );
    }
  }
  // Too few rows matters only when the rows there are were read (a bad row is reported as itself).
  if (table.lines.length < 2 && !problems.any()) problems.add('(file)', `needs at least two rows (${ref.kind === 'rate' ? 'a rate series' : 'requests'})`);

  if (ref.kind === 'rate') {
    const valueColumn = ref.valueColumn ?? '';
    const values = readNumbers(table, valueColumn, 'a rate ≥ 0 (requests per second)', problems);
    if (values === undefined) problems.add('valueColumn', `no column "${valueColumn}" in the file (columns: ${table.columns.join(', ')})`);
    if (times) checkDistinctTimes(times, table.lines, problems);
    if (times === undefined || values === undefined || problems.any()) throw problems.error(source);
    return rateTrace(times, values, source);
  }
  const prompt = readTokens(table, ref, 'promptTokensColumn', problems);
  const output = readTokens(table, ref, 'outputTokensColumn', problems);
  if (times === undefined || problems.any()) throw problems.error(source);
  return requestTrace(times, prompt, output, source);
}

/** The raw numbers of a timestamp column when every cell is one (for the rate-series check when the unit is unknown). */
function numericTimes(cells: readonly Cell[]): Float64Array | undefined {
  const out = new Float64Array(cells.length);
  for (let r = 0; r < cells.length; r++) {
    const v = numberOf(cells[r]);
    if (v === undefined) return undefined;
    out[r] = v;
  }
  return out;
}

const cache = new Map<string, Trace>();

/** Reads a trace file once per process and settings (scenarios share the bundled traces). */
export function loadTrace(path: string, ref: TraceRef, spell: OptionSpelling = scenarioSpelling): Trace {
  const key = `${path}\u0000${JSON.stringify(ref)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
  }
  const trace = parseTrace(text, ref, path, spell);
  cache.set(key, trace);
  return trace;
}
