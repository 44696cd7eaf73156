import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { parseSeeds, runBench } from '../../sim/benchmark.js';
import { runSimulate } from '../../sim/cli.js';
import type { ScenarioInput } from '../../sim/scenarioSchema.js';
import { CONTROLLER_NAMES } from '../../sim/world.js';
import { collectingIo, smallScenario } from './fixtures.js';

/** A 20-minute scenario file: b is down from minute 5 to 15; `expect` as given. */
function tinyScenarioFile(expectBlock?: ScenarioInput['expect']): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'steer53-bench-'));
  const file = join(dir, 'tiny.json');
  const scenario = smallScenario({
    name: 'tiny',
    duration: '20m',
    // Longer than the 10-minute flap window: the health check's flip back after the outage is the outage ending, not a flap.
    incidents: [{ kind: 'outage', region: 'b', start: '4m', duration: '12m' }],
    ...(expectBlock !== undefined ? { expect: expectBlock } : {}),
  });
  writeFileSync(file, JSON.stringify(scenario));
  return { dir, file };
}

describe('Function: parseSeeds', () => {
  it.each([
    ['1-5', [1, 2, 3, 4, 5]],
    ['1,3', [1, 3]],
    ['1,3,7', [1, 3, 7]],
    ['1-3,7', [1, 2, 3, 7]],
    ['0', [0]],
    [' 2 - 4 ', [2, 3, 4]],
  ])('reads %j as %j', (text, seeds) => {
    expect(parseSeeds(text)).toEqual(seeds);
  });

  it.each([
    ['', /is not a list of seeds/],
    ['five', /is not a list of seeds/],
    ['1,,2', /is not a list of seeds/],
    ['1.5', /is not a list of seeds/],
    ['-1', /is not a list of seeds/],
    ['5-1', /the range 5-1 runs backwards/],
    ['3,3', /seed 3 is given twice/],
    ['1-1000', /at most 100 seeds/],
    ['99999999999', /0–4294967295/],
  ])('refuses %j, naming --seeds', (text, message) => {
    expect(() => parseSeeds(text)).toThrow(ValidationError);
    expect(() => parseSeeds(text)).toThrow(/--seeds: /);
    expect(() => parseSeeds(text)).toThrow(message);
  });
});

