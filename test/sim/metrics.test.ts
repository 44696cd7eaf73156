import { describe, expect, it } from 'vitest';
import { benefitCaptured, countFlaps, flapCauses, safetyViolations, timeToBaseline, timeToMitigate, type ControllerMetrics } from '../../sim/metrics.js';
import { resolveScenario, type Scenario } from '../../sim/scenario.js';
import { WorldTruth, type RunSeries, type WeightWrite } from '../../sim/world.js';
import { SOURCE, smallScenario } from './fixtures.js';

function write(t: number, before: number[], after: number[]): WeightWrite {
  return { t, before, after, kind: 'api', emergency: false, why: '' };
}

async function scenarioWithIncident(): Promise<Scenario> {
  // b is down from 10 to 20 minutes.
  return resolveScenario(smallScenario({ incidents: [{ kind: 'outage', region: 'b', start: '10m', duration: '10m' }] }), SOURCE);
}

function quietSeries(minutes: number): RunSeries {
  const zeros = () => [new Float64Array(minutes), new Float64Array(minutes)];
  return {
    requests: zeros(),
    failed: zeros(),
    missed: zeros(),
    p99: zeros(),
    share: zeros(),
    gpu: zeros(),
    kvCache: zeros(),
    queue: zeros(),
    replicas: zeros(),
    desiredReplicas: zeros(),
  };
}

describe('Metric: flaps (a weight move of more than one unit reversed within 10 minutes by another)', () => {
  it.each([
    ['a shift held for good', [write(60, [100, 100], [150, 50])], 0],
    ['a move of one weight unit and its reversal (rounding, too small to flap)', [write(60, [100, 100], [101, 99]), write(120, [101, 99], [100, 100])], 0],
    ['a move of two weight units and its reversal', [write(60, [100, 100], [102, 98]), write(120, [102, 98], [100, 100])], 1],
    ['a shift nudged back by one unit', [write(60, [100, 100], [150, 50]), write(120, [150, 50], [149, 51])], 0],
    [
      'a shift reversed after a one-unit nudge between',
      [write(60, [100, 100], [110, 90]), write(120, [110, 90], [109, 91]), write(180, [109, 91], [99, 101])],
      1,
    ],
    ['a shift reversed after 5 minutes', [write(60, [100, 100], [150, 50]), write(360, [150, 50], [100, 100])], 1],
    ['a shift reversed after exactly 10 minutes', [write(60, [100, 100], [150, 50]), write(660, [150, 50], [100, 100])], 0],
    ['two shifts the same way', [write(60, [100, 100], [150, 50]), write(120, [150, 50], [200, 0])], 0],
    [
      'a drain then a restore within the window, twice',
      [write(0, [100, 100], [200, 0]), write(300, [200, 0], [100, 100]), write(600, [100, 100], [200, 0]), write(700, [200, 0], [100, 100])],
      3,
    ],
    [
      'a canary step, its rollback and the restore once rolled back (rollout-ordered)',
      [
        { ...write(0, [200, 0], [180, 20]), rollout: true },
        { ...write(300, [180, 20], [200, 0]), rollout: true },
        { ...write(480, [200, 0], [100, 100]), rollout: true },
      ],
      0,
    ],
    ['weights rewritten at another scale and back (no share moved)', [write(60, [100, 100], [200, 200]), write(120, [200, 200], [100, 100])], 0],
    [
      'a survivor whose record a drain left as it was (its share rose), shed within the window',
      [write(0, [100, 100, 100, 100], [0, 100, 100, 100]), write(120, [0, 100, 100, 100], [0, 50, 150, 150])],
      1,
    ],
    [
      'a health check dropping a failing record, then the controller giving a survivor less than that did',
      [{ ...write(0, [100, 100, 50], [100, 0, 50]), kind: 'health-check' as const }, write(160, [100, 0, 50], [154, 0, 64])],
      0,
    ],
    [
      'a health check dropping a record and taking it back within the window',
      [
        { ...write(0, [100, 100, 50], [100, 0, 50]), kind: 'health-check' as const },
        { ...write(300, [100, 0, 50], [100, 100, 50]), kind: 'health-check' as const },
      ],
      1,
    ],
    ['a controller move that reverses a rollout move', [{ ...write(0, [200, 0], [100, 100]), rollout: true }, write(300, [100, 100], [150, 50])], 1],
  ])('counts %s as %i', (_name, writes, flaps) => {
    expect(countFlaps(writes)).toBe(flaps);
  });

  it('breaks the flaps down by the reason code of the reversing write, else its kind', () => {
    const writes = [
      { ...write(0, [100, 100], [150, 50]), cause: 'M_OF_N_BREACH' },
      { ...write(120, [150, 50], [100, 100]), cause: 'RECOVERY_STEP' },
      { ...write(240, [100, 100], [150, 50]), cause: 'RECOVERY_FAILED' },
      { ...write(300, [150, 50], [150, 0]), kind: 'health-check' as const },
      { ...write(360, [150, 0], [150, 50]), kind: 'health-check' as const },
      write(420, [150, 50], [100, 100]),
    ];
    expect(flapCauses(writes)).toEqual({ RECOVERY_STEP: 1, RECOVERY_FAILED: 1, 'health-check': 1, api: 1 });
    expect(countFlaps(writes)).toBe(4);
  });
});

