/**
 * `steer53 trace inspect FILE`: reads a workload trace exactly as a scenario's trace source reads
 * it (the same options, the same refusals) and prints what the simulator will replay: requests,
 * duration, mean and peak per-minute rate, per-minute coefficient of variation (burstiness) and
 * token percentiles; with `--scale-to`, the same figures after scaling, so that what scaling does
 * to the burstiness is in plain sight. Bad arguments exit 2; a file that cannot be read right exits
 * 1 with every problem and its line and column.
 */
import { parseArgs } from 'node:util';
import { problemsOf, type ValidationProblem } from '../../functions/core/config.js';
import { ValidationError } from '../../functions/core/errors.js';
import { TRACE_SCALINGS, traceRefSchema, type TraceScaling } from '../../sim/scenarioSchema.js';
import { isTraceOption, loadTrace, type OptionSpelling, type TraceOption } from '../../sim/trace.js';
import { traceFigures, type TokenPercentiles, type TraceFigures } from '../../sim/traceFigures.js';
import { scaleTrace } from '../../sim/traceScaling.js';
import { usageError } from './ops.js';

export const TRACE_USAGE =
  'steer53 trace inspect <file> [--format csv|jsonl] [--timestamp-column c] [--timestamp-unit s|ms|us|iso] [--kind requests|rate] [--value-column c] ' +
  '[--prompt-tokens-column c] [--output-tokens-column c] [--scale-to RPS] [--scaling intensity|time-warp] [--seed N] [--json]';

