/**
 * `npm run bench:held-out -- --compare before.json`: steer53 on the same held-out worlds as a
 * document an earlier run wrote (`--json`), judged against that document's baselines, and what
 * changed. The baselines (the fixed split, both Route 53 health checks, the oracle) do not depend
 * on steer53, so only steer53 runs again: about a third of the time a full run takes, for the
 * before-and-after of an engine change. A simulator change moves the baselines too; the run
 * refuses a document whose worlds are drawn differently, whose fixed split the simulator no
 * longer reproduces (`checkStaticReproduced`), or measured against other Route 53 baselines.
 */
import { z } from 'zod';
import { compareProblem, readCompared } from './compareFile.js';
import { HELD_OUT_KINDS, type HeldOutKind, type HeldOutWorld } from './heldOut.js';
import type { HeldOutRow } from './heldOutBench.js';

const COMMAND = 'npm run bench:held-out';

/**
 * The Route 53 baselines a document's rows were judged against, written in it: a document measured
 * with other baselines holds another best Route 53 baseline in its errors worlds, which the fixed
 * split (`checkStaticReproduced`) does not show.
 */
export const HELD_OUT_BASELINES = 'HTTP health checks; HTTP + latency alarm + error alarms';

const misses = z.number().min(0);

/** A held-out document as `--json` writes it. A ratio of Infinity is written as null (JSON has no Infinity). */
const documentSchema = z.object({
  family: z.number().int().min(0),
  // Written since the alarm health check holds the error alarms; a document without it is older.
  baselines: z.string().optional(),
  kinds: z.array(z.enum(HELD_OUT_KINDS)).min(1),
  lossRatio: z.number().positive(),
  rows: z.array(
    z.object({
      index: z.number().int().min(0),
      kind: z.enum(HELD_OUT_KINDS),
      summary: z.string(),
      benefit: z.number().nullable(),
      misses: z.object({ steer53: misses, static: misses, bestRoute53: misses, oracle: misses }),
      bestRoute53: z.enum(['route53-health-check', 'route53-alarm-health-check']),
      ratio: z.number().nullable(),
      flaps: z.number().int().min(0),
      // Documents written before the causes were kept have none: a row's causes are only printed, never compared.
      flapCauses: z.record(z.string(), z.number().int().min(0)).default({}),
      dnsChanges: z.number().int().min(0),
      safetyViolations: z.number().int().min(0),
      failStatics: z.number().int().min(0).optional(),
    }),
  ),
});

/** What the run asks for, which the document must have measured. */
export interface ComparedRun {
  readonly family: number;
  readonly kinds: readonly HeldOutKind[];
  readonly worlds: number;
}

/**
 * The rows of the document at `path`, one per world the run asks for (by index). Throws
 * ValidationError naming `--compare` and what is wrong: the file unreadable or not JSON, a field
 * not as `--json` writes it, another family or other kinds, a world missing.
 */
export function readComparison(path: string, run: ComparedRun): HeldOutRow[] {
  const problem = (message: string) => compareProblem(COMMAND, path, message);
  const document = readCompared(COMMAND, path, documentSchema, `give a document \`${COMMAND} -- --json\` wrote`);
  if (document.family !== run.family) throw problem(`measured family ${document.family}; this run asks for family ${run.family} (--family)`);
  if (document.baselines !== HELD_OUT_BASELINES)
    throw problem(
      `its Route 53 baselines are ${document.baselines === undefined ? 'older (the alarm health check without the error alarms)' : `"${document.baselines}"`}, this simulator's "${HELD_OUT_BASELINES}": its best Route 53 baseline is not this one's; run without --compare`,
    );
  if (document.kinds.join(',') !== run.kinds.join(','))
    throw problem(`was run with --kinds ${document.kinds.join(',')}; this run asks for ${run.kinds.join(',')}`);
  const byIndex = new Map(document.rows.map((row) => [row.index, row]));
  const rows: HeldOutRow[] = [];
  for (let index = 0; index < run.worlds; index++) {
    const row = byIndex.get(index);
    if (row === undefined) throw problem(`holds no world ${index}; this run asks for worlds 0-${run.worlds - 1} (--worlds ${run.worlds})`);
    const { failStatics, ...rest } = row;
    rows.push({ ...rest, ratio: row.ratio ?? Number.POSITIVE_INFINITY, ...(failStatics !== undefined ? { failStatics } : {}) });
  }
  return rows;
}

