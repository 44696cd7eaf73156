/**
 * `npm run bench:held-out`: steer53 on worlds drawn at random (sim/heldOut.ts), against the
 * strongest Route 53 baseline of each world and the oracle.
 *
 *   npm run bench:held-out -- [--family 1] [--worlds 35] [--kinds outage,gray,...] [--json]
 *   npm run bench:held-out -- --family 1 --worlds 70 --compare before.json   (steer53 alone, against
 *                                                    a document an earlier --json run wrote: sim/heldOutCompare.ts)
 *   npm run bench:held-out -- --family 1 --world 18 --yaml > world.yaml   (one world, as a scenario file)
 *   npm run bench:held-out -- --family 1 --worlds 70 --compare before.json --policy detection.breachesToDegrade=4
 *                                                   (a policy setting changed for every world: what it trades)
 *
 * A reference, not an expectation: it says where steer53 wins and loses on worlds no rule was
 * tuned on, and names the worlds it loses so each can be run again as a scenario. Exit 0 when it
 * ran, 2 on a bad argument (the message names it).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ValidationError } from '../functions/core/errors.js';
import { meanWorst } from './bound.js';
import { type CliIo, isParseArgsError } from './cli.js';
import { HELD_OUT_KINDS, type HeldOutKind, type HeldOutWorld, heldOutWorld } from './heldOut.js';
import { benefitShare, type ControllerMetrics } from './metrics.js';
import { runControllers } from './run.js';
import { parsePolicySettings, type PolicySetting, settingsText } from './policySettings.js';
import { resolveScenario, SCENARIO_DIR } from './scenario.js';
import { causeList, failStaticEpisodes, sumCauses } from './summary.js';
import type { ScenarioInput } from './scenarioSchema.js';
import { HELD_OUT_BASELINES, checkSameWorlds, checkStaticReproduced, comparisonLines, failStaticsOf, readComparison, times } from './heldOutCompare.js';

export const HELD_OUT_USAGE =
  'npm run bench:held-out -- [--family 1] [--worlds 35] [--kinds calm,outage,gray,capacity-loss,errors,surge,relapse] [--json] [--compare before.json] [--policy path=value]... | --world N --yaml';

/** At most this many worlds in one run (about 3 s each). */
export const MAX_WORLDS = 500;

/** A world steer53 loses: it missed more than this many times what the strongest Route 53 baseline missed (a smaller difference is one burst landing one way or the other). */
export const LOSS_RATIO = 1.02;

/** What one world measured. Misses are per 10,000 requests (failed or over the SLO). */
export interface HeldOutRow {
  readonly index: number;
  readonly kind: HeldOutKind;
  readonly summary: string;
  /** steer53's share of the oracle's benefit; null where the oracle gains less than 0.5 points over the fixed split. */
  readonly benefit: number | null;
  readonly misses: { readonly steer53: number; readonly static: number; readonly bestRoute53: number; readonly oracle: number };
  /** The Route 53 baseline that missed fewer in this world. */
  readonly bestRoute53: 'route53-health-check' | 'route53-alarm-health-check';
  /** steer53's misses over the best Route 53 baseline's (1 where neither missed any). */
  readonly ratio: number;
  readonly flaps: number;
  /** steer53's flaps by the reason code of the write that reversed a move (`flapCauses`). */
  readonly flapCauses: Readonly<Record<string, number>>;
  readonly dnsChanges: number;
  readonly safetyViolations: number;
  /** steer53's fail-static episodes (`failStaticEpisodes`); absent from documents written before they were counted. */
  readonly failStatics?: number;
}

/** The controllers a held-out row reads: steer53, the fixed split and the oracle (the benefit), and both Route 53 baselines. */
const HELD_OUT_CONTROLLERS = ['steer53', 'static', 'route53-health-check', 'route53-alarm-health-check', 'oracle'] as const;

/** A world's baselines as a row holds them (misses per 10,000 requests): what steer53 is judged against. */
type Baselines = Pick<HeldOutRow, 'bestRoute53'> & { readonly misses: Omit<HeldOutRow['misses'], 'steer53'> };

const per10k = (x: number) => x * 10_000;

async function worldScenario(world: HeldOutWorld, policySettings: readonly PolicySetting[] = []) {
  return resolveScenario(world.raw, join(SCENARIO_DIR, `${world.raw.name}.yaml`), { policySettings });
}

