import { describe, expect, it } from 'vitest';
import type { CapacityTarget } from '../../functions/ports/capacity.js';
import { ManualClock } from '../../functions/adapters/memory/index.js';
import { oracleController } from '../../sim/controllers/oracle.js';
import { GIVE_BACK_AFTER_SECONDS } from '../../sim/controllers/oracleScaling.js';
import { SimCapacityProvider } from '../../sim/controllers/simCapacity.js';
import { steer53RuntimeController } from '../../sim/controllers/steer53Runtime.js';
import { PROBLEM_AFTER_SECONDS, provisioningSeconds, RegionFleet, type RegionScaling } from '../../sim/fleet.js';
import { DEFAULT_UNIT } from '../../sim/latencyModel.js';
import { extraHoursRatio, type ControllerMetrics } from '../../sim/metrics.js';
import { RegionSim } from '../../sim/region.js';
import { runScenario } from '../../sim/run.js';
import { loadScenario, resolveScenario, type Scenario } from '../../sim/scenario.js';
import type { ScenarioInput } from '../../sim/scenarioSchema.js';
import { CONTROLLER_NAMES, runWorld, type ControllerContext, type ControllerName } from '../../sim/world.js';
import { endpoint, problemsOf, SOURCE, smallScenario } from './fixtures.js';

const HEALTHY = { down: false, errorRate: 0, latencyFactor: 1, capacityFactor: 1, addedLatencyMs: 0, metricsMissing: false };
const LOGNORMAL = { minutes: [6, 12] as const, distribution: 'lognormal' as const };

function scaling(overrides: Partial<RegionScaling> = {}): RegionScaling {
  return { maxReplicas: 10, obtainable: 6, provisioning: LOGNORMAL, ...overrides };
}

/** A fleet of plain units: a unit is idle when its `busy` count is 0. */
function fleet(options: { base?: number; scaling?: RegionScaling | null; seed?: number; region?: string } = {}) {
  return new RegionFleet<{ busy: number }>({
    region: options.region ?? 'eu-west-1',
    seed: options.seed ?? 7,
    base: options.base ?? 4,
    scaling: options.scaling === undefined ? scaling() : options.scaling,
    newUnit: () => ({ busy: 0 }),
    isIdle: (unit) => unit.busy === 0,
  });
}

/** Times (s) at which the in-service count rose, stepping the fleet every 10 s up to `until`. */
function arrivals(f: RegionFleet<{ busy: number }>, from: number, until: number): number[] {
  const times: number[] = [];
  let count = f.inServiceCount;
  for (let t = from; t <= until; t += 10) {
    f.advance(t);
    for (let k = count; k < f.inServiceCount; k++) times.push(t);
    count = f.inServiceCount;
  }
  return times;
}

function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((p / 100) * (sorted.length - 1))]!;
}

describe('Fleet: provisioning delays', () => {
  it('draws lognormal delays whose 5th and 95th percentiles are the two minutes given', () => {
    const delays = Array.from({ length: 4000 }, (_, k) => provisioningSeconds(LOGNORMAL, 3, 'eu-west-1', k) / 60);
    expect(percentileOf(delays, 5)).toBeGreaterThan(5.7);
    expect(percentileOf(delays, 5)).toBeLessThan(6.3);
    expect(percentileOf(delays, 50)).toBeCloseTo(Math.sqrt(72), 0);
    expect(percentileOf(delays, 95)).toBeGreaterThan(11.4);
    expect(percentileOf(delays, 95)).toBeLessThan(12.6);
  });

  it('draws uniform delays between the two minutes given, spread over the whole range', () => {
    const delays = Array.from({ length: 2000 }, (_, k) => provisioningSeconds({ minutes: [6, 12], distribution: 'uniform' }, 3, 'eu-west-1', k) / 60);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(6);
    expect(Math.max(...delays)).toBeLessThanOrEqual(12);
    expect(percentileOf(delays, 25)).toBeCloseTo(7.5, 0);
    expect(percentileOf(delays, 75)).toBeCloseTo(10.5, 0);
  });

  it('keys each delay by seed, region and launch index: the same draw however often it is asked', () => {
    const a = provisioningSeconds(LOGNORMAL, 3, 'eu-west-1', 2);
    expect(provisioningSeconds(LOGNORMAL, 3, 'eu-west-1', 2)).toBe(a);
    expect(provisioningSeconds(LOGNORMAL, 4, 'eu-west-1', 2)).not.toBe(a);
    expect(provisioningSeconds(LOGNORMAL, 3, 'ap-northeast-1', 2)).not.toBe(a);
    expect(provisioningSeconds(LOGNORMAL, 3, 'eu-west-1', 3)).not.toBe(a);
  });

  it('gives every controller the same delay for its k-th launch, whenever it asks', () => {
    const early = fleet();
    early.request(100, 7);
    const late = fleet();
    late.request(1000, 7);
    const delaysEarly = arrivals(early, 0, 3000).map((t) => t - 100);
    const delaysLate = arrivals(late, 0, 4000).map((t) => t - 1000);
    expect(delaysEarly).toHaveLength(3);
    // Arrivals land on the next 10-second step: the same delay to within a step.
    const drawn = [0, 1, 2].map((k) => provisioningSeconds(LOGNORMAL, 7, 'eu-west-1', k)).sort((a, b) => a - b);
    for (const [k, d] of delaysEarly.entries()) {
      expect(Math.abs(d - delaysLate[k]!)).toBeLessThan(10);
      expect(d - drawn[k]!).toBeGreaterThanOrEqual(0);
      expect(d - drawn[k]!).toBeLessThan(10);
    }
  });
});

