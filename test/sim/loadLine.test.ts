import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROLLERS } from '../../sim/run.js';
import { type Episode, judgeMinutes, SETTLE_MINUTES, type LoadLineRow, loadLineTable, runLoadLine, seedLines, tradeoff } from '../../sim/loadLine.js';
import { resolveScenario } from '../../sim/scenario.js';
import { runWorld } from '../../sim/world.js';
import { collectingIo, SOURCE, smallScenario } from './fixtures.js';

/** Two regions at 40% utilisation; b three times slower from minute 50 to minute 72, ramping over 2 minutes. */
const slowB = () =>
  smallScenario({
    name: 'slow-b',
    duration: '90m',
    incidents: [{ kind: 'gray-failure', region: 'b', start: '50m', ramp: '2m', duration: '20m', latencyFactor: 3 }],
  });

/** The same two regions, b 1.6 times slower from minute 50 for an hour: slow enough to sit far above its line, not to turn severe. */
const mildB = () =>
  smallScenario({
    name: 'mild-b',
    duration: '120m',
    incidents: [{ kind: 'gray-failure', region: 'b', start: '50m', ramp: '2m', duration: '60m', latencyFactor: 1.6 }],
  });

const episode = (before: [number, number][], severeAfter: number | null): Episode => ({
  region: 'b',
  startMinute: 50,
  before: before.map(([after, ratio]) => ({ after, ratio })),
  severeAfter,
});

/** One world, one seed: four quiet minutes (one past trip) and two episodes, one turning severe. */
const rows: LoadLineRow[] = [
  {
    scenario: 'w',
    seeds: [
      {
        seed: 1,
        quietRatios: [3.1, 2.2, 1.6, 1],
        quietPastTrip: [3.1],
        episodes: [
          episode(
            [
              [0, 1.1],
              [1, 2.4],
            ],
            3,
          ),
          episode([[0, 1.8]], null),
          episode([], 1),
        ],
      },
    ],
  },
];

