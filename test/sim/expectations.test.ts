import { describe, expect, it } from 'vitest';
import { describeExpectation, describeOutcome, judgeExpectations, quickDurationSeconds, statOver, type ExpectationCheck } from '../../sim/expectations.js';
import { missRatio, type ControllerMetrics } from '../../sim/metrics.js';
import type { ScenarioOutcome, ScenarioResult } from '../../sim/run.js';
import { resolveScenario, type Scenario } from '../../sim/scenario.js';
import type { ScenarioInput } from '../../sim/scenarioSchema.js';
import { markdownTable, summaryTable } from '../../sim/summary.js';
import { CONTROLLER_NAMES, type ControllerName } from '../../sim/world.js';
import { problemsOf, SOURCE, smallScenario } from './fixtures.js';

const OUTAGE = [{ kind: 'outage' as const, region: 'b', start: '10m', duration: '10m' }];

async function scenarioWith(expectBlock: ScenarioInput['expect'], overrides: Partial<ScenarioInput> = {}): Promise<Scenario> {
  return resolveScenario(smallScenario({ incidents: OUTAGE, ...overrides, ...(expectBlock !== undefined ? { expect: expectBlock } : {}) }), SOURCE);
}

function metrics(values: Partial<Record<ControllerName, Partial<ControllerMetrics>>>): Record<ControllerName, ControllerMetrics> {
  const quiet: ControllerMetrics = {
    sloMissFraction: 0,
    dnsChanges: 0,
    flaps: 0,
    flapCauses: {},
    timeToMitigateS: null,
    timeToBaselineS: 0,
    safetyViolations: 0,
    instanceHours: 0,
    extraInstanceHours: 0,
  };
  return Object.fromEntries(CONTROLLER_NAMES.map((name) => [name, { ...quiet, ...values[name] }])) as Record<ControllerName, ControllerMetrics>;
}

/** A result on one seed with the given metrics (the judge reads only the scenario, the metrics and the rollout facts). */
function seedResult(scenario: Scenario, seed: number, m: Record<ControllerName, ControllerMetrics>): ScenarioResult {
  return { scenario: { ...scenario, spec: { ...scenario.spec, seed } }, runs: {} as ScenarioResult['runs'], metrics: m, rollout: [], elapsedMs: 0 };
}

/** steer53 misses `steer53` where static misses 0.10 and the oracle 0: its benefit is 1 − steer53 / 0.10. */
function benefitSeed(scenario: Scenario, seed: number, steer53: Partial<ControllerMetrics>): ScenarioResult {
  return seedResult(scenario, seed, metrics({ steer53, static: { sloMissFraction: 0.1 }, 'route53-health-check': { sloMissFraction: 0.05 } }));
}

function byName(checks: readonly ExpectationCheck[]): Record<string, Pick<ExpectationCheck, 'status' | 'value' | 'seed' | 'note'>> {
  return Object.fromEntries(
    checks.map((c) => [
      `${c.expectation} ${c.statistic}`,
      { status: c.status, value: c.value, ...(c.seed !== undefined ? { seed: c.seed } : {}), ...(c.note ? { note: c.note } : {}) },
    ]),
  );
}

