import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { boundTable, flapsMeanWorst, meanWorst, parseLags, runBound } from '../../sim/bound.js';
import { laggedOracleController, oracleController } from '../../sim/controllers/oracle.js';
import { resolveScenario } from '../../sim/scenario.js';
import { runWorld } from '../../sim/world.js';
import { collectingIo, SOURCE, smallScenario } from './fixtures.js';

/** Two regions; b is down from minute 5 to minute 17. */
const outage = () => smallScenario({ name: 'tiny', duration: '25m', incidents: [{ kind: 'outage', region: 'b', start: '5m', duration: '12m' }] });

describe('Function: laggedOracleController', () => {
  it('acts on a region going down no sooner than its lag after it does, where the oracle acts at once', async () => {
    const scenario = await resolveScenario(outage(), SOURCE);
    const first = async (factory: Parameters<typeof runWorld>[1]) => (await runWorld(scenario, factory)).writes.find((w) => w.kind === 'api')!;
    const now = await first(oracleController);
    const late = await first(laggedOracleController(180));
    expect(now.t).toBeGreaterThanOrEqual(300);
    expect(now.t).toBeLessThan(300 + 60);
    // The first move off b: the same move, three minutes later.
    expect(late.t).toBeGreaterThanOrEqual(300 + 180);
    expect(late.t).toBeLessThan(300 + 180 + 60);
    expect(late.after[1]).toBeLessThan(late.before[1]!);
  });

  it('is the oracle itself at a lag of 0', async () => {
    const scenario = await resolveScenario(outage(), SOURCE);
    const writes = async (factory: Parameters<typeof runWorld>[1]) => (await runWorld(scenario, factory)).writes.map((w) => [w.t, w.after.join(' ')]);
    expect(await writes(laggedOracleController(0))).toEqual(await writes(oracleController));
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a lag of %s seconds', (lag) => {
    expect(() => laggedOracleController(lag)).toThrow(/oracle lag must be a number of seconds, 0 or more/);
  });
});

describe('Function: parseLags', () => {
  it.each([
    ['120,180,240', [120, 180, 240]],
    ['0', [0]],
    [' 60 , 90', [60, 90]],
  ])('reads %j', (text, lags) => {
    expect(parseLags(text)).toEqual(lags);
  });

  it.each([
    ['two minutes', 'is not a list of lags'],
    ['120,', 'is not a list of lags'],
    ['-60', 'is not a list of lags'],
    ['1.5', 'is not a list of lags'],
    ['3601', 'more than an hour'],
    ['60,60', 'given twice'],
    ['1,2,3,4,5,6,7,8,9', 'at most 8 lags'],
  ])('refuses %j, naming --lags', (text, message) => {
    expect(() => parseLags(text)).toThrow(ValidationError);
    expect(() => parseLags(text)).toThrow(new RegExp(`--lags: .*${message}`));
  });
});

describe('Function: meanWorst and boundTable', () => {
  it('prints mean and worst in percent, leaving out seeds where the oracle gains nothing', () => {
    expect(meanWorst([0.9, 0.8, null])).toBe('85% / 80%');
    expect(meanWorst([null, null])).toBe('–');
    expect(flapsMeanWorst([0, 2, 1])).toBe('1.0 / 2');
    const table = boundTable([
      { scenario: 's', seeds: [1, 2], steer53: { benefit: [0.86, 0.82], flaps: [1, 2] }, lagged: [{ lagSeconds: 180, benefit: [0.9, 0.88], flaps: [0, 0] }] },
    ]);
    expect(table.split('\n')).toEqual([
      '| benefit (mean / worst) | steer53 | oracle 180 s late |',
      '|---|---:|---:|',
      '| s | 84% / 82% | 89% / 88% |',
      '',
      '| flaps (mean / worst) | steer53 | oracle 180 s late |',
      '|---|---:|---:|',
      '| s | 1.5 / 2 | 0.0 / 0 |',
    ]);
  });
});

describe('npm run bench:bound', () => {
  it('exits 2 on bad options, naming the option, and runs nothing', async () => {
    for (const [args, option] of [
      [['--lags', 'soon'], '--lags'],
      [['--seeds', '3-1'], '--seeds'],
      [['--duration', '5m'], '--duration'],
    ] as const) {
      const io = collectingIo();
      expect(await runBound(args, io)).toBe(2);
      expect(io.stdout).toEqual([]);
      expect(io.stderr.join('\n')).toContain(`npm run bench:bound is not valid:\n  ${option}: `);
      expect(io.stderr.join('\n')).toContain('usage: npm run bench:bound');
    }
  });

  it('exits 2 on an option it does not know, naming it', async () => {
    const io = collectingIo();
    expect(await runBound(['--lag', '60'], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('\n')).toMatch(/Unknown option '--lag'/);
    expect(io.stderr.join('\n')).toContain('usage: npm run bench:bound');
  });

  it('prints steer53 and each lagged oracle side by side: the oracle at a lag of 0 takes all of its own benefit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-bound-'));
    const file = join(dir, 'tiny.json');
    writeFileSync(file, JSON.stringify(outage()));
    const io = collectingIo();
    expect(await runBound(['--scenario', file, '--seeds', '1,2', '--lags', '0,240'], io)).toBe(0);
    const [header, rule, row, blank, flapsHeader, , flapsRow, ...more] = io.stdout.join('\n').split('\n');
    expect(more).toEqual([]);
    expect(blank).toBe('');
    expect(flapsHeader).toBe('| flaps (mean / worst) | steer53 | oracle 0 s late | oracle 240 s late |');
    expect(flapsRow).toMatch(/^\| .*tiny\.json \| \d\.\d \/ \d \| \d\.\d \/ \d \| \d\.\d \/ \d \|$/);
    expect(header).toBe('| benefit (mean / worst) | steer53 | oracle 0 s late | oracle 240 s late |');
    expect(rule).toBe('|---|---:|---:|---:|');
    const cells = row!.split('|').map((c) => c.trim());
    expect(cells[1]).toBe(file);
    expect(cells[3]).toBe('100% / 100%');
    // Four minutes late on a 12-minute outage the oracle misses what it would have saved in them.
    const [lateMean] = cells[4]!.split(' / ').map((x) => Number.parseInt(x, 10));
    expect(lateMean).toBeLessThan(100);
  });

  it('prints one JSON document with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-bound-'));
    const file = join(dir, 'tiny.json');
    writeFileSync(file, JSON.stringify(outage()));
    const io = collectingIo();
    expect(await runBound(['--scenario', file, '--seeds', '1', '--lags', '60', '--json'], io)).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const doc = JSON.parse(io.stdout[0]!);
    expect(doc).toMatchObject({ seeds: [1], lags: [60], rows: [{ scenario: file, seeds: [1], lagged: [{ lagSeconds: 60 }] }] });
    expect(doc.rows[0].steer53.benefit).toHaveLength(1);
    expect(doc.rows[0].steer53.flaps).toHaveLength(1);
    expect(doc.rows[0].lagged[0].benefit).toHaveLength(1);
    expect(doc.rows[0].lagged[0].flaps).toHaveLength(1);
  });
});
