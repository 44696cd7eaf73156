/**
 * Runs one scenario under every controller on the same world and seed, and judges the results
 * against the benchmark's targets.
 */
import { naiveThresholdController, route53HealthCheckController, staticController } from './controllers/baselines.js';
import { oracleController } from './controllers/oracle.js';
import { steer53RuntimeController } from './controllers/steer53Runtime.js';
import { benefitCaptured, metricsOf, type ControllerMetrics } from './metrics.js';
import type { Scenario } from './scenario.js';
import { CONTROLLER_NAMES, WorldTruth, runWorld, type ControllerFactory, type ControllerName, type RunResult } from './world.js';

export const CONTROLLERS: Readonly<Record<ControllerName, ControllerFactory>> = {
  steer53: steer53RuntimeController,
  static: staticController,
  'route53-health-check': route53HealthCheckController,
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
  const truth = new WorldTruth(scenario);
  const runs = {} as Record<ControllerName, RunResult>;
  const metrics = {} as Record<ControllerName, ControllerMetrics>;
  for (const name of CONTROLLER_NAMES) {
    runs[name] = await runWorld(scenario, CONTROLLERS[name]);
    metrics[name] = metricsOf(scenario, runs[name], truth);
  }
  return { scenario, runs, metrics, targets: checkTargets(scenario, metrics), elapsedMs: clock() - started };
}

/** The targets that apply to this scenario, judged. */
export function checkTargets(scenario: Scenario, metrics: Readonly<Record<ControllerName, ControllerMetrics>>): TargetCheck[] {
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
    checks.push({ target: 'steer53 ≤ 0.5 × route53-health-check', met: s.sloMissFraction <= 0.5 * r53 + 1e-12, detail: `${fmt(s.sloMissFraction)} vs ${fmt(r53)}` });
  }
  if (scenario.spec.name === 'noisy-near-threshold') {
    checks.push({ target: 'steer53 DNS changes = 0', met: s.dnsChanges === 0, detail: `${s.dnsChanges}` });
  }
  return checks;
}

function fmt(x: number): string {
  return x.toFixed(4);
}