describe('Fleet: capacity that cannot be obtained', () => {
  it('never brings replicas beyond what is obtainable, bills nothing for them, and says so after the platform would', () => {
    const f = fleet({ scaling: scaling({ obtainable: 1 }) });
    f.request(0, 7);
    expect(f.reading(PROBLEM_AFTER_SECONDS - 10)).toEqual({ inService: 4, desired: 7 });
    arrivals(f, 0, 24 * 3600);
    expect(f.inServiceCount).toBe(5);
    expect(f.reading(24 * 3600).problem).toBe('InsufficientInstanceCapacity: 2 of the 7 replicas asked for cannot be obtained in eu-west-1');
    // The configured four all day, and the one launched from its launch at 0.
    expect(f.instanceSeconds(24 * 3600)).toBe(5 * 24 * 3600);
  });

  it('with nothing obtainable, keeps the configured replicas whatever is asked', () => {
    const f = fleet({ scaling: scaling({ obtainable: 0 }) });
    f.request(60, 10);
    arrivals(f, 60, 7200);
    expect(f.inServiceCount).toBe(4);
    expect(f.instanceSeconds(7200)).toBe(4 * 7200);
    f.request(7200, 4);
    expect(f.reading(7200 + PROBLEM_AFTER_SECONDS)).toEqual({ inService: 4, desired: 4 });
  });

  it('launches a waiting replica once room frees', () => {
    const f = fleet({ scaling: scaling({ obtainable: 1, provisioning: { minutes: [1, 1], distribution: 'uniform' } }) });
    f.request(0, 6);
    arrivals(f, 0, 600);
    expect(f.inServiceCount).toBe(5);
    f.request(600, 4); // gives back the waiting one, then drains the launched one
    f.request(610, 5);
    arrivals(f, 610, 1200);
    expect(f.inServiceCount).toBe(5);
  });

  it('refuses what the platform would refuse, changing nothing', () => {
    const f = fleet();
    expect(() => f.request(0, 11)).toThrow("eu-west-1: desired replicas 11 is above the region's maximum of 10");
    expect(() => f.request(0, 0)).toThrow('eu-west-1: desired replicas must be a whole number of at least 1 (got 0); a region with none is an outage');
    expect(() => f.request(0, 2.5)).toThrow('got 2.5');
    expect(() => fleet({ scaling: null }).request(0, 5)).toThrow("eu-west-1: the region cannot scale (no scaling in the scenario's world)");
    expect(f.reading(0)).toEqual({ inService: 4, desired: 4 });
  });
});