describe('npm run bench', () => {
  it('exits 2 on bad options, naming the option, and runs nothing', async () => {
    for (const [args, named] of [
      [['--seeds', '5-1'], /--seed/],
      [['--seed', '3'], /--seed/],
      [['--seeds'], /--seed/],
      [['--policy', 'detection.breachesToDegrade'], /--policy detection\.breachesToDegrade: must be path=value/],
      // Checked against the scenarios' policies before anything runs.
      [['--policy', 'detection.breachesToDegrade=6'], /policy\.detection\.breachesToDegrade: must be at most window \(5\)/],
    ] as const) {
      const io = collectingIo();
      expect(await runBench(args, io)).toBe(2);
      expect(io.stdout).toEqual([]);
      expect(io.stderr.join('\n')).toMatch(named);
      expect(io.stderr.join('\n')).toContain('usage: npm run bench');
    }
  });

  it('prints exactly one JSON document with --json: the seeds, mean and worst per controller, per-seed values, and the expectations', async () => {
    const { dir, file } = tinyScenarioFile({ dnsChanges: { worst: 50 } });
    const io = collectingIo();
    const code = await runBench(['--scenario', file, '--seeds', '1,2', '--json', '--out', join(dir, 'out')], io);
    expect(code).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const doc = JSON.parse(io.stdout[0]!);
    expect(doc).toMatchObject({ seeds: [1, 2], quick: false, expectations: { met: 3, missed: 0, skipped: 0 } });
    const [scenario, ...more] = doc.scenarios;
    expect(more).toEqual([]);
    expect(scenario).toMatchObject({ name: 'tiny', incident: true, seeds: [1, 2], durationSeconds: 1200, fileDurationSeconds: 1200 });
    expect(Object.keys(scenario.controllers)).toEqual([...CONTROLLER_NAMES]);
    for (const name of CONTROLLER_NAMES) {
      const controller = scenario.controllers[name];
      expect(Object.keys(controller)).toEqual(['mean', 'worst', 'perSeed']);
      expect(controller.perSeed.map((s: { seed: number }) => s.seed)).toEqual([1, 2]);
      const misses = controller.perSeed.map((s: { sloMissFraction: number }) => s.sloMissFraction);
      expect(controller.worst.sloMissFraction).toBe(Math.max(...misses));
      expect(controller.mean.sloMissFraction).toBeCloseTo((misses[0] + misses[1]) / 2, 5);
    }
    expect(Object.keys(scenario.steer53MissRatio)).toEqual(CONTROLLER_NAMES.filter((n) => n !== 'steer53'));
    expect(scenario.expectations.map((c: { expectation: string; statistic: string; status: string }) => `${c.expectation} ${c.statistic} ${c.status}`)).toEqual(
      ['flaps worst met', 'dnsChanges worst met', 'safetyViolations worst met'],
    );
    // The same document is written next to the report.
    expect(readFileSync(join(dir, 'out', 'bench.json'), 'utf8')).toBe(`${io.stdout[0]}\n`);
  });

  it('exits 1 on a missed expectation and says which: scenario, expectation, value and bound', async () => {
    const { dir, file } = tinyScenarioFile({ ratioTo: { static: { worst: 0 } } });
    const io = collectingIo();
    const code = await runBench(['--scenario', file, '--out', join(dir, 'out')], io);
    expect(code).toBe(1);
    const stderr = io.stderr.join('\n');
    expect(stderr).toMatch(/^missed: tiny: ratioTo\.static worst ≤ 0\.00×: 0\.\d\d×$/m);
    expect(stderr).toContain('1 expectation missed');
    expect(io.stdout.join('\n')).toMatch(/\| tiny \| ratioTo\.static worst ≤ 0\.00× \| \*\*MISSED\*\* \| 0\.\d\d× \|/);
  });

  it('steer53 simulate (npm start) exits 0 all the same, and shows the missed expectation in its table and its report', async () => {
    const { dir, file } = tinyScenarioFile({ ratioTo: { static: { worst: 0 } } });
    const io = collectingIo();
    expect(await runSimulate(['--scenario', file, '--out', dir], io)).toBe(0);
    const stdout = io.stdout.join('\n');
    expect(stdout).toMatch(/tiny .* 2\/3 met, 1 MISSED/);
    expect(stdout).toMatch(/Missed expectations \(1\):\n {2}✗ tiny: ratioTo\.static worst ≤ 0\.00×: 0\.\d\d×/);
    const html = readFileSync(join(dir, 'steer53-report.html'), 'utf8');
    expect(html).toContain('Missed expectations (1)');
    expect(html).toMatch(/<span class="chip miss">✗ MISSED ratioTo\.static worst ≤ 0\.00×/);
  });

  it('with --quick, cuts each scenario after its last incident and says what it could not judge', async () => {
    const { dir, file } = tinyScenarioFile({ benefit: { worst: -10 } });
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), duration: '2h' }));
    const io = collectingIo();
    expect(await runBench(['--scenario', file, '--quick', '--json', '--out', join(dir, 'out')], io)).toBe(0);
    const doc = JSON.parse(io.stdout[0]!);
    expect(doc.quick).toBe(true);
    // The outage ends at 16 minutes: the quick run lasts 46.
    expect(doc.scenarios[0]).toMatchObject({ durationSeconds: 46 * 60, fileDurationSeconds: 7200 });
    expect(io.stderr[0]).toContain('quick (shortened)');
  });
});

describe('npm run -s bench -- --json, as a process', () => {
  it('writes one parseable JSON document on stdout and its progress on stderr', async () => {
    const { dir, file } = tinyScenarioFile();
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '-s', 'bench', '--', '--json', '--scenario', file, '--out', join(dir, 'out')], {
      cwd: process.cwd(),
    });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout).scenarios[0].name).toBe('tiny');
    expect(stderr).toContain('steer53 bench: 1 scenario');
  });
});
