import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIOS, loadScenario, resolveScenario } from '../../sim/scenario.js';
import { coefficientOfVariation } from '../../sim/traceFigures.js';
import { problemsOf, SOURCE, smallScenario } from './fixtures.js';

const AZURE_CONV = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_conv.csv';

function withSource(source: Record<string, unknown>) {
  return smallScenario({ demand: { sources: [{ meanRps: 40, ...source }] } as never });
}

/** Writes a file in a fresh folder and returns its path. */
function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'steer53-trace-')), name);
  writeFileSync(path, text);
  return path;
}

function perMinuteCv(arrivals: Float64Array, stepSeconds: number): number {
  const per = 60 / stepSeconds;
  const minutes = new Float64Array(Math.floor(arrivals.length / per));
  for (let m = 0; m < minutes.length; m++) for (let j = 0; j < per; j++) minutes[m]! += arrivals[m * per + j]!;
  return coefficientOfVariation(minutes)!;
}

describe('Scenario trace sources: the options of trace inspect, strictly', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an unknown trace setting',
      { trace: { file: AZURE_CONV, timestampUnits: 'ms' } },
      ['demand.sources[0].trace.timestampUnits: unknown setting (check the spelling)'],
    ],
    ['a unit that is not one', { trace: { file: AZURE_CONV, timestampUnit: 'hours' } }, ['demand.sources[0].trace.timestampUnit: must be s, ms, us or iso']],
    ['a kind that is not one', { trace: { file: AZURE_CONV, kind: 'qps' } }, ['demand.sources[0].trace.kind: must be requests or rate']],
    ['a format that is not one', { trace: { file: AZURE_CONV, format: 'parquet' } }, ['demand.sources[0].trace.format: must be csv or jsonl']],
    [
      'a rate series without its value column',
      { trace: { file: AZURE_CONV, kind: 'rate' } },
      ['demand.sources[0].trace.valueColumn: is required for kind rate: the column with the rate in requests per second'],
    ],
    [
      'a value column on a request trace',
      { trace: { file: AZURE_CONV, valueColumn: 'qps' } },
      ['demand.sources[0].trace.valueColumn: only for kind rate (a request trace has one row per request)'],
    ],
    [
      'token columns on a rate series',
      { trace: { file: AZURE_CONV, kind: 'rate', valueColumn: 'qps', promptTokensColumn: 'p' } },
      ['demand.sources[0].trace.promptTokensColumn: only for kind requests (a rate series has no requests: give the source a tokens trace)'],
    ],
    ['a scaling that is not one', { trace: { file: AZURE_CONV }, scaling: 'superpose' }, ['demand.sources[0].scaling: must be intensity or time-warp']],
    [
      'scaling a curve',
      { curve: { kind: 'constant' }, scaling: 'time-warp' },
      ['demand.sources[0].scaling: only for a trace source (a curve has no trace to scale)'],
    ],
    [
      'a token mix for a request trace',
      { trace: { file: AZURE_CONV }, tokens: { file: AZURE_CONV } },
      ['demand.sources[0].tokens: only for a curve or a rate-series trace (a request trace brings its own token counts)'],
    ],
    [
      'a token mix read as a rate series',
      { curve: { kind: 'constant' }, tokens: { file: AZURE_CONV, kind: 'rate', valueColumn: 'x' } },
      ['demand.sources[0].tokens.kind: must be requests: a token mix needs one row per request'],
    ],
  ])('refuses %s, at its path', async (_what, source, expected) => {
    expect(await problemsOf(withSource(source))).toEqual(expected);
  });

  it('refuses a trace of offsets with no unit, at trace.timestampUnit, saying what to write', async () => {
    const csv = file('offsets.csv', 't\n0\n15\n340\n3599342\n');
    expect(await problemsOf(withSource({ trace: { file: csv, timestampColumn: 't' } }))).toEqual([
      `demand.sources[0].trace.timestampUnit: ${csv}: timestamp column "t": values like 15 (from 0 to 3599342) are ambiguous ` +
        '(seconds, milliseconds or microseconds from the start?); give timestampUnit: s | ms | us',
    ]);
    const read = await resolveScenario(withSource({ trace: { file: csv, timestampColumn: 't', timestampUnit: 'ms' } }), SOURCE);
    expect(read.demand.steps).toBe(240);
  });

  it('refuses a QPS series not declared a rate series, at trace.kind', async () => {
    const csv = file('qps.csv', ['ts,qps', ...Array.from({ length: 600 }, (_, i) => `${1_700_000_000 + i},5`)].join('\n'));
    expect(await problemsOf(withSource({ trace: { file: csv, timestampColumn: 'ts' } }))).toEqual([
      `demand.sources[0].trace.kind: ${csv}: looks like a rate series, not one request per row: column "qps" holds numbers and the rows come at ` +
        'regular intervals (every 1 s); give kind: rate and valueColumn: qps (or kind: requests to read one request per row)',
    ]);
  });

  it('replays a rate series with a token mix, scaled to meanRps', async () => {
    const csv = file('qps.csv', ['ts,qps', ...Array.from({ length: 600 }, (_, i) => `${1_700_000_000 + i},${i < 300 ? 4 : 8}`)].join('\n'));
    const scenario = await resolveScenario(
      withSource({ trace: { file: csv, timestampColumn: 'ts', kind: 'rate', valueColumn: 'qps' }, tokens: { file: AZURE_CONV } }),
      SOURCE,
    );
    const total = scenario.demand.arrivals.reduce((a, b) => a + b, 0);
    expect(total / (40 * 60)).toBeCloseTo(40, 0);
    // The series' first five minutes run at a third of its rate, the next five at two thirds.
    const firstFive = scenario.demand.arrivals.subarray(0, 30).reduce((a, b) => a + b, 0);
    expect(firstFive / ((300 * (40 * 4)) / 6)).toBeCloseTo(1, 1);
  });

  it('replays a JSONL request trace', async () => {
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({ at: `2024-05-01T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`, p: 500, o: 50 }),
    );
    const jsonl = file('trace.jsonl', lines.join('\n'));
    const scenario = await resolveScenario(
      withSource({ trace: { file: jsonl, timestampColumn: 'at', promptTokensColumn: 'p', outputTokensColumn: 'o' } }),
      SOURCE,
    );
    expect(scenario.demand.prompts.every((p) => p === 500)).toBe(true);
  });

  it('reports a token mix without token columns at tokens.file', async () => {
    const csv = file('times.csv', 'TIMESTAMP\n2024-01-01 00:00:00\n2024-01-01 00:00:03\n');
    expect(await problemsOf(withSource({ curve: { kind: 'constant' }, tokens: { file: csv } }))).toEqual([
      `demand.sources[0].tokens.file: ${csv}: has no token columns: a token mix needs both`,
    ]);
  });
});

describe('Shipped scenarios on real traces', () => {
  it.each(DEFAULT_SCENARIOS)('%s keeps the burstiness of its trace (per-minute CV at least the conv trace’s 0.2)', async (name) => {
    const scenario = await loadScenario(name);
    expect(perMinuteCv(scenario.demand.arrivals, scenario.spec.stepSeconds)).toBeGreaterThan(0.2);
  });

  it('ships real-trace-day: a day of the Azure conv trace at 60 req/s with its daily swing, no incident', async () => {
    const scenario = await loadScenario('real-trace-day');
    expect(scenario.spec.duration).toBe(86400);
    expect(scenario.hasIncident).toBe(false);
    const total = scenario.demand.arrivals.reduce((a, b) => a + b, 0);
    expect(total / 86400).toBeCloseTo(60, 0);
    const hour = (h: number) => scenario.demand.arrivals.subarray(h * 360, (h + 1) * 360).reduce((a, b) => a + b, 0) / 3600;
    // Noon start, peak at 15:00 (hour 3), trough at 03:00 (hour 15): ±30%.
    expect(hour(3) / hour(15)).toBeCloseTo(1.3 / 0.7, 0);
  });
});