describe('Fleet: instance-hours', () => {
  it.each([
    ['nothing asked: the configured replicas throughout', [], 4 * 3600],
    ['two more from 100 s, given back at 1,000 s while idle', [[100, 6] as const, [1000, 4] as const], 4 * 3600 + 2 * 900],
    ['two more asked and given back before they launched: billed from launch to cancel', [[100, 6] as const, [200, 4] as const], 4 * 3600 + 2 * 100],
    ['one given back below the configured replicas at 1,800 s', [[1800, 3] as const], 4 * 3600 - 1800],
  ])('%s', (_, asks, seconds) => {
    const f = fleet({ scaling: scaling({ provisioning: { minutes: [1, 1], distribution: 'uniform' } }) });
    for (let t = 0; t <= 3600; t += 10) {
      for (const [at, desired] of asks) if (at === t) f.request(t, desired);
      f.advance(t);
    }
    expect(f.instanceSeconds(3600)).toBe(seconds);
  });

  it('bills a draining replica until its last request is done', () => {
    const f = fleet({ scaling: scaling({ provisioning: { minutes: [1, 1], distribution: 'uniform' } }) });
    f.request(0, 5);
    f.advance(60);
    const extra = f.inServiceUnits()[4]!;
    extra.busy = 3;
    f.request(600, 4);
    f.advance(600);
    expect(f.drainingUnits()).toEqual([extra]);
    f.advance(700);
    extra.busy = 0;
    f.advance(800);
    expect(f.drainingUnits()).toEqual([]);
    expect(f.instanceSeconds(3600)).toBe(4 * 3600 + 800);
  });
});

describe('Region: graceful scale-in', () => {
  const mix = { prompts: Float32Array.from({ length: 64 }, () => 500), outputs: Float32Array.from({ length: 64 }, () => 200), offset: 0, size: 64 };

  function region(): RegionSim {
    return new RegionSim({
      model: DEFAULT_UNIT,
      replicas: 4,
      networkLatencyMs: 50,
      sloMs: 2000,
      timeoutSeconds: 60,
      seed: 5,
      key: 11,
      name: 'eu-west-1',
      scaling: scaling({ provisioning: { minutes: [0, 0], distribution: 'uniform' } }),
    });
  }

  /** Runs minutes [from, to) at `rps`, giving back to `giveBackTo` replicas at `at`; failed requests and whether anything drained with work in hand. */
  function run(sim: RegionSim, rps: number, giveBackAt: number, giveBackTo: number) {
    let failed = 0;
    let drainedWithWork = false;
    for (let s = 0; s < 180; s++) {
      const t = s * 10;
      if (t === giveBackAt) {
        sim.fleet.request(t, giveBackTo);
        drainedWithWork = sim.fleet.drainingUnits().some((u) => u.waiting + u.batch > 0);
      }
      sim.step(s, t, 10, rps * 10, HEALTHY, mix);
      if ((s + 1) % 6 === 0) {
        const report = sim.takeReport(Math.floor(t / 60));
        failed += report.serverErrors + report.timedOut;
      }
    }
    return { failed, drainedWithWork };
  }

  it('lets the replicas it gives back finish what they hold: no request fails', () => {
    const sim = region();
    sim.fleet.request(0, 8);
    const { failed, drainedWithWork } = run(sim, 12, 900, 4);
    expect(drainedWithWork).toBe(true);
    expect(failed).toBe(0);
    expect(sim.fleet.drainingUnits()).toEqual([]);
    expect(sim.replicas).toBe(4);
  });

  it('sends the replicas it gives back no new request', () => {
    const sim = region();
    sim.fleet.request(0, 8);
    run(sim, 12, 900, 4);
    const given = sim.fleet.inServiceAt(890);
    expect(given).toBe(8);
    expect(sim.fleet.inServiceAt(900)).toBe(4);
  });
});

/** The small two-region scenario with region a able to scale, and its endpoint naming a provider. */
function scalingScenario(overrides: Partial<ScenarioInput> = {}, regionScaling: object = { maxReplicas: 40 }): ScenarioInput {
  const base = smallScenario({ demand: { sources: [{ curve: { kind: 'constant' }, meanRps: 60 }] } });
  const a = endpoint('a', 'us-east-1', 100, 50);
  return {
    ...base,
    regions: [
      { name: 'a', warmRps: 50, scaling: regionScaling as { maxReplicas: number } },
      { name: 'b', warmRps: 50 },
    ],
    service: {
      ...base.service!,
      endpoints: [
        { ...a, capacity: { warmRps: 50, scaling: { provider: { kind: 'ec2-asg', autoScalingGroupName: 'chat-a' }, maxInstances: 30 } } },
        endpoint('b', 'eu-west-1', 100, 50),
      ],
    },
    ...overrides,
  };
}

