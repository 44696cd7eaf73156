/**
 * `steer53 simulate`: run scenarios under every controller, print a summary (or one JSON
 * document), and write a self-contained HTML report.
 *
 *   steer53 simulate [--scenario <file-or-name>]... [--config <file>] [--seed N] [--duration 30m]
 *                    [--json] [--out <dir>] [--no-report]
 *
 * Without --scenario it runs the shipped scenario set (what `npm start` does).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../functions/core/errors.js';
import { judgeExpectations, quickDurationSeconds } from './expectations.js';
import { renderReport } from './report/html.js';
import { runScenario, type ScenarioOutcome, type ScenarioResult } from './run.js';
import { parsePolicySettings, type PolicySetting, settingsText } from './policySettings.js';
import { DEFAULT_SCENARIOS, loadScenario, type Scenario } from './scenario.js';
import { parseDurationSeconds } from './scenarioSchema.js';
import { benchDocument, summaryTable } from './summary.js';
import { CONTROLLER_NAMES } from './world.js';

export const SIMULATE_USAGE =
  'steer53 simulate [--scenario <file-or-name>]... [--config <file>] [--policy path=value]... [--seed N] [--duration 30m] [--json] [--out <dir>] [--no-report] [--timeline]';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Milliseconds, for progress lines only (the model never reads it). */
  readonly clock: () => number;
}

/** An error `node:util` parseArgs throws for an argument it does not take (unknown option, missing value…). */
export function isParseArgsError(error: unknown): error is TypeError & { code: string } {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/**
 * Runs a command as the program (an `npm run` entry point): its exit code, or 1 with the message of
 * an invalid input (the stack of anything else).
 */
export function runAsProgram(run: (args: readonly string[], io: CliIo) => Promise<number>): void {
  run(process.argv.slice(2), defaultIo).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof ValidationError ? error.message : (error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}

export const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  clock: () => performance.now(),
};

export interface SimulateOptions {
  readonly scenarios: readonly string[];
  readonly configPath?: string;
  /** Run every scenario on each of these seeds. @default each scenario's own `seed:` */
  readonly seeds?: readonly number[];
  /** Replaces every scenario's duration (a shorter run is judged as a cut: see sim/expectations.ts). */
  readonly durationSeconds?: number;
  /** Each scenario shortened as its `expect.quick` says (`npm run bench -- --quick`). */
  readonly quick?: boolean;
  /** Policy settings (`--policy path=value`) applied to every scenario's service. */
  readonly policySettings?: readonly PolicySetting[];
}

/**
 * Loads and runs scenarios in order, each on every seed, and judges each against its `expect:`
 * block; progress goes to `err`.
 */
export async function simulate(options: SimulateOptions, io: CliIo = defaultIo): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const seeds: readonly (number | undefined)[] = options.seeds ?? [undefined];
  for (const name of options.scenarios) {
    const started = io.clock();
    const results: ScenarioResult[] = [];
    let fileDurationSeconds = 0;
    // A duration other than the file's, found on the first seed: every seed runs the same.
    let duration: number | undefined;
    for (const seed of seeds) {
      const load = (durationSeconds?: number) =>
        loadScenario(name, {
          ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(durationSeconds !== undefined ? { durationSeconds } : {}),
          ...(options.policySettings !== undefined ? { policySettings: options.policySettings } : {}),
        });
      let scenario: Scenario;
      if (results.length === 0) {
        // The file's own duration, and the quick cut, come from the full scenario.
        const full = await load();
        fileDurationSeconds = full.spec.duration;
        const wanted = options.quick ? quickDurationSeconds(full) : options.durationSeconds;
        duration = wanted !== undefined && wanted !== fileDurationSeconds ? wanted : undefined;
        scenario = duration === undefined ? full : await load(duration);
      } else {
        scenario = await load(duration);
      }
      results.push(await runScenario(scenario, { clock: io.clock }));
    }
    const first = results[0]!.scenario;
    io.err(
      `  ${first.spec.name}: ${Math.round(first.spec.duration / 60)} simulated min × ${CONTROLLER_NAMES.length} controllers × ${results.length} seed${results.length === 1 ? '' : 's'} in ${((io.clock() - started) / 1000).toFixed(1)} s`,
    );
    outcomes.push({ results, fileDurationSeconds, expectations: judgeExpectations(results, fileDurationSeconds) });
  }
  return outcomes;
}

export function writeReport(results: readonly ScenarioOutcome[], outDir: string, title?: string): string {
  mkdirSync(outDir, { recursive: true });
  const path = resolve(join(outDir, 'steer53-report.html'));
  writeFileSync(path, renderReport(results, title !== undefined ? { title } : {}));
  return path;
}

/**
 * steer53's decisions that mattered, one block each: every evaluation that changed a weight or an
 * endpoint's state, with the verdicts behind it and the reason codes — "why did it do that?".
 */
