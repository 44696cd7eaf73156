import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { benchComparisonLines, type ComparedBench, readBenchComparison } from '../../sim/benchCompare.js';
import { runBench } from '../../sim/benchmark.js';
import type { BenchDocument } from '../../sim/summary.js';
import { collectingIo, smallScenario } from './fixtures.js';

function written(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'steer53-compare-')), 'before.json');
  writeFileSync(file, content);
  return file;
}

/** One scenario as a bench document holds it: steer53's figures, mean and worst over two seeds. */
function scenario(name: string, missed: number, flaps = 0, dnsChanges = 4): ComparedBench['scenarios'][number] {
  const figures = { sloMissFraction: missed, benefit: 0.9, dnsChanges, flaps };
  return {
    name,
    seeds: [1, 2],
    controllers: { steer53: { mean: figures, worst: { ...figures, sloMissFraction: missed * 1.5 } } },
    steer53MissRatio: { 'route53-health-check': { mean: 0.5, worst: 0.6 }, 'route53-alarm-health-check': { mean: 0.8, worst: null } },
  };
}

function document(...scenarios: ComparedBench['scenarios']): ComparedBench {
  return { seeds: [1, 2], quick: false, scenarios };
}

describe('Function: readBenchComparison', () => {
  const run = { seeds: [1, 2], quick: false };

  it('reads a document of the same seeds, quick or not, as the run', () => {
    const file = written(JSON.stringify({ ...document(scenario('a', 0.01)), expectations: { met: 1, missed: 0, skipped: 0 } }));
    expect(readBenchComparison(file, run).scenarios.map((s) => s.name)).toEqual(['a']);
  });

  it.each([
    ['another seed list', JSON.stringify({ ...document(), seeds: [1, 2, 3] }), 'was run on seeds 1,2,3; this run is on seeds 1,2 (--seeds)'],
    ["each scenario's own seed", JSON.stringify({ ...document(), seeds: null }), "was run on each scenario's own seed; this run is on seeds 1,2"],
    ['a quick run', JSON.stringify({ ...document(), quick: true }), 'was a quick run; this run is not (--quick)'],
    ['text that is not JSON', 'steer53 bench: 16 scenarios', 'is not JSON'],
    ['a field not as the benchmark writes it', JSON.stringify({ ...document(), scenarios: [{ name: 'a', seeds: [1] }] }), 'scenarios[0].controllers'],
  ])('refuses %s, naming --compare and the file', (_what, content, message) => {
    const file = written(content);
    expect(() => readBenchComparison(file, run)).toThrow(ValidationError);
    expect(() => readBenchComparison(file, run)).toThrow(message);
  });

  it('refuses a file it cannot read', () => {
    expect(() => readBenchComparison('/nonexistent/before.json', run)).toThrow('--compare: /nonexistent/before.json: cannot be read (ENOENT)');
  });
});

describe('Function: benchComparisonLines', () => {
  it('lists the scenarios that changed, before → after in each cell that moved, and the totals', () => {
    const after = document(scenario('a', 0.01), scenario('b', 0.02, 1.5, 6)) as unknown as BenchDocument;
    const lines = benchComparisonLines('before.json', document(scenario('a', 0.01), scenario('b', 0.03, 1, 6)), after);
    expect(lines).toEqual([
      'steer53 now against before.json (mean / worst over the seeds):',
      '',
      '| scenario | missed | benefit | ÷ route53-health-check | ÷ route53-alarm-health-check | flaps | DNS changes |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| b | 3.000% / 4.500% → 2.000% / 3.000% | 90.0% / 90.0% | 0.500 / 0.600 | 0.800 / – | 1 / 1 → 1.5 / 1.5 | 6 / 6 |',
      '',
      '1 of 2 scenarios unchanged.',
      // Means times seeds: 0 + 2 flaps before, 0 + 3 after.
      'Flaps over every scenario and seed: 2 → 3; DNS changes: 20.',
    ]);
  });

  it('says when nothing changed, and names the scenarios only one run holds', () => {
    const after = document(scenario('a', 0.01), scenario('new', 0.01)) as unknown as BenchDocument;
    const lines = benchComparisonLines('before.json', document(scenario('a', 0.01), scenario('gone', 0.01)), after);
    expect(lines.slice(2)).toEqual([
      'No scenario changed (1 compared).',
      'Flaps over every scenario and seed: 0; DNS changes: 8.',
      'Not in before.json, so not compared: new.',
      'In before.json only, not run now: gone.',
    ]);
  });
});

describe('npm run bench -- --help', () => {
  it('prints the usage line on stdout and runs nothing', async () => {
    const io = collectingIo();
    expect(await runBench(['--help'], io)).toBe(0);
    expect(io.stdout).toEqual([expect.stringMatching(/^usage: npm run bench -- .*--compare before\.json/)]);
    expect(io.stderr).toEqual([]);
  });
});

describe('npm run bench -- --compare', () => {
  it('refuses a document of other seeds before it runs anything', async () => {
    const file = written(JSON.stringify({ ...document(), seeds: [7] }));
    const io = collectingIo();
    expect(await runBench(['--seeds', '1,2', '--compare', file], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('\n')).toContain('--compare: ');
    expect(io.stderr.join('\n')).toContain('usage: npm run bench');
  });

  it('after the tables (on stderr with --json), says what changed since the run that wrote the document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-compare-'));
    const file = join(dir, 'tiny.json');
    writeFileSync(
      file,
      JSON.stringify(smallScenario({ name: 'tiny', duration: '20m', incidents: [{ kind: 'outage', region: 'b', start: '4m', duration: '12m' }] })),
    );
    const first = collectingIo();
    expect(await runBench(['--scenario', file, '--json', '--out', join(dir, 'one')], first)).toBe(0);
    const again = collectingIo();
    expect(await runBench(['--scenario', file, '--json', '--out', join(dir, 'two'), '--compare', join(dir, 'one', 'bench.json')], again)).toBe(0);
    expect(again.stdout).toHaveLength(1);
    expect(again.stderr).toContain('No scenario changed (1 compared).');
  }, 30_000);
});
