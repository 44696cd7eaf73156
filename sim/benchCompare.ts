/**
 * `npm run bench -- --compare before.json`: what changed for steer53 since the run that wrote
 * `before.json` (its `--json` document, or the `bench.json` every run leaves next to its report),
 * scenario by scenario: the before-and-after table a change is judged on. Every controller runs
 * again (the ratios and expectations need them), so the document only has to be one of the same
 * seeds, quick or not; a scenario it does not hold is named, not compared.
 */
import { z } from 'zod';
import { compareProblem, readCompared } from './compareFile.js';
import { type BenchDocument, count } from './summary.js';

const COMMAND = 'npm run bench';

const overSeeds = z.object({
  sloMissFraction: z.number(),
  benefit: z.number().nullable(),
  dnsChanges: z.number(),
  flaps: z.number(),
});

const ratio = z.object({ mean: z.number().nullable(), worst: z.number().nullable() });

/** What of a bench document the comparison reads (steer53's figures); the rest may be anything. */
const documentSchema = z.object({
  seeds: z.array(z.number().int()).nullable(),
  quick: z.boolean(),
  scenarios: z.array(
    z.object({
      name: z.string(),
      seeds: z.array(z.number().int()).min(1).readonly(),
      controllers: z.object({ steer53: z.object({ mean: overSeeds, worst: overSeeds }) }),
      steer53MissRatio: z.object({ 'route53-health-check': ratio.optional(), 'route53-alarm-health-check': ratio.optional() }),
    }),
  ),
});

export type ComparedBench = z.infer<typeof documentSchema>;
type ComparedScenario = ComparedBench['scenarios'][number];

/**
 * The document at `path`, checked against the run before it starts: throws ValidationError naming
 * `--compare` and what is wrong (unreadable, not JSON, a field not as the benchmark writes it,
 * other seeds, quick where this run is not or the other way round).
 */
export function readBenchComparison(path: string, run: { readonly seeds: readonly number[] | null; readonly quick: boolean }): ComparedBench {
  const problem = (message: string) => compareProblem(COMMAND, path, message);
  const document = readCompared(COMMAND, path, documentSchema, 'give the bench.json a run wrote, or its --json output');
  const seedsText = (seeds: readonly number[] | null) => (seeds === null ? "each scenario's own seed" : `seeds ${seeds.join(',')}`);
  if (seedsText(document.seeds) !== seedsText(run.seeds))
    throw problem(`was run on ${seedsText(document.seeds)}; this run is on ${seedsText(run.seeds)} (--seeds)`);
  if (document.quick !== run.quick) throw problem(`was ${document.quick ? '' : 'not '}a quick run; this run is ${run.quick ? '' : 'not '}(--quick)`);
  return document;
}

const percent = (x: number) => `${(x * 100).toFixed(3)}%`;
const share = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const times = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(3));

type Pair = readonly [string, string];

/** One cell: `mean / worst`, as `before → after` when it changed. */
function cell(before: Pair, after: Pair): string {
  const b = `${before[0]} / ${before[1]}`;
  const a = `${after[0]} / ${after[1]}`;
  return b === a ? b : `${b} → ${a}`;
}

/** steer53's figures of one scenario, each as mean and worst, in the table's order. */
function pairs(s: ComparedScenario): Pair[] {
  const { mean, worst } = s.controllers.steer53;
  const r = s.steer53MissRatio;
  return [
    [percent(mean.sloMissFraction), percent(worst.sloMissFraction)],
    [share(mean.benefit), share(worst.benefit)],
    [times(r['route53-health-check']?.mean), times(r['route53-health-check']?.worst)],
    [times(r['route53-alarm-health-check']?.mean), times(r['route53-alarm-health-check']?.worst)],
    [count(mean.flaps), count(worst.flaps)],
    [count(mean.dnsChanges), count(worst.dnsChanges)],
  ];
}

/** Flaps and DNS changes summed over the scenarios and their seeds. */
function totals(scenarios: readonly ComparedScenario[]): { flaps: number; dnsChanges: number } {
  const sum = (key: 'flaps' | 'dnsChanges') => scenarios.reduce((a, s) => a + Math.round(s.controllers.steer53.mean[key] * s.seeds.length), 0);
  return { flaps: sum('flaps'), dnsChanges: sum('dnsChanges') };
}

/**
 * steer53 before and after, over the scenarios both runs hold: the scenarios that changed (missed
 * share, benefit, ÷ each Route 53 baseline, flaps and DNS changes, mean / worst), how many did not,
 * the totals of flaps and DNS changes, and the scenarios only one run holds.
 */
export function benchComparisonLines(path: string, before: ComparedBench, after: BenchDocument): string[] {
  const was = new Map(before.scenarios.map((s) => [s.name, s]));
  const both = after.scenarios.filter((s) => was.has(s.name));
  const changed = both.flatMap((s) => {
    const b = pairs(was.get(s.name)!);
    const a = pairs(s);
    return b.join() === a.join() ? [] : [`| ${s.name} | ${b.map((x, i) => cell(x, a[i]!)).join(' | ')} |`];
  });
  const t0 = totals(both.map((s) => was.get(s.name)!));
  const t1 = totals(both);
  const arrow = (x: number, y: number) => (x === y ? `${x}` : `${x} → ${y}`);
  const onlyNow = after.scenarios.filter((s) => !was.has(s.name)).map((s) => s.name);
  const now = new Set(after.scenarios.map((s) => s.name));
  const onlyThen = before.scenarios.filter((s) => !now.has(s.name)).map((s) => s.name);
  return [
    `steer53 now against ${path} (mean / worst over the seeds):`,
    '',
    ...(changed.length === 0
      ? [`No scenario changed (${both.length} compared).`]
      : [
          '| scenario | missed | benefit | ÷ route53-health-check | ÷ route53-alarm-health-check | flaps | DNS changes |',
          '|---|---:|---:|---:|---:|---:|---:|',
          ...changed,
          '',
          `${both.length - changed.length} of ${both.length} scenarios unchanged.`,
        ]),
    `Flaps over every scenario and seed: ${arrow(t0.flaps, t1.flaps)}; DNS changes: ${arrow(t0.dnsChanges, t1.dnsChanges)}.`,
    ...(onlyNow.length > 0 ? [`Not in ${path}, so not compared: ${onlyNow.join(', ')}.`] : []),
    ...(onlyThen.length > 0 ? [`In ${path} only, not run now: ${onlyThen.join(', ')}.`] : []),
  ];
}
