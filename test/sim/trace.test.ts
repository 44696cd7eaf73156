import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { traceRefSchema, type TraceRef } from '../../sim/scenarioSchema.js';
import { epochUnitOf, loadTrace, parseIsoDateTime, parseTrace, type RateTrace, type RequestTrace, type Trace } from '../../sim/trace.js';
import { traceFigures } from '../../sim/traceFigures.js';

const AZURE_CONV = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_conv.csv';
const AZURE_CODE = 'scenarios/traces/azure-llm-2023-AzureLLMInferenceTrace_code.csv';

function ref(settings: Partial<Record<keyof TraceRef, string>> = {}): TraceRef {
  return traceRefSchema.parse({ file: 'trace.csv', ...settings });
}

function read(text: string, settings: Partial<Record<keyof TraceRef, string>> = {}): Trace {
  return parseTrace(text, ref(settings), 'trace.csv');
}

function requests(text: string, settings: Partial<Record<keyof TraceRef, string>> = {}): RequestTrace {
  const trace = read(text, settings);
  if (trace.kind !== 'requests') throw new Error(`read a ${trace.kind} trace`);
  return trace;
}

/** Every problem the reader reports, as `path: message`. */
function problems(text: string, settings: Partial<Record<keyof TraceRef, string>> = {}): string[] {
  try {
    read(text, settings);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

function csv(column: string, times: readonly (string | number)[], extra = ''): string {
  return [`${column}${extra ? `,${extra.split('=')[0]}` : ''}`, ...times.map((t) => `${t}${extra ? `,${extra.split('=')[1]}` : ''}`)].join('\n');
}

describe('Reading traces: timestamp units are never guessed', () => {
  it.each([
    ['2023-11-16 18:15:46.6805900', Date.UTC(2023, 10, 16, 18, 15, 46) + 680.59],
    ['2023-11-16T18:15:46Z', Date.UTC(2023, 10, 16, 18, 15, 46)],
    ['2023-11-16T18:15:46.5+01:00', Date.UTC(2023, 10, 16, 17, 15, 46, 500)],
    ['2023-11-16 18:15:46-0230', Date.UTC(2023, 10, 16, 20, 45, 46)],
  ])('reads the ISO date-time %s to the sub-millisecond', (text, ms) => {
    expect(parseIsoDateTime(text)).toBeCloseTo(ms, 3);
  });

  it.each(['2023-11-16', 'yesterday', '18:15:46', '1700158546'])('does not take %s for an ISO date-time', (text) => {
    expect(parseIsoDateTime(text)).toBeUndefined();
  });

  it.each<[string, number, number, string | undefined]>([
    ['epoch seconds', 1.7e9, 1.7e9 + 3600, 's'],
    ['epoch milliseconds', 1.7e12, 1.7e12 + 3.6e6, 'ms'],
    ['epoch microseconds', 1.7e15, 1.7e15 + 3.6e9, 'us'],
    ['epoch seconds of 2000-01-01', 946684800, 946684800, 's'],
    ['offsets from the start', 0, 3600, undefined],
    ['offsets in milliseconds', 15, 3_599_342, undefined],
    ['a column that spans two units', 1.7e9, 1.7e12, undefined],
    ['seconds before 2000', 9e8, 9.1e8, undefined],
  ])('infers the unit of %s only when one unit alone is a 2000–2100 epoch', (_what, min, max, unit) => {
    expect(epochUnitOf(min, max)).toBe(unit);
  });

  it.each<[string, string, string[], number]>([
    ['ISO date-times', 'TIMESTAMP', ['2023-11-16 18:00:00', '2023-11-16 18:00:01.5', '2023-11-16 18:00:04'], 4],
    ['ISO date-times with a zone', 'TIMESTAMP', ['2023-11-16T18:00:00Z', '2023-11-16T19:00:04+01:00'], 4],
    ['epoch seconds', 'TIMESTAMP', ['1700000000', '1700000001.5', '1700000004'], 4],
    ['epoch milliseconds', 'TIMESTAMP', ['1700000000000', '1700000001500', '1700000004000'], 4],
    ['epoch microseconds', 'TIMESTAMP', ['1700000000000000', '1700000001500000', '1700000004000000'], 4],
  ])('reads %s without being told the unit', (_what, column, times, duration) => {
    expect(requests(csv(column, times)).durationSeconds).toBeCloseTo(duration, 6);
  });

  it('refuses offsets from the start without a unit, naming the column, a value and the units to choose from', () => {
    expect(problems(csv('t', [0, 15, 340, 3_599_342]), { timestampColumn: 't' })).toEqual([
      'timestampUnit: timestamp column "t": values like 15 (from 0 to 3599342) are ambiguous (seconds, milliseconds or microseconds from the start?); give timestampUnit: s | ms | us',
    ]);
  });

  it.each<[string, string, number]>([
    ['s', 'one hour in seconds', 3_599_342],
    ['ms', 'one hour in milliseconds', 3_599.342],
    ['us', 'one hour in microseconds', 3.599342],
  ])('reads offsets as %s when told (%s)', (unit, _what, duration) => {
    expect(requests(csv('t', [0, 15, 340, 3_599_342]), { timestampColumn: 't', timestampUnit: unit }).durationSeconds).toBeCloseTo(duration, 6);
  });

  it('reads a one-hour trace of millisecond offsets as one hour, not 982 hours (the misread of issue 11)', () => {
    const times = Array.from({ length: 3600 }, (_, i) => i * 1000 + ((i * 7919) % 1000));
    const trace = requests(csv('t', times), { timestampColumn: 't', timestampUnit: 'ms' });
    expect(trace.durationSeconds).toBeCloseTo(3599.6, 0);
    expect(trace.meanRps).toBeCloseTo(1, 2);
  });

  it('refuses a column that mixes formats, at the line of each odd one out', () => {
    const text = 'TIMESTAMP\n2023-11-16 18:00:00\n1700158546\n2023-11-16 18:00:02\n1700158547\n';
    expect(problems(text)).toEqual([
      'line 3.TIMESTAMP: is a number ("1700158546"), but line 2 has a date-time ("2023-11-16 18:00:00"): one format per column',
      'line 5.TIMESTAMP: is a number ("1700158547"), but line 2 has a date-time ("2023-11-16 18:00:00"): one format per column',
    ]);
  });

  it.each<[string, string, string]>([
    ['iso', '1700000000', 'line 2.TIMESTAMP: is a number, but timestampUnit: iso says ISO date-times: "1700000000"'],
    ['s', '2023-11-16 18:00:00', 'line 2.TIMESTAMP: is a date-time, but timestampUnit: s says seconds: "2023-11-16 18:00:00"'],
  ])('refuses values that contradict timestampUnit: %s', (unit, value, problem) => {
    expect(problems(csv('TIMESTAMP', [value, value.replace(/0$/, '1')]), { timestampUnit: unit })[0]).toBe(problem);
  });
});

describe('Reading traces: one request per row', () => {
  it('reads any CSV with a timestamp column; token columns are optional', () => {
    const trace = requests('TIMESTAMP,other\n2023-11-16 18:00:01,a\n2023-11-16 18:00:00,b\n2023-11-16 18:00:04,c\n');
    expect(Array.from(trace.offsets)).toEqual([0, 1, 4]);
    expect(trace.hasTokens).toBe(false);
    expect(trace.meanRps).toBeCloseTo(3 / 4, 10);
  });

  it('reads the shipped Azure traces as ISO date-times with their tokens, every request (as their README counts them)', () => {
    for (const [file, rows] of [
      [AZURE_CONV, 19366],
      [AZURE_CODE, 8819],
    ] as const) {
      const trace = loadTrace(file, traceRefSchema.parse({ file }));
      expect(trace).toMatchObject({ kind: 'requests', timestampUnit: 'iso', hasTokens: true });
      expect((trace as RequestTrace).offsets.length).toBe(rows);
    }
  });

  it('reads JSONL: one object per line, the column names as keys, numbers or strings', () => {
    const lines = [
      { ts: 1_700_000_000_000, prompt: 900, output: 90 },
      { ts: '1700000000500', prompt: 1100, output: 110 },
      { ts: 1_700_000_002_000, prompt: 1000, output: 100 },
    ].map((o) => JSON.stringify(o));
    const trace = parseTrace(
      `${lines.join('\n')}\n`,
      traceRefSchema.parse({ file: 'trace.jsonl', timestampColumn: 'ts', promptTokensColumn: 'prompt', outputTokensColumn: 'output' }),
      'trace.jsonl',
    ) as RequestTrace;
    expect(trace.timestampUnit).toBe('ms');
    expect(Array.from(trace.offsets)).toEqual([0, 0.5, 2]);
    expect(Array.from(trace.promptTokens)).toEqual([900, 1100, 1000]);
  });

  it('lists JSONL lines that are not objects, at their line', () => {
    const text = '{"TIMESTAMP": 1700000000}\n\nnot json\n[1, 2]\n{"TIMESTAMP": 1700000001}\n';
    expect(() => parseTrace(text, traceRefSchema.parse({ file: 'x.jsonl' }), 'x.jsonl')).toThrow(ValidationError);
    try {
      parseTrace(text, traceRefSchema.parse({ file: 'x.jsonl' }), 'x.jsonl');
    } catch (error) {
      expect((error as ValidationError).problems.map((p) => p.path)).toEqual(['line 3', 'line 4']);
    }
  });

  it('says so when a CSV is really JSON lines', () => {
    expect(problems('{"TIMESTAMP": 1700000000}\n{"TIMESTAMP": 1700000001}\n')).toEqual([
      'format: the file holds JSON objects, not a CSV header: give format: jsonl',
    ]);
  });

  it('lists every bad row and a missing column with where it is, counting the rows past twenty', () => {
    expect(problems('when,ContextTokens\n1,2\n3,4\n')).toEqual(['timestampColumn: no column "TIMESTAMP" in the file (columns: when, ContextTokens)']);
    expect(problems('TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n2023-11-16 18:00:00,-4,2\n\n2023-11-16 18:00:01,4,\n')).toEqual([
      'line 2.TIMESTAMP: is not a timestamp: "yesterday"',
      'line 3.ContextTokens: must be a token count ≥ 0: "-4"',
      'line 5.GeneratedTokens: must be a token count ≥ 0: ""',
    ]);
    const many = ['TIMESTAMP', ...Array.from({ length: 25 }, () => 'soon')].join('\n');
    const listed = problems(many);
    expect(listed).toHaveLength(21);
    expect(listed.at(-1)).toBe('(file): 5 more bad rows not listed');
  });

  it('refuses a token column named on purpose that the file does not have (the default ones are optional)', () => {
    expect(problems(csv('TIMESTAMP', ['1700000000', '1700000001']), { promptTokensColumn: 'prompt' })).toEqual([
      'promptTokensColumn: no column "prompt" in the file (columns: TIMESTAMP)',
    ]);
  });
});

describe('Reading traces: rate series', () => {
  const qps = (times: readonly number[], rates: readonly number[]) => ['time,qps', ...times.map((t, i) => `${t},${rates[i]}`)].join('\n');
  const hour = Array.from({ length: 3600 }, (_, i) => i);
  const rates = hour.map((i) => 5 + 3 * (Math.floor(i / 60) % 3));

  it('refuses to read a per-second QPS series one request per row, and says how to read it (the misread of issue 11)', () => {
    expect(problems(qps(hour, rates), { timestampColumn: 'time', timestampUnit: 's' })).toEqual([
      'kind: looks like a rate series, not one request per row: column "qps" holds numbers and the rows come at regular intervals (every 1 s); ' +
        'give kind: rate and valueColumn: qps (or kind: requests to read one request per row)',
    ]);
  });

  it('reports an ambiguous unit and a rate series together', () => {
    expect(problems(qps(hour, rates), { timestampColumn: 'time' }).map((p) => p.split(':')[0])).toEqual(['timestampUnit', 'kind']);
  });

  it('reads the rows one request each when told kind: requests', () => {
    expect(read(qps(hour, rates), { timestampColumn: 'time', timestampUnit: 's', kind: 'requests' }).kind).toBe('requests');
  });

  it('reads a rate series as a piecewise-constant rate: the requests it implies, its mean and its per-minute shape', () => {
    const trace = read(qps(hour, rates), { timestampColumn: 'time', timestampUnit: 's', kind: 'rate', valueColumn: 'qps' }) as RateTrace;
    expect(trace.kind).toBe('rate');
    expect(trace.durationSeconds).toBe(3600);
    expect(trace.requests).toBe(rates.reduce((a, b) => a + b, 0));
    const figures = traceFigures(trace);
    expect(figures).toMatchObject({ requests: 28800, meanRps: 8, peakRps: 11, promptTokens: null, kind: 'rate', timestampUnit: 's' });
    // Minutes at 5, 8 and 11 req/s in turn.
    expect(figures.perMinuteCv).toBeCloseTo(Math.sqrt(6) / 8, 6);
  });

  it('holds each rate until the next row, and the last row for the usual spacing', () => {
    const trace = read(qps([0, 10, 40, 50], [1, 2, 0, 4]), { timestampColumn: 'time', timestampUnit: 's', kind: 'rate', valueColumn: 'qps' }) as RateTrace;
    expect(trace.durationSeconds).toBe(60);
    expect(trace.requests).toBe(1 * 10 + 2 * 30 + 0 + 4 * 10);
  });

  it.each<[string, string, Partial<Record<keyof TraceRef, string>>, string[]]>([
    ['a missing value column', qps([0, 1, 2], [1, 1, 1]), { valueColumn: 'rps' }, ['valueColumn: no column "rps" in the file (columns: time, qps)']],
    ['a negative rate', qps([0, 1, 2], [1, -1, 1]), {}, ['line 3.qps: must be a rate ≥ 0 (requests per second): "-1"']],
    ['two rows at one time', qps([0, 1, 1], [1, 1, 1]), {}, ['line 4: has the same time as line 3 (a rate series has one row per time)']],
  ])('refuses a rate series with %s', (_what, text, settings, expected) => {
    expect(problems(text, { timestampColumn: 'time', timestampUnit: 's', kind: 'rate', valueColumn: 'qps', ...settings })).toEqual(expected);
  });
});