describe('Scenario format: expect', () => {
  it('defaults to no flap and no safety violation on any seed, and nothing else', async () => {
    const scenario = await scenarioWith(undefined);
    expect(scenario.spec.expect).toEqual({ flaps: { worst: 0 }, safetyViolations: { worst: 0 } });
  });

  it('reads every expectation, durations included', async () => {
    const scenario = await scenarioWith({
      benefit: { mean: 0.9, worst: 0.8 },
      ratioTo: { 'route53-health-check': { mean: 1 }, static: { worst: 0.5 } },
      flaps: { worst: 2 },
      dnsChanges: { mean: 3, worst: 5 },
      timeToMitigate: { worst: '5m' },
      quick: { duration: '30m' },
    });
    expect(scenario.spec.expect).toMatchObject({
      benefit: { mean: 0.9, worst: 0.8 },
      flaps: { worst: 2 },
      timeToMitigate: { worst: 300 },
      quick: { duration: 1800 },
    });
  });

  it('reports every problem of an expect block at its path', async () => {
    const problems = await problemsOf(
      smallScenario({
        incidents: OUTAGE,
        expect: {
          benefit: {},
          ratioTo: { route53: { worst: 1 }, steer53: { worst: 1 }, oracle: { worst: 'low' } },
          flaps: { worst: -1 },
          dnsChanges: { mean: 1.5 },
          timeToMitigate: { worst: 'soon' },
          quick: { duration: '2h' },
          benfit: { worst: 1 },
        } as unknown as ScenarioInput['expect'],
      }),
    );
    const others = CONTROLLER_NAMES.filter((n) => n !== 'steer53').join(', ');
    expect(problems).toEqual(
      expect.arrayContaining([
        'expect.benefit: needs mean, worst or both',
        `expect.ratioTo.route53: unknown controller "route53" (controllers: ${others})`,
        `expect.ratioTo.steer53: unknown controller "steer53" (controllers: ${others})`,
        expect.stringMatching(/^expect\.ratioTo\.oracle\.worst: /),
        expect.stringMatching(/^expect\.flaps\.worst: /),
        expect.stringMatching(/^expect\.dnsChanges\.mean: /),
        'expect.timeToMitigate.worst: must be a duration: seconds, or a string such as 90s, 15m, 2h or 1h30m',
        'expect.benfit: unknown setting (check the spelling)',
      ]),
    );
  });

  it('refuses a quick run longer than the scenario, and expectations the scenario cannot meet by construction', async () => {
    expect(await problemsOf(smallScenario({ incidents: OUTAGE, expect: { quick: { duration: '2h' } } }))).toEqual([
      "expect.quick.duration: must be at most the scenario's duration (2400 s)",
    ]);
    expect(await problemsOf(smallScenario({ expect: { timeToMitigate: { worst: '5m' } } }))).toEqual([
      'expect.timeToMitigate: the scenario has no harm to mitigate (no harmful incident, demand shape or deployment)',
    ]);
    expect(await problemsOf(smallScenario({ expect: { rollout: { badVersionCapped: true } } }))).toEqual([
      'expect.rollout: the policy runs no rollouts (policy.rollout.mode is none): there is nothing to judge',
    ]);
  });
});

describe('Function: statOver', () => {
  it.each([
    ['a share (higher is better): the worst seed is the lowest', 'higher', [0.9, 0.6, 0.8], { mean: 0.7667, worst: 0.6, worstSeed: 2 }],
    ['a count (lower is better): the worst seed is the highest', 'lower', [0, 4, 1], { mean: 1.6667, worst: 4, worstSeed: 2 }],
    [
      'a time never reached is worst of all',
      'lower',
      [260, Number.POSITIVE_INFINITY, 300],
      { mean: Number.POSITIVE_INFINITY, worst: Number.POSITIVE_INFINITY, worstSeed: 2 },
    ],
  ] as const)('%s', (_name, better, values, expected) => {
    const stat = statOver(
      values.map((value, i) => ({ seed: i + 1, value })),
      better,
    );
    expect(stat.mean).toBeCloseTo(expected.mean, 3);
    expect(stat).toMatchObject({ worst: expected.worst, worstSeed: expected.worstSeed, undefinedOn: [] });
  });

  it('leaves out the seeds where the value is not defined, and says which', () => {
    const stat = statOver(
      [
        { seed: 1, value: 0.5 },
        { seed: 2, value: null },
        { seed: 3, value: 0.7 },
      ],
      'higher',
    );
    expect(stat).toEqual({ mean: 0.6, worst: 0.5, worstSeed: 1, undefinedOn: [2] });
    expect(statOver([{ seed: 1, value: null }], 'higher')).toEqual({ mean: null, worst: null, worstSeed: null, undefinedOn: [1] });
  });
});

describe('Function: missRatio (steer53 over another controller)', () => {
  it.each([
    ['half the misses', 0.01, 0.02, 0.5],
    ['neither missed a request: as well as possible', 0, 0, 0],
    ['only steer53 missed: unbounded', 0.01, 0, Number.POSITIVE_INFINITY],
  ])('%s', (_name, mine, theirs, ratio) => {
    expect(missRatio(metrics({ steer53: { sloMissFraction: mine }, static: { sloMissFraction: theirs } }), 'static')).toBe(ratio);
  });
});

