import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runTrace, type TraceIo } from '../../../bin/commands/trace.js';

const AZURE_CODE = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_code.csv';
const AZURE_CONV = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_conv.csv';
const FIGURES = ['requests', 'durationSeconds', 'meanRps', 'peakRps', 'perMinuteCv', 'promptTokens', 'outputTokens', 'kind', 'timestampUnit'];

function io(): TraceIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => void lines.push(line), err: (line) => void errors.push(line) };
}

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'steer53-inspect-')), name);
  writeFileSync(path, text);
  return path;
}

describe('Command: steer53 trace inspect', () => {
  it('--json prints exactly one document with the figures of the trace', async () => {
    const out = io();
    expect(await runTrace(['inspect', AZURE_CODE, '--json'], out)).toBe(0);
    expect(out.lines).toHaveLength(1);
    const doc = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(FIGURES);
    expect(doc).toEqual({
      requests: 8819,
      durationSeconds: 3435.948,
      meanRps: 2.5667,
      peakRps: 10.5333,
      perMinuteCv: 1.0411,
      promptTokens: { p50: 1469, p90: 5194, p99: 7436 },
      outputTokens: { p50: 13, p90: 55, p99: 252 },
      kind: 'requests',
      timestampUnit: 'iso',
    });
  });

  it('--scale-to adds the same figures after scaling: intensity keeps the per-minute CV', async () => {
    const out = io();
    expect(await runTrace(['inspect', AZURE_CODE, '--scale-to', '60', '--json'], out)).toBe(0);
    const doc = JSON.parse(out.lines[0]!) as { perMinuteCv: number; scaled: Record<string, unknown> & { meanRps: number; perMinuteCv: number } };
    expect(Object.keys(doc.scaled)).toEqual([...FIGURES, 'scaling', 'factor']);
    expect(doc.scaled).toMatchObject({ scaling: 'intensity', factor: 23.3764, durationSeconds: 3435.948 });
    expect(doc.scaled.meanRps).toBeCloseTo(60, 0);
    expect(Math.abs(doc.scaled.perMinuteCv / doc.perMinuteCv - 1)).toBeLessThan(0.05);
  });

  it('--scaling time-warp compresses the trace, and shows what that does to the CV', async () => {
    const out = io();
    expect(await runTrace(['inspect', AZURE_CONV, '--scale-to', '60', '--scaling', 'time-warp', '--json'], out)).toBe(0);
    const doc = JSON.parse(out.lines[0]!) as {
      requests: number;
      perMinuteCv: number;
      scaled: { requests: number; durationSeconds: number; perMinuteCv: number };
    };
    expect(doc.scaled.requests).toBe(doc.requests);
    expect(doc.scaled.durationSeconds).toBeCloseTo(3501.722 / 10.849, 0);
    expect(doc.scaled.perMinuteCv).toBeLessThan(doc.perMinuteCv);
  });

  it('prints the figures as a table, before and after scaling side by side', async () => {
    const out = io();
    expect(await runTrace(['inspect', AZURE_CODE, '--scale-to', '60'], out)).toBe(0);
    expect(out.lines[0]).toBe(`${AZURE_CODE}: one request per row, timestamps in ISO date-times`);
    expect(out.lines[1]).toMatch(/as read\s+scaled ×23\.38 \(intensity\)$/);
    expect(out.lines.find((l) => l.includes('per-minute CV'))).toMatch(/per-minute CV\s+1\.041\s+1\.04\d$/);
    expect(out.lines.find((l) => l.includes('requests'))).toMatch(/requests\s+8,819\s+2\d\d,\d\d\d$/);
  });

  it('reads a rate series with --kind rate: the mean rate and the requests it implies', async () => {
    const csv = file('qps.csv', ['second,qps', ...Array.from({ length: 600 }, (_, i) => `${i},${i < 300 ? 2 : 6}`)].join('\n'));
    const out = io();
    expect(
      await runTrace(['inspect', csv, '--timestamp-column', 'second', '--timestamp-unit', 's', '--kind', 'rate', '--value-column', 'qps', '--json'], out),
    ).toBe(0);
    expect(JSON.parse(out.lines[0]!)).toEqual({
      requests: 2400,
      durationSeconds: 600,
      meanRps: 4,
      peakRps: 6,
      perMinuteCv: 0.5,
      promptTokens: null,
      outputTokens: null,
      kind: 'rate',
      timestampUnit: 's',
    });
  });

  it.each<[string, string[], string[]]>([
    ['no command', [], ['(command): say what to do: inspect']],
    ['another command', ['plot', AZURE_CODE], ['(command): unknown trace command "plot" (only: inspect)']],
    ['no file', ['inspect'], ['<file>: is required: the trace to read (CSV or JSONL)']],
    ['two files', ['inspect', AZURE_CODE, AZURE_CONV], [`(arguments): unexpected "${AZURE_CONV}"`]],
    ['an unknown option', ['inspect', AZURE_CODE, '--unit', 'ms'], [expect.stringContaining("(arguments): Unknown option '--unit'") as unknown as string]],
    ['a unit that is not one', ['inspect', AZURE_CODE, '--timestamp-unit', 'minutes'], ['--timestamp-unit: must be s, ms, us or iso']],
    ['a kind that is not one', ['inspect', AZURE_CODE, '--kind', 'qps'], ['--kind: must be requests or rate']],
    ['a format that is not one', ['inspect', AZURE_CODE, '--format', 'tsv'], ['--format: must be csv or jsonl']],
    [
      'a rate series without its column',
      ['inspect', AZURE_CODE, '--kind', 'rate'],
      ['--value-column: is required for kind rate: the column with the rate in requests per second'],
    ],
    [
      'a value column for requests',
      ['inspect', AZURE_CODE, '--value-column', 'qps'],
      ['--value-column: only for kind rate (a request trace has one row per request)'],
    ],
    ['a rate that is not one', ['inspect', AZURE_CODE, '--scale-to', 'lots'], ['--scale-to: must be a mean rate in requests per second, above 0 (got "lots")']],
    ['a zero rate', ['inspect', AZURE_CODE, '--scale-to', '0'], ['--scale-to: must be a mean rate in requests per second, above 0 (got "0")']],
    [
      'a scaling that is not one',
      ['inspect', AZURE_CODE, '--scale-to', '60', '--scaling', 'superpose'],
      ['--scaling: must be intensity or time-warp (got "superpose")'],
    ],
    ['a scaling without a rate', ['inspect', AZURE_CODE, '--scaling', 'time-warp'], ['--scaling: only with --scale-to (the rate to scale to)']],
    ['a seed that is not one', ['inspect', AZURE_CODE, '--scale-to', '60', '--seed', '1.5'], ['--seed: must be a whole number from 0 to 2^32 − 1 (got "1.5")']],
    [
      'several problems',
      ['inspect', '--kind', 'rate', '--timestamp-unit', 'h'],
      [
        '<file>: is required: the trace to read (CSV or JSONL)',
        '--timestamp-unit: must be s, ms, us or iso',
        '--value-column: is required for kind rate: the column with the rate in requests per second',
      ],
    ],
  ])('bad arguments (%s): every problem by its flag, the usage, exit 2', async (_what, args, problems) => {
    const out = io();
    expect(await runTrace(args, out)).toBe(2);
    expect(out.errors.slice(0, -1)).toEqual(problems);
    expect(out.errors.at(-1)).toMatch(/^usage: steer53 trace inspect <file> /);
    expect(out.lines).toEqual([]);
  });

  it.each<[string, string, string, string[], string[]]>([
    [
      'offsets with no unit',
      'offsets.csv',
      't\n0\n15\n340\n',
      ['--timestamp-column', 't'],
      [
        '  --timestamp-unit: timestamp column "t": values like 15 (from 0 to 340) are ambiguous (seconds, milliseconds or microseconds from the start?); give --timestamp-unit s|ms|us',
      ],
    ],
    [
      'a QPS series read as requests',
      'qps.csv',
      ['ts,qps', ...Array.from({ length: 120 }, (_, i) => `${1_700_000_000 + i},5`)].join('\n'),
      ['--timestamp-column', 'ts'],
      [
        '  --kind: looks like a rate series, not one request per row: column "qps" holds numbers and the rows come at regular intervals (every 1 s); give --kind rate and --value-column qps (or --kind requests to read one request per row)',
      ],
    ],
    [
      'bad rows',
      'rows.csv',
      'TIMESTAMP,ContextTokens\n2024-01-01 00:00:00,5\nnoon,6\n2024-01-01 00:00:09,-1\n',
      [],
      ['  line 3.TIMESTAMP: is not a timestamp: "noon"', '  line 4.ContextTokens: must be a token count ≥ 0: "-1"'],
    ],
    [
      'a bad JSON line',
      'rows.jsonl',
      '{"TIMESTAMP": 1700000000}\n{"TIMESTAMP": 17\n',
      [],
      [expect.stringMatching(/^ {2}line 2: is not JSON: /) as unknown as string],
    ],
  ])('a file it cannot read right (%s): every problem with its line and column, exit 1', async (_what, name, text, args, problems) => {
    const path = file(name, text);
    const out = io();
    expect(await runTrace(['inspect', path, ...args], out)).toBe(1);
    expect(out.errors.join('\n').split('\n')).toEqual([`${path} is not valid:`, ...problems]);
    expect(out.lines).toEqual([]);
  });

  it('a file it cannot open: exit 1', async () => {
    const out = io();
    expect(await runTrace(['inspect', '/no/such/trace.csv'], out)).toBe(1);
    expect(out.errors[0]).toMatch(/^\/no\/such\/trace\.csv is not valid:\n {2}\(file\): cannot be read: ENOENT/);
  });
});

describe('bin/steer53.ts trace', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'bin/steer53.ts', ...args], { cwd: new URL('../../../', import.meta.url).pathname }).then(
      (r) => ({ code: 0, ...r }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('inspect --json prints one JSON document; an ambiguous unit exits 1, a bad flag 2', { timeout: 60_000 }, async () => {
    const ok = await cli(['trace', 'inspect', AZURE_CODE, '--scale-to', '60', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ requests: 8819, scaled: { scaling: 'intensity' } });
    const ambiguous = await cli(['trace', 'inspect', file('t.csv', 't\n0\n15\n340\n'), '--timestamp-column', 't']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('give --timestamp-unit s|ms|us');
    const bad = await cli(['trace', 'inspect', AZURE_CODE, '--kind', 'bursts']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--kind: must be requests or rate');
  });
});