describe('Function: judgeMinutes and seedLines', () => {
  it('judges quiet minutes near their line, and an incident and the minutes it leaves behind never quiet', async () => {
    const scenario = await resolveScenario(slowB(), SOURCE);
    const run = await runWorld(scenario, CONTROLLERS.static);
    const minutes = judgeMinutes(scenario, run);
    const quiet = minutes.filter((j) => j.quiet && j.ratio !== null).map((j) => j.ratio!);
    expect(quiet.length).toBeGreaterThan(60);
    const median = quiet.sort((a, b) => a - b)[Math.floor(quiet.length / 2)]!;
    expect(median).toBeGreaterThan(0.8);
    expect(median).toBeLessThan(1.25);
    // The incident runs to minute 74; its queue drains over the minutes after.
    expect(minutes.filter((j) => j.region === 1 && j.minute >= 50 && j.minute < 74 + SETTLE_MINUTES).every((j) => !j.quiet)).toBe(true);
    expect(minutes.filter((j) => j.region === 0).every((j) => j.quiet)).toBe(true);
    const full = minutes.filter((j) => j.region === 1 && j.minute >= 53 && j.minute < 70);
    expect(full.length).toBeGreaterThan(0);
    expect(full.every((j) => j.severe)).toBe(true);
    // No line is trusted before it has its points: nothing is judged in the first minutes.
    expect(minutes.filter((j) => j.minute < 10 && j.ratio !== null)).toEqual([]);
    const lines = seedLines(7, scenario, run);
    expect(lines.episodes).toHaveLength(1);
    expect(lines.episodes[0]).toMatchObject({ region: 'b', startMinute: 50 });
    expect(lines.episodes[0]!.severeAfter).toBeGreaterThanOrEqual(1);
    expect(lines.episodes[0]!.before.every((x) => x.after < lines.episodes[0]!.severeAfter!)).toBe(true);
    expect(lines.quietRatios).toEqual([...lines.quietRatios].sort((a, b) => b - a));
  });

  it('learns the line from quiet minutes only: an hour of a slow region does not pull its line up to it', async () => {
    const scenario = await resolveScenario(mildB(), SOURCE);
    const minutes = judgeMinutes(scenario, await runWorld(scenario, CONTROLLERS.static));
    const ratios = (from: number, to: number) =>
      minutes.filter((j) => j.region === 1 && j.minute >= from && j.minute < to && j.ratio !== null).map((j) => j.ratio!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const early = ratios(53, 68);
    const late = ratios(95, 110);
    expect(early.length).toBeGreaterThan(5);
    expect(late.length).toBeGreaterThan(5);
    // As far above the line at the end of the hour as at its start (learning from it would halve that).
    expect(mean(early)).toBeGreaterThan(2);
    expect(mean(late)).toBeGreaterThan(2);
  });
});

describe('Function: tradeoff and loadLineTable', () => {
  it('counts the episodes a threshold fires in before their severe minute, the minutes it gains, and the quiet minutes it fires on', () => {
    expect(tradeoff(rows, 2)).toEqual({
      threshold: 2,
      severeEpisodes: 1,
      firesFirst: 1,
      minutesGained: 2,
      mildEpisodes: 1,
      firesOnMild: 0,
      quiet: 4,
      quietFires: 2,
      quietFiresPastTrip: 1,
    });
    expect(tradeoff(rows, 1.5)).toMatchObject({ firesFirst: 1, minutesGained: 2, firesOnMild: 1, quietFires: 3 });
    expect(tradeoff(rows, 3)).toMatchObject({ firesFirst: 0, minutesGained: 0, firesOnMild: 0, quietFires: 1, quietFiresPastTrip: 1 });
  });

  it('prints each world, then what a detector at each threshold would do', () => {
    expect(loadLineTable(rows).split('\n')).toEqual([
      '| world | quiet minutes judged | ≥ 1.5× line (past trip too) | ≥ 2× line (past trip too) | ≥ 2.5× line (past trip too) | ≥ 3× line (past trip too) | episodes: highest ratio before the first severe minute (minutes from the start to it) |',
      '|---|---:|---:|---:|---:|---:|---|',
      '| w | 4 | 3 (1) | 2 (1) | 1 (1) | 1 (1) | 2.40 (3), 1.80 (never), unjudged (1) |',
      '',
      '| threshold | fires before the first severe minute | minutes earlier, in all | fires on a mild incident | quiet minutes it fires on, per region-day (past trip too) |',
      '|---:|---:|---:|---:|---:|',
      '| 1.5× | 1 of 1 | 2 | 1 of 1 | 3 of 4: 1080.0 (1) |',
      '| 2× | 1 of 1 | 2 | 0 of 1 | 2 of 4: 720.0 (1) |',
      '| 2.5× | 0 of 1 | 0 | 0 of 1 | 1 of 4: 360.0 (1) |',
      '| 3× | 0 of 1 | 0 | 0 of 1 | 1 of 4: 360.0 (1) |',
    ]);
  });
});

describe('npm run bench:load-line', () => {
  it('exits 2 on a bad or unknown option, naming it, and runs nothing', async () => {
    for (const [args, said] of [
      [['--seeds', '3-1'], 'npm run bench:load-line is not valid:\n  --seeds: '],
      [['--seed', '1'], "Unknown option '--seed'"],
    ] as const) {
      const io = collectingIo();
      expect(await runLoadLine(args, io)).toBe(2);
      expect(io.stdout).toEqual([]);
      expect(io.stderr.join('\n')).toContain(said);
      expect(io.stderr.join('\n')).toContain('usage: npm run bench:load-line');
    }
  });

  it('prints one JSON document with --json: the rows and the trade-off at each threshold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-load-line-'));
    const file = join(dir, 'slow-b.json');
    writeFileSync(file, JSON.stringify(slowB()));
    const io = collectingIo();
    expect(await runLoadLine(['--scenario', file, '--seeds', '1', '--json'], io)).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const doc = JSON.parse(io.stdout[0]!);
    expect(doc).toMatchObject({ seeds: [1], rows: [{ scenario: file, seeds: [{ seed: 1 }] }] });
    expect(doc.rows[0].seeds[0].episodes).toHaveLength(1);
    expect(doc.tradeoffs.map((t: { threshold: number }) => t.threshold)).toEqual([1.5, 2, 2.5, 3]);
    expect(doc.tradeoffs[0].severeEpisodes + doc.tradeoffs[0].mildEpisodes).toBeLessThanOrEqual(1);
  });
});