describe('Function: judgeExpectations', () => {
  it('judges the mean over the seeds and the worst seed, and names the worst seed', async () => {
    const scenario = await scenarioWith({ benefit: { mean: 0.8, worst: 0.7 }, ratioTo: { 'route53-health-check': { mean: 0.5, worst: 0.5 } } });
    const results = [
      benefitSeed(scenario, 1, { sloMissFraction: 0.01 }),
      benefitSeed(scenario, 2, { sloMissFraction: 0.04 }),
      benefitSeed(scenario, 3, { sloMissFraction: 0.01 }),
    ];
    const checks = byName(judgeExpectations(results, scenario.spec.duration));
    expect(checks['benefit mean']).toMatchObject({ status: 'met' }); // (0.9 + 0.6 + 0.9) / 3 = 0.8
    expect(checks['benefit mean']!.value).toBeCloseTo(0.8, 9);
    expect(checks['benefit worst']).toMatchObject({ status: 'missed', seed: 2 });
    expect(checks['benefit worst']!.value).toBeCloseTo(0.6, 9);
    expect(checks['ratioTo.route53-health-check mean']!.value).toBeCloseTo(0.4, 9);
    expect(checks['ratioTo.route53-health-check mean']!.status).toBe('met');
    expect(checks['ratioTo.route53-health-check worst']).toMatchObject({ status: 'missed', seed: 2 });
    expect(checks['ratioTo.route53-health-check worst']!.value).toBeCloseTo(0.8, 9);
    expect(checks['flaps worst']).toEqual({ status: 'met', value: 0 }); // every seed alike: no seed named
    expect(checks['safetyViolations worst']).toEqual({ status: 'met', value: 0 });
  });

  it('counts a seed that never mitigated as the worst, and a flap above the bound as missed', async () => {
    const scenario = await scenarioWith({ timeToMitigate: { worst: '5m' }, flaps: { worst: 1 } });
    const results = [benefitSeed(scenario, 1, { timeToMitigateS: 200, flaps: 1 }), benefitSeed(scenario, 2, { timeToMitigateS: null, flaps: 2 })];
    const checks = judgeExpectations(results, scenario.spec.duration);
    expect(byName(checks)['timeToMitigate worst']).toEqual({ status: 'missed', value: Number.POSITIVE_INFINITY, seed: 2 });
    expect(byName(checks)['flaps worst']).toEqual({ status: 'missed', value: 2, seed: 2 });
    expect(checks.map((c) => `${describeExpectation(c)}: ${describeOutcome(c)}`)).toEqual([
      'flaps worst ≤ 1: 2 (seed 2)',
      'safetyViolations worst ≤ 0: 0',
      'timeToMitigate worst ≤ 300 s: never (seed 2)',
    ]);
  });

  it('skips a benefit the oracle leaves nothing to share on every seed, and says so on the seeds where it does not', async () => {
    const scenario = await scenarioWith({ benefit: { worst: 0.5 } });
    const nothing = seedResult(scenario, 1, metrics({ static: { sloMissFraction: 0.001 } }));
    expect(byName(judgeExpectations([nothing], scenario.spec.duration))['benefit worst']).toEqual({
      status: 'skipped',
      value: null,
      note: 'not defined on any seed run (the oracle gains < 0.005 over static)',
    });
    const some = [nothing, benefitSeed(scenario, 2, { sloMissFraction: 0.02 })];
    expect(byName(judgeExpectations(some, scenario.spec.duration))['benefit worst']).toMatchObject({
      status: 'met',
      note: 'not defined on seed 1 (the oracle gains < 0.005 over static)',
    });
  });

  it('skips a mean on one seed (the worst bound judges it)', async () => {
    const scenario = await scenarioWith({ benefit: { mean: 0.99, worst: 0.5 } });
    const checks = byName(judgeExpectations([benefitSeed(scenario, 1, { sloMissFraction: 0.02 })], scenario.spec.duration));
    expect(checks['benefit mean']).toMatchObject({ status: 'skipped', value: null });
    expect(checks['benefit worst']).toMatchObject({ status: 'met' });
  });

  it("bounds steer53's extra instance-hours over the oracle's, per seed, and skips them on a cut that ends inside the harm", async () => {
    const scaling = {
      regions: [
        { name: 'a', warmRps: 50, scaling: { maxReplicas: 40 } },
        { name: 'b', warmRps: 50 },
      ],
    };
    const scenario = await scenarioWith({ extraInstanceHours: { overOracle: { mean: 1.2, worst: 1.3 } } }, scaling);
    const hours = (seed: number, steer53: number, oracle: number) =>
      seedResult(scenario, seed, metrics({ steer53: { extraInstanceHours: steer53 }, oracle: { extraInstanceHours: oracle } }));
    const checks = byName(judgeExpectations([hours(1, 2.2, 2), hours(2, 2.8, 2), hours(3, 0, 0)], scenario.spec.duration));
    // 1.1, 1.4 and 0 (neither added any): mean 0.83, worst 1.4 on seed 2.
    expect(checks['extraInstanceHours.overOracle mean']).toMatchObject({ status: 'met' });
    expect(checks['extraInstanceHours.overOracle mean']!.value).toBeCloseTo(2.5 / 3, 9);
    expect(checks['extraInstanceHours.overOracle worst']).toEqual({ status: 'missed', value: 1.4, seed: 2 });
    const onlySteer53 = byName(judgeExpectations([hours(1, 0.5, 0)], scenario.spec.duration));
    expect(onlySteer53['extraInstanceHours.overOracle worst']).toMatchObject({ status: 'missed', value: Number.POSITIVE_INFINITY });
    const cut = { ...scenario, spec: { ...scenario.spec, duration: 900 } };
    expect(byName(judgeExpectations([seedResult(cut, 1, metrics({}))], 2400))['extraInstanceHours.overOracle worst']).toMatchObject({ status: 'skipped' });
  });

  it('on a cut run, judges counts but skips shares of misses when the harm reaches past the cut', async () => {
    // The file runs 40 minutes with harm from 10 to 20; the run is cut at 15.
    const scenario = await scenarioWith({ benefit: { worst: 0.5 }, ratioTo: { static: { worst: 1 } }, dnsChanges: { worst: 3 } }, { duration: '40m' });
    const cut = { ...scenario, spec: { ...scenario.spec, duration: 900 } };
    const checks = byName(judgeExpectations([benefitSeed(cut, 1, { sloMissFraction: 0.02, dnsChanges: 4 })], 2400));
    const why = 'the run is cut at 15 min of 40 min and the harm lasts until 20 min';
    expect(checks['benefit worst']).toEqual({ status: 'skipped', value: null, note: why });
    expect(checks['ratioTo.static worst']).toEqual({ status: 'skipped', value: null, note: why });
    expect(checks['dnsChanges worst']).toEqual({ status: 'missed', value: 4 });
    // Cut after the harm ended: shares are judged.
    const later = { ...scenario, spec: { ...scenario.spec, duration: 1800 } };
    expect(byName(judgeExpectations([benefitSeed(later, 1, { sloMissFraction: 0.02 })], 2400))['benefit worst']).toMatchObject({ status: 'met' });
  });
});