/** Throws ValidationError when a world the run draws is not the one the document measured: the draws changed since it was written. */
export function checkSameWorlds(path: string, worlds: readonly HeldOutWorld[], rows: readonly HeldOutRow[]): void {
  worlds.forEach((world, i) => {
    const row = rows[i]!;
    if (world.kind === row.kind && world.summary === row.summary) return;
    throw compareProblem(
      COMMAND,
      path,
      `its world ${row.index} is "${row.summary}", the world drawn now is "${world.summary}": the worlds are drawn differently since it was written; run without --compare`,
    );
  });
}

/**
 * Throws ValidationError when the simulator no longer gives a world's fixed split the misses the
 * document holds for it (per 10,000 requests; a relative difference over 1e-9): the document was
 * measured on another simulator, and its baselines would not be this one's.
 */
export function checkStaticReproduced(path: string, row: HeldOutRow, staticNow: number): void {
  const before = row.misses.static;
  if (Math.abs(staticNow - before) <= 1e-9 * Math.max(1, Math.abs(before))) return;
  throw compareProblem(
    COMMAND,
    path,
    `world ${row.index}'s fixed split misses ${staticNow.toFixed(3)} per 10,000 requests now, ${before.toFixed(3)} there: it was measured on another simulator, so its baselines are not this one's; run without --compare`,
  );
}

/** A world whose ratio moved by more than this, or whose flaps changed, is listed. */
export const MOVED_RATIO = 0.01;

/** A ratio as the held-out tables print it: `1.28×`, or `∞`. */
export const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '∞');
const mean = (xs: readonly number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Number.isFinite(m) ? m.toFixed(3) : '∞';
};

/** The rows' fail-static episodes, summed; '–' where a row read from a document written before they were counted has none. */
export function failStaticsOf(rows: readonly HeldOutRow[]): string {
  return rows.every((r) => r.failStatics !== undefined) ? `${rows.reduce((sum, r) => sum + r.failStatics!, 0)}` : '–';
}

/** Before and after over the worlds: the ratio's mean and worst, worlds lost, flaps, DNS changes, safety violations, fail-static episodes; then the worlds that moved. */
export function comparisonLines(path: string, before: readonly HeldOutRow[], after: readonly HeldOutRow[], lossRatio: number): string[] {
  const summary = (rows: readonly HeldOutRow[]) => {
    const ratios = rows.map((r) => r.ratio);
    const sum = (key: 'flaps' | 'dnsChanges' | 'safetyViolations') => rows.reduce((a, r) => a + r[key], 0);
    return {
      ratio: `${mean(ratios)} / ${times(Math.max(...ratios))}`,
      lost: `${rows.filter((r) => r.ratio > lossRatio).length}`,
      flaps: `${sum('flaps')}`,
      dns: `${sum('dnsChanges')}`,
      safety: `${sum('safetyViolations')}`,
      failStatics: failStaticsOf(rows),
    };
  };
  const b = summary(before);
  const a = summary(after);
  const arrow = (x: string, y: string) => (x === y ? x : `${x} → ${y}`);
  const moved = after.flatMap((row, i) => {
    const was = before[i]!;
    return Math.abs(row.ratio - was.ratio) > MOVED_RATIO || row.flaps !== was.flaps ? [{ row, was }] : [];
  });
  return [
    `steer53 now against ${path} (${before.length} worlds, its baselines):`,
    '',
    '| misses ÷ best Route 53 baseline, mean / worst | worlds lost | flaps | DNS changes | safety violations | fail-static episodes |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${arrow(b.ratio, a.ratio)} | ${arrow(b.lost, a.lost)} | ${arrow(b.flaps, a.flaps)} | ${arrow(b.dns, a.dns)} | ${arrow(b.safety, a.safety)} | ${arrow(b.failStatics, a.failStatics)} |`,
    '',
    ...(moved.length === 0
      ? [`No world moved by more than ${MOVED_RATIO} of the ratio or by a flap.`]
      : [
          `Worlds that moved (the ratio by more than ${MOVED_RATIO}, or a flap):`,
          '',
          '| world | kind | ÷ best | flaps | DNS changes | what happens |',
          '|---:|---|---:|---:|---:|---|',
          ...moved.map(
            ({ row, was }) =>
              `| ${row.index} | ${row.kind} | ${arrow(times(was.ratio), times(row.ratio))} | ${arrow(`${was.flaps}`, `${row.flaps}`)} | ${arrow(`${was.dnsChanges}`, `${row.dnsChanges}`)} | ${row.summary} |`,
          ),
        ]),
  ];
}
