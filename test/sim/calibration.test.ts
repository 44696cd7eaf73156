import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { fitCalibration, fitErrors, loadCalibration, overheadAt, parseCalibrationCsv, selectPoints, type FittedModel } from '../../sim/calibration.js';
import { DEFAULT_UNIT } from '../../sim/latencyModel.js';
import { runLoadPoint } from '../../sim/loadTest.js';

const OCI = join(import.meta.dirname, '..', '..', 'scenarios', 'calibration', 'oci-llama-3.3-70b.csv');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'calibration');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('Function: parseCalibrationCsv', () => {
  it('reads the load column, the metric columns and the workload, and sorts the rows by load', () => {
    const table = parseCalibrationCsv('rps,ttft_p50_ms,gpu_util,kv_cache,prompt_tokens,output_tokens\n8,90,0.95,40,500,200\n2,40,,,500,200\n', 'test.csv');
    expect(table.kind).toBe('rps');
    expect(table.points.map((p) => p.load)).toEqual([2, 8]);
    // GPU utilisation given as a fraction is kept in percent, like the KV cache.
    expect(table.points[1]!.metrics).toEqual({ ttft_p50_ms: 90, gpu_util: 95, kv_cache: 40 });
    expect(table.promptTokens).toBe(500);
    expect(table.outputTokens).toBe(200);
  });

  it.each([
    ['no load column', 'ttft_p50_ms\n50\n', 'header: needs exactly one load column, concurrency or rps (found none)'],
    ['two load columns', 'concurrency,rps,ttft_p50_ms\n1,1,50\n', 'header: needs exactly one load column, concurrency or rps (found concurrency and rps)'],
    ['a misspelt column', 'concurrency,ttft_p50,ttft_p99_ms\n1,50,60\n', 'header column 2: unknown column "ttft_p50"'],
    ['a value that is not a number', 'concurrency,ttft_p50_ms\n1,fast\n', 'line 2.ttft_p50_ms: must be a number ≥ 0 (got "fast")'],
    ['a row with a missing cell', 'concurrency,ttft_p50_ms\n1\n', 'line 2: has 1 cells, the header 2'],
    ['a zero load', 'concurrency,ttft_p50_ms\n0,50\n', 'line 2.concurrency: must be a number > 0'],
    ['a load twice', 'concurrency,ttft_p50_ms\n4,50\n4,60\n', 'concurrency 4: appears twice'],
    ['no TTFT at all', 'concurrency,req_s\n4,2\n', '(table): has no time-to-first-token column'],
  ])('refuses %s, saying where', (_name, text, message) => {
    expect(problemsOf(() => parseCalibrationCsv(text, 'bad.csv')).join('\n')).toContain(message);
  });
});

describe('Function: loadCalibration (vllm bench serve --save-result)', () => {
  it('reads a request-rate result as one open-loop point, with its token totals as the workload', () => {
    const table = loadCalibration([join(FIXTURES, 'vllm-rate-4.json')]);
    expect(table.kind).toBe('rps');
    expect(table.points).toEqual([
      {
        load: 4,
        metrics: { ttft_p50_ms: 36.8, ttft_mean_ms: 41.2, ttft_p99_ms: 95.4, tpot_p50_ms: 11.7, tpot_mean_ms: 11.9, req_s: 3.98, out_tok_s: 509.5 },
      },
    ]);
    expect(table.promptTokens).toBe(512);
    expect(table.outputTokens).toBe(128);
  });

  it('reads a max-concurrency result (request_rate Infinity, as Python writes it) as a closed-loop point', () => {
    const table = loadCalibration([join(FIXTURES, 'vllm-rate-inf-concurrency-16.json')]);
    expect(table.kind).toBe('concurrency');
    expect(table.points[0]!.load).toBe(16);
  });

  it('refuses to mix closed- and open-loop results, and files that are not results', () => {
    const dir = mkdtempSync(join(tmpdir(), 'calibration-'));
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"hello": 1}');
    expect(problemsOf(() => loadCalibration([join(FIXTURES, 'vllm-rate-4.json'), join(FIXTURES, 'vllm-rate-inf-concurrency-16.json')])).join('\n')).toContain(
      'mix closed-loop (max_concurrency) and open-loop (request_rate) results',
    );
    expect(problemsOf(() => loadCalibration([junk])).join('\n')).toContain('neither max_concurrency nor a finite request_rate');
  });

  it('says which file cannot be read', () => {
    expect(problemsOf(() => loadCalibration('/nonexistent/table.csv'))).toEqual([expect.stringContaining('(file): cannot be read')]);
  });
});