/** Runs one world under every controller a row reads; `policySettings` change steer53's policy (`--policy`). */
export async function heldOutRow(world: HeldOutWorld, policySettings: readonly PolicySetting[] = []): Promise<HeldOutRow> {
  const { runs, metrics } = await runControllers(await worldScenario(world, policySettings), HELD_OUT_CONTROLLERS);
  const hc = metrics['route53-health-check'].sloMissFraction;
  const alarm = metrics['route53-alarm-health-check'].sloMissFraction;
  const baselines: Baselines = {
    bestRoute53: alarm < hc ? 'route53-alarm-health-check' : 'route53-health-check',
    misses: { static: per10k(metrics.static.sloMissFraction), bestRoute53: per10k(Math.min(hc, alarm)), oracle: per10k(metrics.oracle.sloMissFraction) },
  };
  return rowOf(world, metrics.steer53, baselines, failStaticEpisodes(runs.steer53.evaluations));
}

/** Runs steer53 alone on one world and judges it against `baselines`, a row an earlier run measured on the same world. */
async function steer53Row(world: HeldOutWorld, baselines: Baselines, policySettings: readonly PolicySetting[]): Promise<HeldOutRow> {
  const { runs, metrics } = await runControllers(await worldScenario(world, policySettings), ['steer53']);
  return rowOf(world, metrics.steer53, baselines, failStaticEpisodes(runs.steer53.evaluations));
}

/** The fixed split's misses on one world, per 10,000 requests. */
async function staticMisses(world: HeldOutWorld): Promise<number> {
  const { metrics } = await runControllers(await worldScenario(world), ['static']);
  return per10k(metrics.static.sloMissFraction);
}

