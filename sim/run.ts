/**
 * Runs one scenario under every controller on the same world and seed, and judges the results
 * against the benchmark's targets.
 */
import { naiveThresholdController, route53AlarmHealthCheckController, route53HealthCheckController, staticController } from './controllers/baselines.js';
import { oracleController } from './controllers/oracle.js';
import { steer53RuntimeController } from './controllers/steer53Runtime.js';
import { benefitCaptured, metricsOf, type ControllerMetrics } from './metrics.js';
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

export interface TargetCheck {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly runs: Readonly<Record<ControllerName, RunResult>>;
  readonly metrics: Readonly<Record<ControllerName, ControllerMetrics>>;
  readonly targets: readonly TargetCheck[];
  /** Wall time of the runs, for the CLI's log only. */
  readonly elapsedMs: number;
}

export async function runScenario(scenario: Scenario, options: { readonly clock?: () => number } = {}): Promise<ScenarioResult> {
  const clock = options.clock ?? (() => 0);
  const started = clock();
  const runs = {} as Record<ControllerName, RunResult>;
  const metrics = {} as Record<ControllerName, ControllerMetrics>;
  for (const name of CONTROLLER_NAMES) {
    // The scenario's history runs first for a controller that learns from what it has seen.
    const warm = scenario.history && name === 'steer53' ? (await runWorld(scenario.history, CONTROLLERS[name])).finalState : undefined;
    runs[name] = await runWorld(scenario, CONTROLLERS[name], warm ? { warmState: warm } : {});
    metrics[name] = metricsOf(scenario, runs[name], runs[name].truth);
  }
  return { scenario, runs, metrics, targets: checkTargets(scenario, metrics, runs), elapsedMs: clock() - started };
}

/** The issue's targets that apply to this scenario, judged. */
export function checkTargets(
  scenario: Scenario,
  metrics: Readonly<Record<ControllerName, ControllerMetrics>>,
  runs?: Readonly<Record<ControllerName, RunResult>>,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const s = metrics.steer53;
  checks.push({ target: 'steer53 flaps = 0', met: s.flaps === 0, detail: `${s.flaps}` });
  checks.push({ target: 'steer53 safety violations = 0', met: s.safetyViolations === 0, detail: `${s.safetyViolations}` });
  if (scenario.hasIncident) {
    const benefit = benefitCaptured(metrics);
    if (benefit === null) {
      checks.push({
        target: 'steer53 no worse than static (oracle gains < 0.005)',
        met: s.sloMissFraction <= metrics.static.sloMissFraction + 1e-9,
        detail: `${fmt(s.sloMissFraction)} vs ${fmt(metrics.static.sloMissFraction)}`,
      });
    } else {
      checks.push({ target: 'steer53 captures ≥ 80% of the oracle benefit', met: benefit >= 0.8, detail: `${(benefit * 100).toFixed(0)}%` });
    }
  }
  if (scenario.spec.name === 'gray-failure' || scenario.spec.name === 'gpu-saturation-surge') {
    const r53 = metrics['route53-health-check'].sloMissFraction;
    checks.push({
      target: 'steer53 ≤ 0.5 × route53-health-check',
      met: s.sloMissFraction <= 0.5 * r53 + 1e-12,
      detail: `${fmt(s.sloMissFraction)} vs ${fmt(r53)}`,
    });
  }
  if (scenario.spec.name === 'noisy-near-threshold') {
    checks.push({ target: 'steer53 DNS changes = 0', met: s.dnsChanges === 0, detail: `${s.dnsChanges}` });
  }
  if (runs) checks.push(...rolloutTargets(scenario, runs.steer53));
  return checks;
}

function shareOf(weights: readonly number[], r: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  return total > 0 ? weights[r]! / total : 1 / weights.length;
}

/**
 * The rollout targets (issue #6), per deployment, where the policy runs rollouts: a bad version
 * never gets more than the first canary step's share of the traffic (as Route 53 answers it:
 * the stale DNS tail is shown beside it) and a rollback is requested within three steps' hold
 * time of the canary's start; a good version reaches its full baseline with no rollback.
 */
export function rolloutTargets(scenario: Scenario, run: RunResult): TargetCheck[] {
  const rollout = scenario.service.policy.rollout;
  if (rollout.mode === 'none') return [];
  const checks: TargetCheck[] = [];
  const baseline = scenario.baselineWeights;
  scenario.deployments.forEach((d, i) => {
    if (d.spec.outcome !== 'succeeded') return;
    const marks = run.rollout.filter((m) => m.deployment === i);
    const requested = marks.find((m) => m.what === 'Rollback Requested');
    const rolledBack = marks.find((m) => m.what === 'rolled-back' && !m.duplicate);
    const end = rolledBack?.t ?? scenario.spec.duration;
    const baseShare = shareOf(baseline, d.region);
    if (d.badVersion) {
      // Shares Route 53 answered while the new version served (from its start, or the last write before it).
      let weights = baseline;
      let maxShare = 0;
      for (const write of run.writes) {
        if (write.t >= end) break;
        if (write.t <= d.outcomeAt) weights = write.after;
        else maxShare = Math.max(maxShare, shareOf(write.after, d.region));
      }
      maxShare = Math.max(maxShare, shareOf(weights, d.region));
      const limit = rollout.canary.steps[0]! * baseShare;
      const lived = run.newVersionServed[i]!.maxShare;
      checks.push({
        target: `steer53: ${d.endpoint} ${d.version} (bad) never answered above the first canary step's share`,
        met: maxShare <= limit + 1e-9,
        detail: `${pct(maxShare)} of the answers at most (limit ${pct(limit)}); clients with stale answers included: ${pct(lived)}`,
      });
      const within = 3 * rollout.canary.holdSeconds;
      const after = requested ? requested.t - d.outcomeAt : null;
      checks.push({
        target: `steer53: rollback of ${d.endpoint} ${d.version} requested within 3 canary holds (${within} s)`,
        met: after !== null && after <= within,
        detail: after === null ? 'never requested' : `${after} s after ${d.spec.outcome}`,
      });
    } else {
      const back = run.writes.find((w) => w.t >= d.outcomeAt && Math.abs(shareOf(w.after, d.region) - baseShare) <= 0.005);
      const succeeded = marks.find((m) => m.what === 'Rollout Succeeded');
      checks.push({
        target: `steer53: ${d.endpoint} ${d.version} (good) back at full baseline, no rollback`,
        met: back !== undefined && requested === undefined,
        detail: `${back ? `baseline ${back.t - d.outcomeAt} s after ${d.spec.outcome}` : 'never back at baseline'}; ${requested ? `rollback requested at ${requested.t} s` : 'no rollback'}${succeeded ? `; Rollout Succeeded at ${succeeded.t - d.outcomeAt} s` : ''}`,
      });
    }
  });
  return checks;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function fmt(x: number): string {
  return x.toFixed(4);
}