describe('Function: overheadAt (a closed-loop tester’s client overhead)', () => {
  const overhead = {
    points: [
      [1, 0.1],
      [64, 1.2],
      [256, 11.5],
    ] as [number, number][],
  };
  it.each([
    [1, 0.1],
    [64, 1.2],
    [256, 11.5],
    [512, 23],
    [0.5, 0.05],
  ])('gives %s clients %s s', (concurrency, seconds) => {
    expect(overheadAt(overhead, concurrency)).toBeCloseTo(seconds, 6);
  });
  it('interpolates in log-log between rows', () => {
    expect(overheadAt(overhead, 128)).toBeCloseTo(1.2 * Math.sqrt(11.5 / 1.2), 6);
  });
});

describe('Calibration from the OCI Llama 3.3 70B table', () => {
  const table = loadCalibration(OCI);

  it('fitted from the rows at 1, 64 and 256 clients, predicts the held-back rows at 16 and 128 within 25%', () => {
    const fit = fitCalibration(selectPoints(table, [1, 64, 256]));
    expect(fit.misses).toEqual([]);
    const heldBack = fitErrors(fit.model, selectPoints(table, [16, 128])).filter((e) => e.column === 'ttft_mean_ms');
    expect(heldBack).toHaveLength(2);
    for (const e of heldBack) expect(Math.abs(e.relative), `concurrency ${e.load}: ${e.model} ms against ${e.table} ms`).toBeLessThan(0.25);
  }, 120_000);

  it('has the shipped default unit reproduce every row within 25%', () => {
    const model: FittedModel = { ...DEFAULT_UNIT, workload: { promptTokens: 480, outputTokens: 300 }, kind: 'concurrency', clientOverhead: { points: [] } };
    const withOverhead = {
      ...model,
      clientOverhead: {
        points: table.points.map(
          (p) => [p.load, p.load / p.metrics.req_s! - (p.metrics.ttft_mean_ms! + 299 * p.metrics.tpot_mean_ms!) / 1000] as [number, number],
        ),
      },
    };
    const misses = fitErrors(withOverhead, table).filter((e) => Math.abs(e.relative) > 0.25);
    expect(misses.map((e) => `${e.load} ${e.column}: ${e.model.toFixed(1)} against ${e.table}`)).toEqual([]);
  }, 60_000);

  it('says which rows a fit misses, and by how much, when the model cannot follow the table', () => {
    // Time to first token that falls as load rises: no continuous-batching server does that.
    const impossible = parseCalibrationCsv('concurrency,ttft_p50_ms\n1,2000\n32,200\n128,20\n', 'impossible.csv');
    const fit = fitCalibration(impossible, { maxEvaluations: 40 });
    expect(fit.misses.length).toBeGreaterThan(0);
    expect(fit.misses.every((m) => Math.abs(m.relative) > 0.25)).toBe(true);
  }, 60_000);
});

describe('Open-loop load tests', () => {
  it('serve what arrives below saturation, and cannot above it', () => {
    const workload = { promptTokens: 480, outputTokens: 300 };
    const light = runLoadPoint(DEFAULT_UNIT, workload, { rps: 2 }, { seconds: 600 });
    const heavy = runLoadPoint(DEFAULT_UNIT, workload, { rps: 30 }, { seconds: 600, timeoutSeconds: 60 });
    expect(light.reqPerS).toBeGreaterThan(1.8);
    expect(heavy.reqPerS).toBeLessThan(15);
    expect(heavy.failed).toBeGreaterThan(0);
  });
});
