import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { heldOutWorld } from '../../sim/heldOut.js';
import { type HeldOutRow, LOSS_RATIO, runHeldOut } from '../../sim/heldOutBench.js';
import { HELD_OUT_BASELINES, checkSameWorlds, checkStaticReproduced, comparisonLines, readComparison } from '../../sim/heldOutCompare.js';
import { collectingIo } from './fixtures.js';

function written(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'steer53-held-out-')), 'before.json');
  writeFileSync(file, content);
  return file;
}

function row(index: number, ratio: number | null, flaps = 0): HeldOutRow {
  return {
    index,
    kind: 'outage',
    summary: `world ${index}`,
    benefit: 0.9,
    misses: { steer53: 100 * (ratio ?? 1), static: 300, bestRoute53: 100, oracle: 50 },
    bestRoute53: 'route53-health-check',
    ratio: ratio as number,
    flaps,
    flapCauses: flaps > 0 ? { RECOVERY_FAILED: flaps } : {},
    dnsChanges: 4,
    safetyViolations: 0,
  };
}

const run = { family: 2, kinds: ['outage', 'gray'] as const, worlds: 2 };
// baselines null: a document written before documents said which (no field).
const documentOf = (rows: readonly HeldOutRow[], family = 2, kinds: readonly string[] = ['outage', 'gray'], baselines: string | null = HELD_OUT_BASELINES) =>
  JSON.stringify({ family, ...(baselines === null ? {} : { baselines }), kinds, lossRatio: LOSS_RATIO, rows });

describe('Function: readComparison', () => {
  it('reads the rows of the worlds the run asks for, a ratio JSON wrote as null read as Infinity', () => {
    const rows = readComparison(written(documentOf([row(1, 0.5), row(0, null), row(2, 1)])), run);
    expect(rows.map((r) => [r.index, r.ratio])).toEqual([
      [0, Number.POSITIVE_INFINITY],
      [1, 0.5],
    ]);
  });

  it('reads a document written before rows kept their flaps by cause: none for each row', () => {
    const { flapCauses: _dropped, ...older } = row(0, 1, 2);
    const rows = readComparison(written(documentOf([older as HeldOutRow, row(1, 1, 1)])), run);
    expect(rows.map((r) => r.flapCauses)).toEqual([{}, { RECOVERY_FAILED: 1 }]);
  });

  it.each([
    ['another family', documentOf([row(0, 1), row(1, 1)], 3), 'measured family 3; this run asks for family 2 (--family)'],
    ['other kinds', documentOf([row(0, 1), row(1, 1)], 2, ['outage']), 'was run with --kinds outage; this run asks for outage,gray'],
    ['too few worlds', documentOf([row(0, 1)]), 'holds no world 1; this run asks for worlds 0-1 (--worlds 2)'],
    [
      'a document measured before the alarm health check held the error alarms',
      documentOf([row(0, 1), row(1, 1)], 2, ['outage', 'gray'], null),
      'its Route 53 baselines are older (the alarm health check without the error alarms)',
    ],
    [
      'a document measured against other baselines',
      documentOf([row(0, 1), row(1, 1)], 2, ['outage', 'gray'], 'HTTP only'),
      'its Route 53 baselines are "HTTP only"',
    ],
    ['text that is not JSON', '| kind | worlds |', 'is not JSON'],
    ['a row not as --json writes it', documentOf([{ ...row(0, 1), kind: 'storm' } as unknown as HeldOutRow]), 'rows[0].kind'],
  ])('refuses %s, naming --compare and the file', (_what, content, message) => {
    const file = written(content);
    expect(() => readComparison(file, run)).toThrow(ValidationError);
    expect(() => readComparison(file, run)).toThrow(message);
  });
});

describe('Functions: checkSameWorlds and checkStaticReproduced', () => {
  it('refuses a document whose world is not the one drawn now', () => {
    const world = heldOutWorld(2, 0);
    expect(() => checkSameWorlds('b.json', [world], [{ ...row(0, 1), kind: world.kind, summary: world.summary }])).not.toThrow();
    expect(() => checkSameWorlds('b.json', [world], [row(0, 1)])).toThrow(`its world 0 is "world 0", the world drawn now is "${world.summary}"`);
  });

  it("refuses a document whose fixed split this simulator does not reproduce (its baselines are another simulator's)", () => {
    expect(() => checkStaticReproduced('b.json', row(0, 1), 300 + 1e-8)).not.toThrow();
    expect(() => checkStaticReproduced('b.json', row(0, 1), 301)).toThrow(
      "b.json: world 0's fixed split misses 301.000 per 10,000 requests now, 300.000 there: it was measured on another simulator",
    );
  });
});