function rowOf(world: HeldOutWorld, steer53: ControllerMetrics, baselines: Baselines, failStatics: number): HeldOutRow {
  const mine = per10k(steer53.sloMissFraction);
  const best = baselines.misses.bestRoute53;
  return {
    index: world.index,
    kind: world.kind,
    summary: world.summary,
    benefit: benefitShare(baselines.misses.static / 10_000, baselines.misses.oracle / 10_000, steer53.sloMissFraction),
    // steer53's own, after the baselines: a row read from a --compare document holds its old one.
    misses: { ...baselines.misses, steer53: mine },
    bestRoute53: baselines.bestRoute53,
    ratio: best > 0 ? mine / best : mine > 0 ? Number.POSITIVE_INFINITY : 1,
    flaps: steer53.flaps,
    flapCauses: steer53.flapCauses,
    dnsChanges: steer53.dnsChanges,
    safetyViolations: steer53.safetyViolations,
    failStatics,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A table's rows: one line for each of `kinds` (its worlds), then one for all worlds. */
function perKind(rows: readonly HeldOutRow[], kinds: readonly HeldOutKind[], line: (label: string, group: readonly HeldOutRow[]) => string): string[] {
  return [
    ...kinds.map((k) =>
      line(
        k,
        rows.filter((r) => r.kind === k),
      ),
    ),
    line('all', rows),
  ];
}

/** One line per kind, then all worlds: benefit and ratio (mean / worst), losses, flaps, DNS changes, safety violations, fail statics. */
export function kindTable(rows: readonly HeldOutRow[]): string {
  const kinds = HELD_OUT_KINDS.filter((k) => rows.some((r) => r.kind === k));
  const line = (label: string, group: readonly HeldOutRow[]) => {
    const shares = group.map((r) => r.benefit).filter((b): b is number => b !== null);
    const ratios = group.map((r) => r.ratio);
    const benefit = shares.length > 0 ? `${meanWorst(shares)} (${shares.length})` : '–';
    const lost = group.filter((r) => r.ratio > LOSS_RATIO).length;
    const sum = (key: 'flaps' | 'dnsChanges' | 'safetyViolations') => group.reduce((a, r) => a + r[key], 0);
    return `| ${label} | ${group.length} | ${benefit} | ${times(mean(ratios))} / ${times(Math.max(...ratios))} | ${lost} | ${sum('flaps')} | ${(sum('dnsChanges') / group.length).toFixed(1)} | ${sum('safetyViolations')} | ${failStaticsOf(group)} |`;
  };
  return [
    "| kind | worlds | share of the oracle's benefit, mean / worst (worlds where the oracle gains) | misses ÷ best Route 53 baseline, mean / worst | worlds lost | flaps | DNS changes a world | safety violations | fail-static episodes |",
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...perKind(rows, kinds, line),
  ].join('\n');
}

/** steer53's flaps per kind by the reason code of the write that reversed a move: where the flaps come from. */
export function flapCauseLines(rows: readonly HeldOutRow[]): string[] {
  const kinds = HELD_OUT_KINDS.filter((k) => rows.some((r) => r.kind === k && r.flaps > 0));
  if (kinds.length === 0) return [];
  const line = (label: string, group: readonly HeldOutRow[]) =>
    `| ${label} | ${group.reduce((a, r) => a + r.flaps, 0)} | ${causeList(sumCauses(group.map((r) => r.flapCauses)))} |`;
  return [
    "steer53's flaps by the reason code of the write that reversed a move:",
    '',
    '| kind | flaps | by cause |',
    '|---|---:|---|',
    ...perKind(rows, kinds, line),
    '',
  ];
}

/** The worlds steer53 lost, worst first, each with the command that writes it as a scenario file. */
export function lossLines(rows: readonly HeldOutRow[], family: number, limit = 10): string[] {
  const lost = rows.filter((r) => r.ratio > LOSS_RATIO).sort((a, b) => b.ratio - a.ratio);
  if (lost.length === 0) return [`steer53 missed no more than the best Route 53 baseline (within ${Math.round((LOSS_RATIO - 1) * 100)}%) in any world.`];
  return [
    `Worlds where steer53 missed more than the best Route 53 baseline, worst first (misses per 10,000 requests; \`npm run -s bench:held-out -- --family ${family} --world N --yaml > w.yaml\`, then \`npx steer53 simulate --scenario w.yaml\`):`,
    '',
    '| world | kind | ÷ best | steer53 | best Route 53 | fixed split | oracle | flaps | what happens |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|',
    ...lost
      .slice(0, limit)
      .map(
        (r) =>
          `| ${r.index} | ${r.kind} | ${times(r.ratio)} | ${r.misses.steer53.toFixed(0)} | ${r.misses.bestRoute53.toFixed(0)} | ${r.misses.static.toFixed(0)} | ${r.misses.oracle.toFixed(0)} | ${r.flaps} | ${r.summary} |`,
      ),
    ...(lost.length > limit ? ['', `… and ${lost.length - limit} more (\`--json\` lists every world).`] : []),
  ];
}

/** The world with its trace paths made absolute, so the file runs from wherever it is saved. */
function withAbsoluteTraces(raw: ScenarioInput): ScenarioInput {
  if (!raw.demand) return raw;
  const sources = raw.demand.sources.map((source) =>
    source.trace ? { ...source, trace: { ...source.trace, file: resolve(SCENARIO_DIR, source.trace.file) } } : source,
  );
  return { ...raw, demand: { ...raw.demand, sources } };
}

/** `outage,gray` → the kinds, in the order given. Throws ValidationError naming `--kinds`. */
export function parseKinds(text: string): HeldOutKind[] {
  const kinds: HeldOutKind[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (!(HELD_OUT_KINDS as readonly string[]).includes(part))
      throw new ValidationError('npm run bench:held-out', [{ path: '--kinds', message: `"${part}" is not a kind; kinds: ${HELD_OUT_KINDS.join(', ')}` }]);
    if (kinds.includes(part as HeldOutKind)) throw new ValidationError('npm run bench:held-out', [{ path: '--kinds', message: `"${part}" is given twice` }]);
    kinds.push(part as HeldOutKind);
  }
  return kinds;
}

/** A non-negative integer option, at most `max`; throws ValidationError naming it. */
function wholeNumber(text: string, option: string, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > max)
    throw new ValidationError('npm run bench:held-out', [{ path: option, message: `"${text}" is not a whole number from 0 to ${max}` }]);
  return Number(text);
}

interface HeldOutOptions {
  readonly family: number;
  readonly worlds: number;
  readonly kinds: readonly HeldOutKind[];
  readonly json: boolean;
  readonly world?: number;
  /** A document an earlier `--json` run wrote: steer53 alone runs, against its baselines. */
  readonly compare?: string;
  /** Print the usage line and run nothing. */
  readonly help: boolean;
  /** `--policy path=value`: settings changed in steer53's policy for every world. */
  readonly policySettings: readonly PolicySetting[];
}

function parseOptions(args: readonly string[]): HeldOutOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      family: { type: 'string', default: '1' },
      worlds: { type: 'string', default: '35' },
      kinds: { type: 'string' },
      json: { type: 'boolean', default: false },
      world: { type: 'string' },
      yaml: { type: 'boolean', default: false },
      compare: { type: 'string' },
      policy: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const problem = (path: string, message: string) => new ValidationError('npm run bench:held-out', [{ path, message }]);
  if (values.yaml !== (values.world !== undefined))
    throw problem(values.yaml ? '--yaml' : '--world', '--world N and --yaml go together: they print world N as a scenario file');
  if (values.yaml && values.json) throw problem('--json', 'prints the benchmark; --yaml prints one world: give one of them');
  if (values.yaml && values.compare !== undefined) throw problem('--compare', 'runs the benchmark; --yaml prints one world: give one of them');
  if (values.yaml && values.policy !== undefined)
    throw problem(
      '--policy',
      'changes the policy a run uses; --yaml prints the world as drawn (run it with `npx steer53 simulate --scenario world.yaml --policy …`)',
    );
  const worlds = wholeNumber(values.worlds, '--worlds', MAX_WORLDS);
  if (worlds === 0) throw problem('--worlds', 'must be at least 1');
  return {
    family: wholeNumber(values.family, '--family', 2 ** 32 - 1),
    worlds,
    kinds: values.kinds === undefined ? [...HELD_OUT_KINDS] : parseKinds(values.kinds),
    json: values.json,
    help: values.help,
    ...(values.world !== undefined ? { world: wholeNumber(values.world, '--world', 2 ** 31 - 1) } : {}),
    ...(values.compare !== undefined ? { compare: values.compare } : {}),
    policySettings: parsePolicySettings(values.policy ?? [], 'npm run bench:held-out'),
  };
}