describe('Scenario format: regions[].scaling', () => {
  it('resolves the defaults: everything up to maxReplicas obtainable, a lognormal 6–12 minutes', async () => {
    const scenario = await resolveScenario(scalingScenario(), SOURCE);
    const replicas = scenario.regions[0]!.replicas;
    expect(scenario.regions[0]!.scaling).toEqual({ maxReplicas: 40, obtainable: 40 - replicas, provisioning: { minutes: [6, 12], distribution: 'lognormal' } });
    expect(scenario.regions[1]!.scaling).toBeNull();
  });

  it.each([
    ['a maximum below the replicas', { maxReplicas: 2 }, /^regions\[0\]\.scaling\.maxReplicas: must be at least the region's replicas \(\d+\)$/],
    [
      'more obtainable than the maximum leaves room for',
      { maxReplicas: 40, obtainable: 39 },
      /^regions\[0\]\.scaling\.obtainable: must be at most maxReplicas − replicas \(40 − \d+ = \d+\)$/,
    ],
    [
      'minutes the wrong way round',
      { maxReplicas: 40, provisioning: { minutes: [12, 6] } },
      /^regions\[0\]\.scaling\.provisioning\.minutes\[1\]: must be at least the low end \(12\)$/,
    ],
    [
      'a lognormal from zero',
      { maxReplicas: 40, provisioning: { minutes: [0, 6] } },
      /^regions\[0\]\.scaling\.provisioning\.minutes\[0\]: must be above 0 for a lognormal delay/,
    ],
    [
      'an unknown distribution',
      { maxReplicas: 40, provisioning: { distribution: 'gamma' } },
      /^regions\[0\]\.scaling\.provisioning\.distribution: must be lognormal or uniform$/,
    ],
    ['a typo', { maxReplica: 40 }, /^regions\[0\]\.scaling/],
  ])('refuses %s, naming the path', async (_, regionScaling, message) => {
    const found = await problemsOf(
      smallScenario({
        regions: [
          { name: 'a', warmRps: 50, scaling: regionScaling as { maxReplicas: number } },
          { name: 'b', warmRps: 50 },
        ],
      }),
    );
    expect(found.some((p) => message.test(p))).toBe(true);
  });

  it('refuses a policy that asks a region that cannot scale, or beyond what it can hold', async () => {
    const noScaling = scalingScenario();
    expect(
      await problemsOf({
        ...noScaling,
        regions: [
          { name: 'a', warmRps: 50 },
          { name: 'b', warmRps: 50 },
        ],
      }),
    ).toEqual(['service.endpoints[0].capacity.scaling: names a capacity provider, but region a cannot scale in this world: give regions[0].scaling']);
    expect(await problemsOf(scalingScenario({}, { maxReplicas: 25 }))).toEqual([
      'service.endpoints[0].capacity.scaling.maxInstances: 30 is above what region a can hold (regions[0].scaling.maxReplicas: 25)',
    ]);
  });

  it('refuses an instance-hours expectation where nothing can scale', async () => {
    expect(await problemsOf(smallScenario({ expect: { extraInstanceHours: { overOracle: { worst: 1.2 } } } }))).toEqual([
      'expect.extraInstanceHours: no region of the scenario can scale (regions[].scaling): nobody can add instances',
    ]);
  });
});

describe('steer53 in the simulator: the capacity provider', () => {
  async function provider(incidents: ScenarioInput['incidents'] = []) {
    const scenario = await resolveScenario(scalingScenario({ incidents }), SOURCE);
    let context: ControllerContext | undefined;
    const clock = new ManualClock(scenario.startMs);
    await runWorld(scenario, (c) => {
      context = c;
      return { name: 'static', evaluations: [], tick() {} };
    });
    const target: CapacityTarget = {
      service: 'chat',
      endpoint: 'a',
      region: 'us-east-1',
      scaling: scenario.service.endpoints[0]!.capacity.scaling!,
    };
    return { scenario, sim: new SimCapacityProvider(context!, clock), clock, fleet: context!.fleets[0]!, target };
  }

  it('reads the replicas in service and asked for; asks the region for more and records the ask', async () => {
    const { scenario, sim, clock, fleet, target } = await provider();
    const replicas = scenario.regions[0]!.replicas;
    expect(await sim.read(target)).toEqual({ inService: replicas, desired: replicas });
    clock.set(scenario.startMs + 60_000);
    await sim.request(target, { desired: replicas + 3, direction: 'out', decisionId: 'd1', reason: 'CAPACITY_REQUESTED' });
    expect(fleet.desired).toBe(replicas + 3);
    expect(await sim.read(target)).toEqual({ inService: replicas, desired: replicas + 3 });
    expect(sim.asks).toEqual([{ t: 60, endpoint: 'a', desired: replicas + 3, direction: 'out', reason: 'CAPACITY_REQUESTED' }]);
  });

  it('throws while the region is down, and for an endpoint with no region or a count the platform refuses', async () => {
    const { scenario, sim, clock, target } = await provider([{ kind: 'outage', region: 'a', start: '10m', duration: '10m' }]);
    clock.set(scenario.startMs + 15 * 60_000);
    await expect(sim.read(target)).rejects.toThrow('capacity: a (us-east-1) is down: its scaling API cannot be reached');
    await expect(sim.request(target, { desired: 20, direction: 'out', decisionId: 'd', reason: 'r' })).rejects.toThrow('is down');
    clock.set(scenario.startMs + 25 * 60_000);
    await expect(sim.read({ ...target, endpoint: 'mars' })).rejects.toThrow('capacity: no region for endpoint "mars" (regions: a, b)');
    await expect(sim.request(target, { desired: 41, direction: 'out', decisionId: 'd', reason: 'r' })).rejects.toThrow("above the region's maximum of 40");
    expect(sim.asks).toEqual([]);
  });

  it("reports the platform's problem once asked-for capacity cannot be obtained", async () => {
    const scenario = await resolveScenario(scalingScenario({}, { maxReplicas: 40, obtainable: 0 }), SOURCE);
    let context: ControllerContext | undefined;
    await runWorld({ ...scenario, steps: 1 } as Scenario, (c) => {
      context = c;
      return { name: 'static', evaluations: [], tick() {} };
    });
    const clock = new ManualClock(scenario.startMs);
    const sim = new SimCapacityProvider(context!, clock);
    const target: CapacityTarget = { service: 'chat', endpoint: 'a', region: 'us-east-1', scaling: scenario.service.endpoints[0]!.capacity.scaling! };
    const replicas = scenario.regions[0]!.replicas;
    await sim.request(target, { desired: replicas + 2, direction: 'out', decisionId: 'd', reason: 'r' });
    clock.set(scenario.startMs + PROBLEM_AFTER_SECONDS * 1000);
    expect(await sim.read(target)).toEqual({
      inService: replicas,
      desired: replicas + 2,
      problem: `InsufficientInstanceCapacity: 2 of the ${replicas + 2} replicas asked for cannot be obtained in a`,
    });
  });
});

describe('Oracle: scales with the same delays', () => {
  const outage = { incidents: [{ kind: 'outage' as const, region: 'b', start: '5m', duration: '15m' }], duration: '50m' };

  it('asks the survivor for its part of the demand when the incident starts, and gives it back after', async () => {
    const scenario = await resolveScenario(scalingScenario(outage), SOURCE);
    const run = await runWorld(scenario, oracleController);
    const replicas = scenario.regions[0]!.replicas;
    const [out, back] = [run.capacityAsks[0]!, run.capacityAsks[run.capacityAsks.length - 1]!];
    expect(out).toMatchObject({ t: 300, endpoint: 'a', direction: 'out' });
    // The 60 requests/s of the last minutes on a, at 85% of what a replica serves within the SLO (a trace's noise aside).
    expect(out.desired).toBeGreaterThanOrEqual(Math.floor(57 / (scenario.regions[0]!.unitCapacityRps * 0.85)));
    expect(out.desired).toBeLessThanOrEqual(Math.ceil(63 / (scenario.regions[0]!.unitCapacityRps * 0.85)));
    expect(back).toMatchObject({ t: 20 * 60 + GIVE_BACK_AFTER_SECONDS, endpoint: 'a', desired: replicas, direction: 'in' });
    expect(run.capacityAsks.every((a) => a.endpoint === 'a')).toBe(true);
    const arrived = run.series.replicas[0]!;
    // Nothing in service within the first 6 minutes of the ask (the lognormal's 5th percentile).
    expect(arrived[10]).toBe(replicas);
    expect(Math.max(...arrived)).toBe(out.desired);
    expect(run.instances[0]!.instanceSeconds).toBeGreaterThan(run.instances[0]!.configuredSeconds);
    expect(run.instances[1]!.instanceSeconds).toBe(run.instances[1]!.configuredSeconds);
  });

  it('asks for nothing when nothing happens, and the baselines never ask', async () => {
    const quiet = await runScenario(await resolveScenario(scalingScenario({ duration: '20m' }), SOURCE));
    for (const name of CONTROLLER_NAMES) expect(quiet.metrics[name].extraInstanceHours).toBe(0);
    const incident = await runScenario(await resolveScenario(scalingScenario(outage), SOURCE));
    for (const name of ['static', 'route53-health-check', 'route53-alarm-health-check', 'naive-threshold'] as const) {
      expect(incident.runs[name].capacityAsks).toEqual([]);
      expect(incident.metrics[name].extraInstanceHours).toBe(0);
    }
    expect(incident.metrics.oracle.extraInstanceHours).toBeGreaterThan(0);
  });

  it('meets what cannot be obtained like anyone: nothing arrives, nothing is billed', async () => {
    const run = await runWorld(await resolveScenario(scalingScenario(outage, { maxReplicas: 40, obtainable: 0 }), SOURCE), oracleController);
    expect(run.capacityAsks.length).toBeGreaterThan(0);
    expect(new Set(run.series.replicas[0]!)).toEqual(new Set([run.series.replicas[0]![0]]));
    expect(run.instances[0]!.instanceSeconds).toBe(run.instances[0]!.configuredSeconds);
  });
});

describe('Metric: extra instance-hours over the oracle', () => {
  const metrics = (steer53: number, oracle: number) =>
    Object.fromEntries(
      CONTROLLER_NAMES.map((name) => [name, { extraInstanceHours: name === 'steer53' ? steer53 : name === 'oracle' ? oracle : 0 } as ControllerMetrics]),
    ) as Record<ControllerName, ControllerMetrics>;

  it.each([
    ['steer53 paid 20% more', 1.2, 1, 1.2],
    ['steer53 paid less', 0.5, 2, 0.25],
    ['neither added any', 0, 0, 0],
    ['only steer53 added some', 0.5, 0, Number.POSITIVE_INFINITY],
    ['steer53 gave back below its configured replicas', -1, 2, 0],
  ])('%s', (_, steer53, oracle, ratio) => {
    expect(extraHoursRatio(metrics(steer53, oracle))).toBe(ratio);
  });
});

describe('Simulator: determinism with scaling', () => {
  it('gives the same numbers, capacity included, for the same scenario and seed', async () => {
    const once = async () => {
      const result = await runScenario(
        await resolveScenario(scalingScenario({ incidents: [{ kind: 'outage', region: 'b', start: '5m', duration: '15m' }], duration: '40m' }), SOURCE),
      );
      return { metrics: result.metrics, replicas: Array.from(result.runs.oracle.series.replicas[0]!), asks: result.runs.oracle.capacityAsks };
    };
    const first = await once();
    expect(first.metrics.oracle.extraInstanceHours).toBeGreaterThan(0);
    expect(await once()).toEqual(first);
  });
});

describe('steer53 asking for capacity in the simulator', () => {
  it('asks the survivors when a region fails, ramps into what arrives, and gives the extra back (capacity-scale-up)', async () => {
    const scenario = await loadScenario('capacity-scale-up', { seed: 3 });
    const run = await runWorld(scenario, steer53RuntimeController);
    const during = run.capacityAsks.filter((a) => a.direction === 'out' && a.t >= 35 * 60 && a.t < 80 * 60);
    expect(during.map((a) => a.endpoint)).toContain('eu-west-1');
    const back = run.capacityAsks.filter((a) => a.direction === 'in');
    expect(back.length).toBeGreaterThan(0);
    // Nothing is given back while us-east-1 is down (35-80 min); the last give-back returns eu-west-1 to the replicas it had.
    for (const a of back) expect(a.t).toBeGreaterThanOrEqual(80 * 60);
    expect(back.filter((a) => a.endpoint === 'eu-west-1').at(-1)!.desired).toBe(14);
    expect(run.evaluations.some((e) => e.reasons.includes('eu-west-1:CAPACITY_IN_SERVICE'))).toBe(true);
  });

  it('says capacity timed out when it cannot be obtained, and plans without it (capacity-unobtainable)', async () => {
    const scenario = await loadScenario('capacity-unobtainable', { seed: 1, durationSeconds: 70 * 60 });
    const run = await runWorld(scenario, steer53RuntimeController);
    expect(run.capacityAsks.some((a) => a.endpoint === 'eu-west-1' && a.direction === 'out')).toBe(true);
    const timedOut = run.evaluations.filter((e) => e.reasons.includes('eu-west-1:CAPACITY_TIMED_OUT'));
    expect(timedOut).toHaveLength(1);
    expect(run.instances.every((r) => r.instanceSeconds === r.configuredSeconds)).toBe(true);
  });
});