export interface TraceIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** `timestampUnit` → `--timestamp-unit`. */
function flagOf(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const cliSpelling: OptionSpelling = (option, value) => `${flagOf(option)} ${value.replace(/ \| /g, '|')}`;

const OPTIONS = {
  format: { type: 'string' },
  'timestamp-column': { type: 'string' },
  'timestamp-unit': { type: 'string' },
  kind: { type: 'string' },
  'value-column': { type: 'string' },
  'prompt-tokens-column': { type: 'string' },
  'output-tokens-column': { type: 'string' },
  'scale-to': { type: 'string' },
  scaling: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The flags that are trace settings, by the setting each sets. */
const SETTINGS: readonly [TraceOption, keyof typeof OPTIONS][] = [
  ['format', 'format'],
  ['timestampColumn', 'timestamp-column'],
  ['timestampUnit', 'timestamp-unit'],
  ['kind', 'kind'],
  ['valueColumn', 'value-column'],
  ['promptTokensColumn', 'prompt-tokens-column'],
  ['outputTokensColumn', 'output-tokens-column'],
];

/** The figures of `--json`: rounded to what means something, and with the scaling when there is one. */
export interface InspectDocument extends TraceFigures {
  readonly scaled?: TraceFigures & { readonly scaling: TraceScaling; readonly factor: number };
}

export async function runTrace(args: string[], io: TraceIo): Promise<number> {
  const [what, ...rest] = args;
  if (what === '--help' || what === '-h') {
    io.out(`usage: ${TRACE_USAGE}`);
    return 0;
  }
  if (what !== 'inspect') {
    return usageError(io, TRACE_USAGE, [
      { path: '(command)', message: what === undefined ? 'say what to do: inspect' : `unknown trace command "${what}" (only: inspect)` },
    ]);
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    // Unknown or malformed options (node:util's ERR_PARSE_ARGS_*).
    return usageError(io, TRACE_USAGE, [{ path: '(arguments)', message: (error as Error).message }]);
  }
  if (values.help) {
    io.out(`usage: ${TRACE_USAGE}`);
    return 0;
  }

  const problems: ValidationProblem[] = [];
  const [file, ...extra] = positionals;
  if (file === undefined) problems.push({ path: '<file>', message: 'is required: the trace to read (CSV or JSONL)' });
  if (extra.length > 0) problems.push({ path: '(arguments)', message: `unexpected ${extra.map((p) => `"${p}"`).join(' ')}` });
  // The trace settings are checked by the scenario format's own schema: one set of rules.
  const settings: Record<string, string> = { file: file ?? '-' };
  for (const [option, flag] of SETTINGS) if (typeof values[flag] === 'string') settings[option] = values[flag];
  const ref = traceRefSchema.safeParse(settings);
  if (!ref.success) for (const p of problemsOf(ref.error)) problems.push({ path: p.path === 'file' ? '<file>' : flagOf(p.path), message: p.message });

  const scaleTo = values['scale-to'] === undefined ? undefined : Number(values['scale-to']);
  if (scaleTo !== undefined && !(Number.isFinite(scaleTo) && scaleTo > 0)) {
    problems.push({ path: '--scale-to', message: `must be a mean rate in requests per second, above 0 (got "${values['scale-to'] as string}")` });
  }
  const scaling = values.scaling as string | undefined;
  if (scaling !== undefined && !(TRACE_SCALINGS as readonly string[]).includes(scaling)) {
    problems.push({ path: '--scaling', message: `must be intensity or time-warp (got "${scaling}")` });
  } else if (scaling !== undefined && scaleTo === undefined) {
    problems.push({ path: '--scaling', message: 'only with --scale-to (the rate to scale to)' });
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32))
    problems.push({ path: '--seed', message: `must be a whole number from 0 to 2^32 − 1 (got "${values.seed as string}")` });
  if (problems.length > 0 || !ref.success || file === undefined) return usageError(io, TRACE_USAGE, problems);

  let document: InspectDocument;
  try {
    const trace = loadTrace(file, ref.data, cliSpelling);
    const figures = traceFigures(trace);
    if (scaleTo === undefined) document = figures;
    else {
      const how = (scaling ?? 'intensity') as TraceScaling;
      document = { ...figures, scaled: { ...traceFigures(scaleTrace(trace, scaleTo, how, seed)), scaling: how, factor: scaleTo / trace.meanRps } };
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // A setting the file needs is named as the flag that gives it.
    io.err(
      new ValidationError(
        file,
        error.problems.map((p) => (isTraceOption(p.path) ? { path: flagOf(p.path), message: p.message } : p)),
      ).message,
    );
    return 1;
  }
  if (values.json) io.out(JSON.stringify(rounded(document)));
  else for (const line of describe(file, document)) io.out(line);
  return 0;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function roundFigures<T extends TraceFigures>(f: T): T {
  return {
    ...f,
    requests: Math.round(f.requests),
    durationSeconds: round(f.durationSeconds, 3),
    meanRps: round(f.meanRps, 4),
    peakRps: round(f.peakRps, 4),
    perMinuteCv: f.perMinuteCv === null ? null : round(f.perMinuteCv, 4),
  };
}

function rounded(document: InspectDocument): InspectDocument {
  const { scaled, ...figures } = document;
  return scaled ? { ...roundFigures(figures), scaled: { ...roundFigures(scaled), factor: round(scaled.factor, 4) } } : roundFigures(figures);
}

const UNIT_NAMES = { iso: 'ISO date-times', s: 'seconds', ms: 'milliseconds', us: 'microseconds' } as const;

function describe(file: string, d: InspectDocument): string[] {
  const columns = d.scaled ? ['', 'as read', `scaled ×${round(d.scaled.factor, 2)} (${d.scaled.scaling})`] : ['', 'as read'];
  const figures = d.scaled ? [d, d.scaled] : [d];
  const int = (n: number) => Math.round(n).toLocaleString('en');
  const rps = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} req/s`;
  const tokens = (t: TokenPercentiles | null) => (t === null ? '—' : `${int(t.p50)} / ${int(t.p90)} / ${int(t.p99)}`);
  const rows: string[][] = [
    columns,
    [d.kind === 'rate' ? 'requests (implied by the rate)' : 'requests', ...figures.map((f) => int(f.requests))],
    ['duration', ...figures.map((f) => `${int(f.durationSeconds)} s (${(f.durationSeconds / 60).toFixed(1)} min)`)],
    ['mean rate', ...figures.map((f) => rps(f.meanRps))],
    ['peak minute', ...figures.map((f) => rps(f.peakRps))],
    ['per-minute CV', ...figures.map((f) => (f.perMinuteCv === null ? '— (under two whole minutes)' : f.perMinuteCv.toFixed(3)))],
    ['prompt tokens p50/p90/p99', ...figures.map((f) => tokens(f.promptTokens))],
    ['output tokens p50/p90/p99', ...figures.map((f) => tokens(f.outputTokens))],
  ];
  const widths = columns.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return [
    `${file}: ${d.kind === 'rate' ? 'a rate series (requests per second, piecewise constant)' : 'one request per row'}, timestamps in ${UNIT_NAMES[d.timestampUnit]}`,
    ...rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`.trimEnd()),
  ];
}