export function steer53Timeline(result: ScenarioResult): string[] {
  const run = result.runs.steer53;
  const ids = result.scenario.endpoints;
  const lines = [`== ${result.scenario.spec.name}: steer53 timeline`];
  const writes = new Map(run.writes.map((w) => [w.t, w]));
  const clock = (t: number) => `${String(Math.floor(t / 60)).padStart(4)}m${String(t % 60).padStart(2, '0')}s`;
  const marks = [...run.rollout];
  let previous: readonly string[] = ids.map(() => 'healthy');
  for (const evaluation of run.evaluations) {
    // Pipeline events and published rollout events, where they happened.
    while (marks.length > 0 && marks[0]!.t <= evaluation.t) {
      const mark = marks.shift()!;
      lines.push(
        `${clock(mark.t)}  ${mark.by === 'pipeline' ? 'pipeline' : 'steer53 published'}: ${mark.endpoint} ${mark.version} ${mark.what}${mark.duplicate ? ' (delivered again)' : ''}`,
      );
    }
    // Two evaluations at one time (a deployment event and the schedule): the write is the first's.
    const write = writes.get(evaluation.t);
    if (write) writes.delete(evaluation.t);
    const changed = evaluation.statuses.some((status, i) => status !== previous[i]);
    previous = evaluation.statuses;
    if (!write && !changed && evaluation.rollout === undefined) continue;
    const weights = write ? `  ${write.before.join('/')} → ${write.after.join('/')}${write.emergency ? ' (emergency)' : ''}` : '';
    lines.push(
      `${clock(evaluation.t)}  ${ids.map((id, i) => `${id}:${evaluation.statuses[i]}`).join(' ')}${evaluation.mode && evaluation.mode !== 'normal' ? ` [${evaluation.mode}]` : ''}${weights}`,
    );
    for (const [i, id] of ids.entries()) lines.push(`          ${id}: ${evaluation.verdicts?.[i] ?? ''}`);
    if (evaluation.reasons.length > 0) lines.push(`          reasons: ${evaluation.reasons.join(', ')}`);
    for (const note of evaluation.rollout ?? []) lines.push(`          rollout: ${note}`);
  }
  for (const mark of marks)
    lines.push(
      `${clock(mark.t)}  ${mark.by === 'pipeline' ? 'pipeline' : 'steer53 published'}: ${mark.endpoint} ${mark.version} ${mark.what}${mark.duplicate ? ' (delivered again)' : ''}`,
    );
  return lines;
}

export async function runSimulate(args: string[], io: CliIo = defaultIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string', multiple: true },
      config: { type: 'string' },
      seed: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'out/sim' },
      'no-report': { type: 'boolean', default: false },
      timeline: { type: 'boolean', default: false },
      policy: { type: 'string', multiple: true },
    },
    strict: true,
    allowPositionals: false,
  });
  const problems: { path: string; message: string }[] = [];
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) problems.push({ path: '--seed', message: 'must be an integer 0–4294967295' });
  }
  let durationSeconds: number | undefined;
  if (values.duration !== undefined) {
    durationSeconds = parseDurationSeconds(values.duration);
    if (durationSeconds === undefined || durationSeconds < 600)
      problems.push({ path: '--duration', message: 'must be a duration of at least 10m, such as 30m or 2h' });
  }
  if (problems.length > 0) throw new ValidationError('steer53 simulate', problems);
  const policySettings = parsePolicySettings(values.policy ?? [], 'steer53 simulate');

  const scenarios = values.scenario ?? [...DEFAULT_SCENARIOS];
  io.err(`steer53 simulate: ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'}`);
  const started = io.clock();
  const results = await simulate(
    {
      scenarios,
      ...(values.config !== undefined ? { configPath: values.config } : {}),
      ...(seed !== undefined ? { seeds: [seed] } : {}),
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      policySettings,
    },
    io,
  );
  const reportPath = values['no-report'] ? null : writeReport(results, values.out);
  // The newcomer's demo: it exits 0 once the simulation ran; missed expectations show in the
  // table and the report (`npm run bench` is the command that fails on them).
  if (values.json) {
    io.out(JSON.stringify(benchDocument(results, { ...(seed !== undefined ? { seeds: [seed] } : {}), policy: settingsText(policySettings) })));
    if (reportPath) io.err(`report: ${reportPath}`);
  } else {
    if (values.timeline) for (const outcome of results) for (const line of steer53Timeline(outcome.results[0]!)) io.out(line);
    io.out('');
    io.out(summaryTable(results));
    io.out('');
    if (reportPath) io.out(`HTML report: ${reportPath}`);
    io.out(`(${((io.clock() - started) / 1000).toFixed(1)} s)`);
  }
  return 0;
}