describe('Function: comparisonLines', () => {
  it('gives the summary before → after, and the worlds whose ratio moved by more than 0.01 or whose flaps changed', () => {
    const before = [row(0, 0.8), row(1, 1.1, 1), row(2, 0.5)];
    const after = [row(0, 0.805), row(1, 0.9, 2), row(2, Number.POSITIVE_INFINITY)];
    expect(comparisonLines('b.json', before, after, LOSS_RATIO)).toEqual([
      'steer53 now against b.json (3 worlds, its baselines):',
      '',
      '| misses ÷ best Route 53 baseline, mean / worst | worlds lost | flaps | DNS changes | safety violations | fail-static episodes |',
      '|---:|---:|---:|---:|---:|---:|',
      '| 0.800 / 1.10× → ∞ / ∞ | 1 | 1 → 2 | 12 | 0 | – |',
      '',
      'Worlds that moved (the ratio by more than 0.01, or a flap):',
      '',
      '| world | kind | ÷ best | flaps | DNS changes | what happens |',
      '|---:|---|---:|---:|---:|---|',
      '| 1 | outage | 1.10× → 0.90× | 1 → 2 | 4 | world 1 |',
      '| 2 | outage | 0.50× → ∞ | 0 | 4 | world 2 |',
    ]);
    expect(comparisonLines('b.json', before, before, LOSS_RATIO).at(-1)).toBe('No world moved by more than 0.01 of the ratio or by a flap.');
    // Fail-static episodes, where both documents counted them ('–' where one did not, as above).
    const counted = (rows: readonly HeldOutRow[], n: number) => rows.map((r) => ({ ...r, failStatics: n }));
    expect(comparisonLines('b.json', counted(before, 4), counted(before, 1), LOSS_RATIO)[4]).toBe('| 0.800 / 1.10× | 1 | 1 | 12 | 0 | 12 → 3 |');
  });
});

describe('Command: npm run bench:held-out -- --compare', () => {
  it('runs steer53 alone against the document an earlier --json run wrote, and says nothing moved when nothing did', async () => {
    const first = collectingIo();
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage', '--json'], first)).toBe(0);
    const file = written(first.stdout[0]!);
    const again = collectingIo();
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage', '--json', '--compare', file], again)).toBe(0);
    // The same world, the same steer53: the same row; the comparison on stderr.
    expect(JSON.parse(again.stdout[0]!).rows[0].misses).toEqual(JSON.parse(first.stdout[0]!).rows[0].misses);
    expect(again.stderr).toContain('No world moved by more than 0.01 of the ratio or by a flap.');

    // steer53's misses are measured again, never the document's (they were, until December 2026).
    const older = JSON.parse(first.stdout[0]!);
    older.rows[0].misses.steer53 += 50;
    const measured = collectingIo();
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage', '--json', '--compare', written(JSON.stringify(older))], measured)).toBe(0);
    const row = JSON.parse(measured.stdout[0]!).rows[0];
    expect(row.misses.steer53).toBe(JSON.parse(first.stdout[0]!).rows[0].misses.steer53);
    expect(row.ratio).toBeCloseTo(row.misses.steer53 / row.misses.bestRoute53, 12);

    const tampered = JSON.parse(first.stdout[0]!);
    tampered.rows[0].misses.static += 1;
    const refused = collectingIo();
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage', '--compare', written(JSON.stringify(tampered))], refused)).toBe(2);
    expect(refused.stderr.join('\n')).toContain('it was measured on another simulator');
    expect(refused.stdout).toEqual([]);
  }, 30_000);

  it('prints the usage line with -h, and runs nothing', async () => {
    const io = collectingIo();
    expect(await runHeldOut(['-h'], io)).toBe(0);
    expect(io.stdout).toEqual([expect.stringMatching(/^usage: npm run bench:held-out -- .*--compare before\.json/)]);
  });

  it('refuses --compare with --yaml (one world printed, nothing run)', async () => {
    const io = collectingIo();
    expect(await runHeldOut(['--world', '1', '--yaml', '--compare', 'b.json'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--compare: runs the benchmark; --yaml prints one world');
  });
});
