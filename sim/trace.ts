/**
 * Demand traces: any CSV with a timestamp column, optionally with prompt and output token
 * columns (the Azure LLM inference traces have both). A trace is read once into flat arrays:
 * arrival offsets in seconds from its first row, and token counts per request.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../functions/core/errors.js';
import type { ValidationProblem } from '../functions/core/config.js';
import type { TraceRef } from './scenarioSchema.js';

export interface Trace {
  readonly file: string;
  /** Arrival offsets in seconds from the first arrival, ascending. */
  readonly offsets: Float64Array;
  readonly promptTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** Seconds from the first arrival to the last. */
  readonly durationSeconds: number;
  readonly meanRps: number;
  readonly hasTokens: boolean;
}

/** Token counts when a trace has none: the medians of the Azure conversation trace. */
export const DEFAULT_PROMPT_TOKENS = 1020;
export const DEFAULT_OUTPUT_TOKENS = 129;

/** `2023-11-16 18:15:46.6805900`, ISO 8601, or epoch seconds / milliseconds → epoch milliseconds. */
export function parseTimestamp(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const n = Number(trimmed);
    return n > 1e11 ? n : n * 1000; // epoch milliseconds are > 1e11 for any date after 1973
  }
  // Fractions finer than milliseconds (the Azure traces carry 7 digits) are cut to 3 for Date.parse.
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
  if (!match) return undefined;
  const [, date, time, fraction, zone] = match;
  const ms = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  const base = Date.parse(`${date}T${time}${zone ?? 'Z'}`);
  return Number.isNaN(base) ? undefined : base + ms;
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

/** Parses CSV text; throws ValidationError with every problem (first 20 bad rows) and where. */
export function parseTrace(text: string, ref: TraceRef, source: string): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const problems: ValidationProblem[] = [];
  const tsIndex = header.indexOf(ref.timestampColumn);
  if (tsIndex < 0) problems.push({ path: 'header', message: `has no timestamp column "${ref.timestampColumn}" (columns: ${header.join(', ')})` });
  const promptIndex = header.indexOf(ref.promptTokensColumn);
  const outputIndex = header.indexOf(ref.outputTokensColumn);
  if (lines.length < 3) problems.push({ path: '(file)', message: 'needs at least two data rows' });
  if (problems.length > 0) throw new ValidationError(source, problems);

  const rows: { at: number; prompt: number; output: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsvLine(lines[i]!);
    const at = parseTimestamp(cells[tsIndex] ?? '');
    const prompt = promptIndex >= 0 ? Number(cells[promptIndex]) : DEFAULT_PROMPT_TOKENS;
    const output = outputIndex >= 0 ? Number(cells[outputIndex]) : DEFAULT_OUTPUT_TOKENS;
    if (at === undefined) problems.push({ path: `line ${i + 1}.${ref.timestampColumn}`, message: `is not a timestamp: "${cells[tsIndex] ?? ''}"` });
    else if (!(Number.isFinite(prompt) && prompt >= 0))
      problems.push({ path: `line ${i + 1}.${ref.promptTokensColumn}`, message: 'must be a token count ≥ 0' });
    else if (!(Number.isFinite(output) && output >= 0))
      problems.push({ path: `line ${i + 1}.${ref.outputTokensColumn}`, message: 'must be a token count ≥ 0' });
    else rows.push({ at, prompt, output });
    if (problems.length >= 20) break;
  }
  if (problems.length > 0) throw new ValidationError(source, problems);

  rows.sort((a, b) => a.at - b.at);
  const first = rows[0]!.at;
  const offsets = new Float64Array(rows.length);
  const promptTokens = new Float64Array(rows.length);
  const outputTokens = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    offsets[i] = (row.at - first) / 1000;
    promptTokens[i] = row.prompt;
    outputTokens[i] = row.output;
  });
  const durationSeconds = Math.max(1, offsets[rows.length - 1]!);
  return {
    file: source,
    offsets,
    promptTokens,
    outputTokens,
    durationSeconds,
    meanRps: rows.length / durationSeconds,
    hasTokens: promptIndex >= 0 && outputIndex >= 0,
  };
}

const cache = new Map<string, Trace>();

/** Reads a trace file once per process (scenarios share the bundled traces). */
export function loadTrace(path: string, ref: TraceRef): Trace {
  const key = `${path}\u0000${ref.timestampColumn}\u0000${ref.promptTokensColumn}\u0000${ref.outputTokensColumn}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
  }
  const trace = parseTrace(text, ref, path);
  cache.set(key, trace);
  return trace;
}