describe('Function: quickDurationSeconds', () => {
  it.each([
    ['30 minutes after the last incident ends', { incidents: OUTAGE, duration: '2h' }, 20 * 60 + 1800],
    ['the full run when that is shorter', { incidents: OUTAGE, duration: '40m' }, 2400],
    ['the full run when nothing happens', { duration: '2h' }, 7200],
    ['at most 3 hours unless the scenario says', { duration: '8h' }, 3 * 3600],
    ['what the scenario says', { incidents: OUTAGE, duration: '2h', expect: { quick: { duration: '1h' } } }, 3600],
  ] as const)('is %s', async (_name, overrides, seconds) => {
    const scenario = await resolveScenario(smallScenario(overrides as Partial<ScenarioInput>), SOURCE);
    expect(quickDurationSeconds(scenario)).toBe(seconds);
  });
});

describe('Tables of expectations', () => {
  async function outcome(): Promise<ScenarioOutcome> {
    const scenario = await scenarioWith({ benefit: { mean: 0.8, worst: 0.7 } });
    const results = [benefitSeed(scenario, 1, { sloMissFraction: 0.01 }), benefitSeed(scenario, 2, { sloMissFraction: 0.04 })];
    return { results, fileDurationSeconds: scenario.spec.duration, expectations: judgeExpectations(results, scenario.spec.duration) };
  }

  it('shows mean / worst per controller, every controller, and every expectation with its verdict', async () => {
    const table = markdownTable([await outcome()]);
    for (const name of CONTROLLER_NAMES) expect(table).toContain(`| small | ${name} |`);
    expect(table).toContain('| small | steer53 | 0.0250 / 0.0400 | 75% / 60% |');
    expect(table).toContain('| small | benefit mean ≥ 80% | **MISSED** | 75% |');
    expect(table).toContain('| small | benefit worst ≥ 70% | **MISSED** | 60% (seed 2) |');
    expect(table).toContain("Expectations (each scenario's `expect:`): 2 met, 2 missed, 0 skipped.");
  });

  it("breaks steer53's flaps down by cause, summed over the seeds, most first", async () => {
    const scenario = await scenarioWith(undefined);
    const results = [
      benefitSeed(scenario, 1, { flaps: 2, flapCauses: { RECOVERY_FAILED: 1, M_OF_N_BREACH: 1 } }),
      benefitSeed(scenario, 2, { flaps: 1, flapCauses: { RECOVERY_FAILED: 1 } }),
    ];
    const table = markdownTable([{ results, fileDurationSeconds: scenario.spec.duration, expectations: judgeExpectations(results, scenario.spec.duration) }]);
    expect(table).toContain('| small | 3 | RECOVERY_FAILED 2, M_OF_N_BREACH 1 |');
    // Without a flap, no such table.
    expect(markdownTable([await outcome()])).not.toContain('by cause');
  });

  it('lists the missed expectations plainly under the summary table', async () => {
    const lines = summaryTable([await outcome()]).split('\n');
    expect(lines[1]).toMatch(/2\/4 met, 2 MISSED$/);
    expect(lines.slice(-3)).toEqual(['Missed expectations (2):', '  ✗ small: benefit mean ≥ 80%: 75%', '  ✗ small: benefit worst ≥ 70%: 60% (seed 2)']);
  });
});
