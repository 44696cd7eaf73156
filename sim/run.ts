/**
 * Runs one scenario under every controller on the same world and seed, and gathers the facts
 * its expectations are judged on (sim/expectations.ts). Which targets apply where is the
 * scenario file's business (`expect:`), never this file's.
 */
import { naiveThresholdController, route53AlarmHealthCheckController, route53HealthCheckController, staticController } from './controllers/baselines.js';
import { oracleController } from './controllers/oracle.js';
import { steer53RuntimeController } from './controllers/steer53Runtime.js';
import type { ExpectationCheck } from './expectations.js';
import { metricsOf, type ControllerMetrics } from './metrics.js';
import type { Scenario } from './scenario.js';
import { CONTROLLER_NAMES, runWorld, type ControllerFactory, type ControllerName, type RunResult } from './world.js';

export const CONTROLLERS: Readonly<Record<ControllerName, ControllerFactory>> = {
  steer53: steer53RuntimeController,
  static: staticController,
  'route53-health-check': route53HealthCheckController,
  'route53-alarm-health-check': route53AlarmHealthCheckController,
  'naive-threshold': naiveThresholdController,
  oracle: oracleController,
};

/** One scenario on one seed, under every controller. */
export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly runs: Readonly<Record<ControllerName, RunResult>>;
  readonly metrics: Readonly<Record<ControllerName, ControllerMetrics>>;
  /** What steer53's rollouts did, per deployment that succeeded, where the policy runs rollouts. */
  readonly rollout: readonly RolloutFact[];
  /** Wall time of the runs, for the CLI's log only. */
  readonly elapsedMs: number;
}

/** One scenario on every seed run, judged against its `expect:` block. */
export interface ScenarioOutcome {
  /** Per seed, in the order run (at least one). */
  readonly results: readonly ScenarioResult[];
  /** The scenario file's own duration: a shorter run (`--quick`, `--duration`) is a cut of it. */
  readonly fileDurationSeconds: number;
  readonly expectations: readonly ExpectationCheck[];
}

export async function runScenario(scenario: Scenario, options: { readonly clock?: () => number } = {}): Promise<ScenarioResult> {
  const clock = options.clock ?? (() => 0);
  const started = clock();
  const { runs, metrics } = await runControllers(scenario, CONTROLLER_NAMES);
  return { scenario, runs, metrics, rollout: rolloutFacts(scenario, runs.steer53), elapsedMs: clock() - started };
}

/** Runs the scenario under the named controllers only (a benchmark that reads some of them need not pay for the rest). */
export async function runControllers<N extends ControllerName>(
  scenario: Scenario,
  names: readonly N[],
): Promise<{ runs: Record<N, RunResult>; metrics: Record<N, ControllerMetrics> }> {
  const runs = {} as Record<N, RunResult>;
  const metrics = {} as Record<N, ControllerMetrics>;
  for (const name of names) {
    // The scenario's history runs first for a controller that learns from what it has seen.
    const warm = scenario.history && name === 'steer53' ? (await runWorld(scenario.history, CONTROLLERS[name])).finalState : undefined;
    runs[name] = await runWorld(scenario, CONTROLLERS[name], warm ? { warmState: warm } : {});
    metrics[name] = metricsOf(scenario, runs[name], runs[name].truth);
  }
  return { runs, metrics };
}

/** What one deployment's rollout did in one run (issue #6's targets are judged on these). */
export interface RolloutFact {
  /** Its index in the scenario's deployments. */
  readonly deployment: number;
  readonly endpoint: string;
  readonly version: string;
  /** The new version behaves worse than the old one: the canary should fail. */
  readonly badVersion: boolean;
  readonly outcomeAt: number;
  readonly holdSeconds: number;
  /** A bad version: the largest share Route 53 answered for it while it served, and the first canary step's share. */
  readonly maxAnsweredShare: number;
  readonly firstStepShare: number;
  /** The largest share clients really sent it, stale DNS answers included. */
  readonly maxLivedShare: number;
  /** Seconds from the outcome event to steer53's `Rollback Requested`; null if never. */
  readonly rollbackRequestedAfterS: number | null;
  /** Seconds from the outcome event to the write that put the endpoint back at its baseline share; null if never. */
  readonly backAtBaselineAfterS: number | null;
  /** Seconds from the outcome event to steer53's `Rollout Succeeded`; null if never. */
  readonly rolloutSucceededAfterS: number | null;
}

function shareOf(weights: readonly number[], r: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  return total > 0 ? weights[r]! / total : 1 / weights.length;
}

/**
 * Per deployment that succeeded, where the policy runs rollouts: the share a bad version was
 * answered at most (as Route 53 answered it, from its start — or the last write before it — to
 * its rollback), when a rollback was requested, and when a good version was back at baseline.
 */
export function rolloutFacts(scenario: Scenario, run: RunResult): RolloutFact[] {
  const rollout = scenario.service.policy.rollout;
  if (rollout.mode === 'none') return [];
  const baseline = scenario.baselineWeights;
  const facts: RolloutFact[] = [];
  scenario.deployments.forEach((d, i) => {
    if (d.spec.outcome !== 'succeeded') return;
    const marks = run.rollout.filter((m) => m.deployment === i);
    const requested = marks.find((m) => m.what === 'Rollback Requested');
    const rolledBack = marks.find((m) => m.what === 'rolled-back' && !m.duplicate);
    const succeeded = marks.find((m) => m.what === 'Rollout Succeeded');
    const end = rolledBack?.t ?? scenario.spec.duration;
    const baseShare = shareOf(baseline, d.region);
    let weights = baseline;
    let maxShare = 0;
    for (const write of run.writes) {
      if (write.t >= end) break;
      if (write.t <= d.outcomeAt) weights = write.after;
      else maxShare = Math.max(maxShare, shareOf(write.after, d.region));
    }
    maxShare = Math.max(maxShare, shareOf(weights, d.region));
    const back = run.writes.find((w) => w.t >= d.outcomeAt && Math.abs(shareOf(w.after, d.region) - baseShare) <= 0.005);
    facts.push({
      deployment: i,
      endpoint: d.endpoint,
      version: d.version,
      badVersion: d.badVersion,
      outcomeAt: d.outcomeAt,
      holdSeconds: rollout.canary.holdSeconds,
      maxAnsweredShare: maxShare,
      firstStepShare: rollout.canary.steps[0]! * baseShare,
      maxLivedShare: run.newVersionServed[i]!.maxShare,
      rollbackRequestedAfterS: requested ? requested.t - d.outcomeAt : null,
      backAtBaselineAfterS: back ? back.t - d.outcomeAt : null,
      rolloutSucceededAfterS: succeeded ? succeeded.t - d.outcomeAt : null,
    });
  });
  return facts;
}