/** The command: exit 0 when it ran, 2 on a bad argument. */
export async function runHeldOut(args: readonly string[], io: CliIo): Promise<number> {
  let options: HeldOutOptions;
  let before: HeldOutRow[] | undefined;
  try {
    options = parseOptions(args);
    if (options.help) {
      io.out(`usage: ${HELD_OUT_USAGE}`);
      return 0;
    }
    if (options.compare !== undefined) before = await comparedRows(options, options.compare);
    // A setting the policy rejects is a bad option: said before any world runs, with its path.
    if (options.policySettings.length > 0) await worldScenario(heldOutWorld(options.family, 0, options.kinds), options.policySettings);
  } catch (error) {
    if (!(error instanceof ValidationError) && !isParseArgsError(error)) throw error;
    io.err(`${(error as Error).message}\nusage: ${HELD_OUT_USAGE}`);
    return 2;
  }
  if (options.world !== undefined) {
    const world = heldOutWorld(options.family, options.world, options.kinds);
    io.out(
      `# ${world.summary}\n# npm run bench:held-out -- --family ${options.family} --world ${options.world} --yaml\n${stringify(withAbsoluteTraces(world.raw))}`,
    );
    return 0;
  }
  const against = before === undefined ? '' : `, steer53 alone against ${options.compare}`;
  const policy = settingsText(options.policySettings);
  io.err(
    `steer53 bench:held-out: family ${options.family}, worlds 0-${options.worlds - 1} (${options.kinds.join(', ')})${against}${policy === undefined ? '' : `, policy ${policy}`}`,
  );
  const rows: HeldOutRow[] = [];
  const started = io.clock();
  for (let index = 0; index < options.worlds; index++) {
    const world = heldOutWorld(options.family, index, options.kinds);
    rows.push(before === undefined ? await heldOutRow(world, options.policySettings) : await steer53Row(world, before[index]!, options.policySettings));
    if ((index + 1) % 7 === 0 || index + 1 === options.worlds)
      io.err(`  ${index + 1} of ${options.worlds} worlds: ${((io.clock() - started) / 1000).toFixed(0)} s`);
  }
  const compared = before === undefined ? [] : comparisonLines(options.compare!, before, rows, LOSS_RATIO);
  if (options.json) {
    const setting = policy === undefined ? {} : { policy };
    io.out(JSON.stringify({ family: options.family, baselines: HELD_OUT_BASELINES, kinds: options.kinds, lossRatio: LOSS_RATIO, ...setting, rows }));
    for (const line of compared) io.err(line);
  } else
    io.out([...(compared.length > 0 ? [...compared, ''] : []), kindTable(rows), '', ...flapCauseLines(rows), ...lossLines(rows, options.family)].join('\n'));
  return 0;
}

/**
 * The rows of the document `--compare` names, once it is known to hold the worlds this run draws,
 * measured on this simulator (the first world's fixed split reproduced): throws ValidationError otherwise.
 */
async function comparedRows(options: HeldOutOptions, path: string): Promise<HeldOutRow[]> {
  const rows = readComparison(path, options);
  const worlds = rows.map((row) => heldOutWorld(options.family, row.index, options.kinds));
  checkSameWorlds(path, worlds, rows);
  checkStaticReproduced(path, rows[0]!, await staticMisses(worlds[0]!));
  return rows;
}