describe('Metric: time to mitigate', () => {
  it('measures from the start of harm to the first change that took share from a harmed endpoint', async () => {
    const scenario = await scenarioWithIncident();
    const run = { series: quietSeries(40), writes: [write(300, [100, 100], [120, 80]), write(700, [100, 100], [150, 50])] };
    // The write at 300 s moved traffic away from b before any harm: it does not count.
    expect(timeToMitigate(scenario, run, new WorldTruth(scenario))).toBe(100);
  });

  it('does not count a change that moved traffic toward the harmed endpoint', async () => {
    const scenario = await scenarioWithIncident();
    const run = { series: quietSeries(40), writes: [write(700, [100, 100], [50, 150])] };
    expect(timeToMitigate(scenario, run, new WorldTruth(scenario))).toBeNull();
  });

  it('is null for a scenario without harm', async () => {
    const scenario = await resolveScenario(smallScenario(), SOURCE);
    expect(timeToMitigate(scenario, { series: quietSeries(40), writes: [write(700, [100, 100], [150, 50])] }, new WorldTruth(scenario))).toBeNull();
  });
});

describe('Metric: time back to baseline', () => {
  it('measures from the end of the incident to the write that restored baseline for good', async () => {
    const scenario = await scenarioWithIncident();
    const writes = [write(700, [100, 100], [200, 0]), write(1500, [200, 0], [180, 20]), write(1800, [180, 20], [100, 100])];
    expect(timeToBaseline(scenario, writes)).toBe(1800 - 1200);
  });

  it('is null when the weights are not back at baseline by the end', async () => {
    const scenario = await scenarioWithIncident();
    expect(timeToBaseline(scenario, [write(700, [100, 100], [200, 0])])).toBeNull();
  });

  it('is 0 when the weights never left baseline, and counts equal shares as baseline', async () => {
    const scenario = await scenarioWithIncident();
    expect(timeToBaseline(scenario, [])).toBe(0);
    expect(timeToBaseline(scenario, [write(700, [100, 100], [200, 0]), write(900, [200, 0], [50, 50])])).toBe(0);
  });
});

describe('Metric: safety violations', () => {
  it.each([
    ['a sensible shift', write(120, [100, 100], [120, 80]), 0],
    ['all weights zero', write(120, [100, 100], [0, 0]), 1],
    ['a large shift into an endpoint with the headroom for it', write(120, [100, 100], [200, 1]), 0],
  ])('counts %s', async (_name, w, expected) => {
    const scenario = await resolveScenario(smallScenario(), SOURCE);
    expect(safetyViolations(scenario, [w], new WorldTruth(scenario))).toBe(expected);
  });

  it('counts a shift that pushes an endpoint past its warm capacity', async () => {
    const scenario = await resolveScenario(
      smallScenario({
        regions: [
          { name: 'a', warmRps: 30 },
          { name: 'b', warmRps: 50 },
        ],
      }),
      SOURCE,
    );
    expect(safetyViolations(scenario, [write(120, [100, 100], [180, 20])], new WorldTruth(scenario))).toBe(1);
    // Moving traffic away from an endpoint already past capacity is not a violation.
    expect(safetyViolations(scenario, [write(120, [180, 20], [150, 50])], new WorldTruth(scenario))).toBe(0);
  });

  it('counts a shift into an endpoint that is down', async () => {
    const scenario = await scenarioWithIncident();
    expect(safetyViolations(scenario, [write(700, [150, 50], [100, 100])], new WorldTruth(scenario))).toBe(1);
  });

  it('counts fewer serving endpoints than minHealthyEndpoints', async () => {
    const raw = smallScenario();
    const scenario = await resolveScenario({ ...raw, service: { ...raw.service!, policy: { safety: { minHealthyEndpoints: 2 } } } }, SOURCE);
    expect(safetyViolations(scenario, [write(120, [100, 100], [100, 0])], new WorldTruth(scenario))).toBe(1);
  });
});

describe('Target: share of the oracle benefit', () => {
  const m = (sloMissFraction: number): ControllerMetrics => ({
    sloMissFraction,
    dnsChanges: 0,
    flaps: 0,
    flapCauses: {},
    timeToMitigateS: null,
    timeToBaselineS: null,
    safetyViolations: 0,
    instanceHours: 0,
    extraInstanceHours: 0,
  });
  it('is (static − steer53) / (static − oracle)', () => {
    expect(
      benefitCaptured({
        static: m(0.1),
        steer53: m(0.02),
        oracle: m(0),
        'route53-health-check': m(0.1),
        'route53-alarm-health-check': m(0.1),
        'naive-threshold': m(0.1),
      }),
    ).toBeCloseTo(0.8, 10);
  });
  it('is null when the oracle gains less than 0.005', () => {
    expect(
      benefitCaptured({
        static: m(0.01),
        steer53: m(0.02),
        oracle: m(0.006),
        'route53-health-check': m(0.1),
        'route53-alarm-health-check': m(0.1),
        'naive-threshold': m(0.1),
      }),
    ).toBeNull();
  });
});
