import { describe, expect, it } from 'vitest';
import { naiveThresholdController, route53AlarmHealthCheckController, route53HealthCheckController } from '../../sim/controllers/baselines.js';
import { oracleController } from '../../sim/controllers/oracle.js';
import { resolveScenario } from '../../sim/scenario.js';
import { answeredWeights, runWorld } from '../../sim/world.js';
import { steer53RuntimeController } from '../../sim/controllers/steer53Runtime.js';
import { SOURCE, smallScenario } from './fixtures.js';

const outage = smallScenario({ duration: '40m', incidents: [{ kind: 'outage', region: 'b', start: '15m', duration: '10m' }] });
const gray = smallScenario({
  duration: '40m',
  incidents: [{ kind: 'gray-failure', region: 'b', start: '15m', duration: '10m', latencyFactor: 5, capacityFactor: 0.4 }],
});

describe('Baseline controllers', () => {
  it('route53-health-check fails over a hard-down endpoint once nearly every checker saw 3 failed 30 s checks, and back once it answers again', async () => {
    const run = await runWorld(await resolveScenario(outage, SOURCE), route53HealthCheckController);
    expect(run.writes.map((w) => w.after)).toEqual([
      [100, 0],
      [100, 100],
    ]);
    // Checkers are not coordinated: each checks on its own phase, so the verdict comes 60–90 s after the change.
    expect(run.writes[0]!.t).toBeGreaterThanOrEqual(15 * 60 + 60);
    expect(run.writes[0]!.t).toBeLessThanOrEqual(15 * 60 + 90);
    expect(run.writes[1]!.t).toBeGreaterThanOrEqual(25 * 60 + 60);
    expect(run.writes[1]!.t).toBeLessThanOrEqual(25 * 60 + 90);
    expect(run.writes.every((w) => w.kind === 'health-check')).toBe(true);
  });

  it('route53-health-check does nothing about a slow endpoint: its health check still passes', async () => {
    const run = await runWorld(await resolveScenario(gray, SOURCE), route53HealthCheckController);
    expect(run.writes).toEqual([]);
  });

  describe('route53-alarm-health-check on a region failing a fifth of its requests (its HTTP check passes)', () => {
    const partialErrors = smallScenario({ duration: '60m', incidents: [{ kind: 'errors', region: 'b', start: '15m', duration: '20m', errorRate: 0.2 }] });

    it("takes it out on its error alarm (the endpoint's fail-severity alarm signal) and lets it back once its errors stop", async () => {
      const run = await runWorld(await resolveScenario(partialErrors, SOURCE), route53AlarmHealthCheckController);
      expect(run.writes[0]!.after).toEqual([100, 0]);
      // The alarm needs 2 of 3 minutes past 5%, each read after it is published.
      expect(run.writes[0]!.t).toBeGreaterThanOrEqual(17 * 60);
      expect(run.writes[0]!.t).toBeLessThanOrEqual(20 * 60);
      expect(run.evaluations[0]!.reasons[0]).toContain('b unhealthy (error alarm errors: errorRate > 0.05)');
      // Out of the answers, its few requests leave the alarm without data: notBreaching lets it back
      // (and its errors take it out again) while they last; after them it stays in.
      expect(run.writes.at(-1)!.after).toEqual([100, 100]);
      expect(run.writes.at(-1)!.t).toBeLessThan(45 * 60);
    });

    it('leaves it in with errorAlarms false, as route53-health-check does', async () => {
      const latencyOnly = { ...partialErrors, baselines: { alarmHealthCheck: { errorAlarms: false } } };
      const alarmOnly = await runWorld(await resolveScenario(latencyOnly, SOURCE), route53AlarmHealthCheckController);
      expect(alarmOnly.writes).toEqual([]);
      const http = await runWorld(await resolveScenario(partialErrors, SOURCE), route53HealthCheckController);
      expect(http.writes).toEqual([]);
    });

    it('leaves it in when its error alarm is high-resolution: Route 53 health checks take standard-resolution alarms only', async () => {
      const fast = { metric: 'errorRate' as const, threshold: 0.05, periodSeconds: 10 as const, datapointsToAlarm: 2, evaluationPeriods: 3 };
      const highResolution = { ...partialErrors, alarms: { 'a-5xx': fast, 'b-5xx': fast } };
      const run = await runWorld(await resolveScenario(highResolution, SOURCE), route53AlarmHealthCheckController);
      expect(run.writes).toEqual([]);
    });
  });

  it('naive-threshold drains on the first breaching minute it can read and restores on the first that is not', async () => {
    const run = await runWorld(await resolveScenario(gray, SOURCE), naiveThresholdController);
    expect(run.writes.length).toBeGreaterThanOrEqual(2);
    expect(run.writes[0]!.after).toEqual([100, 0]);
    expect(run.writes.at(-1)!.after).toEqual([100, 100]);
  });
});

describe('Oracle', () => {
  it('knows an incident the moment it starts, never before, and goes back to baseline once it ends', async () => {
    const run = await runWorld(await resolveScenario(outage, SOURCE), oracleController);
    expect(run.writes[0]!.t).toBeGreaterThanOrEqual(15 * 60);
    expect(run.writes[0]!.t).toBeLessThan(15 * 60 + 20);
    expect(run.writes[0]!.after[1]).toBe(0);
    expect(run.writes.at(-1)!.after).toEqual([100, 100]);
    expect(run.writes.at(-1)!.t).toBeGreaterThanOrEqual(25 * 60);
  });

  it('leaves a healthy world alone', async () => {
    const run = await runWorld(await resolveScenario(smallScenario(), SOURCE), oracleController);
    expect(run.writes).toEqual([]);
  });
});

describe('Route 53 answers with health checks (static stability)', () => {
  it.each<[string, number[], boolean[], number[]]>([
    ['healthy records with nonzero weight, by weight', [100, 50, 0], [true, true, true], [100, 50, 0]],
    ['an unhealthy record left out', [100, 50, 0], [false, true, true], [0, 50, 0]],
    ['the healthy zero-weight records, equally, when no nonzero one is healthy', [100, 0, 0], [false, true, true], [0, 1, 1]],
    ['every record as if healthy when none is', [100, 50, 0], [false, false, false], [100, 50, 0]],
    ['every record equally when none is healthy and all weigh 0', [0, 0], [false, false], [1, 1]],
  ])('answers %s', (_name, weights, healthy, answered) => {
    expect(answeredWeights(weights, healthy)).toEqual(answered);
  });

  it("takes a dead region out of steer53's answers as fast as route53-health-check does, while its weights stay what steer53 wrote", async () => {
    const scenario = await resolveScenario(outage, SOURCE);
    const run = await runWorld(scenario, steer53RuntimeController);
    const masked = run.writes.find((w) => w.kind === 'health-check')!;
    expect(masked.after).toEqual([100, 0]);
    expect(masked.t).toBeGreaterThanOrEqual(15 * 60 + 60);
    expect(masked.t).toBeLessThanOrEqual(15 * 60 + 90);
    // steer53's own drain comes later (its metrics arrive a minute or two late) and is an API write.
    expect(run.writes.filter((w) => w.kind === 'api' && w.t < masked.t)).toEqual([]);
  });

  it('leaves steer53 alone with its weights under staticStability.healthChecks none', async () => {
    const scenario = await resolveScenario({ ...outage, staticStability: { healthChecks: 'none' } }, SOURCE);
    const run = await runWorld(scenario, steer53RuntimeController);
    expect(run.writes.every((w) => w.kind === 'api')).toBe(true);
    // Its own drain, on one period of errors far past trip (b keeps what a cannot take: CAPACITY_LIMITED).
    expect(run.writes[0]).toMatchObject({ kind: 'api', why: expect.stringContaining('b:FAIL_UNAMBIGUOUS') });
    expect(run.writes[0]!.after[1]).toBeLessThan(10);
  });
});

describe('steer53 with a high-resolution alarm', () => {
  /** `gray` (b slow from 15 min, at 40% of its capacity) with each region's `fast` alarm: p99 above 20 s for 2 of 3 ten-second periods, standing for excess 9. */
  function withFastAlarm(): ReturnType<typeof smallScenario> {
    const base = smallScenario();
    const service = base.service!;
    return {
      ...gray,
      incidents: [{ kind: 'gray-failure', region: 'b', start: '15m', duration: '10m', latencyFactor: 6, capacityFactor: 1 }],
      alarms: { '{region}-ttft-fast': { metric: 'p99LatencyMs', threshold: 20_000, periodSeconds: 10, datapointsToAlarm: 2, evaluationPeriods: 3 } },
      service: {
        ...service,
        endpoints: service.endpoints.map((e) => ({
          ...e,
          signals: [...e.signals, { name: 'fast', source: 'alarm' as const, alarm: { name: `${e.setIdentifier}-ttft-fast` }, excess: 9 }],
        })),
      },
    };
  }

  it('cuts a region slow at a load it was sized for within a minute of the alarm, before its minute metrics are published', async () => {
    const fast = withFastAlarm();
    const { alarms: _none, ...minuteOnly } = fast;
    const firstCut = async (raw: typeof fast) => {
      const run = await runWorld(await resolveScenario(raw, SOURCE), steer53RuntimeController);
      return run.writes.find((w) => w.kind === 'api' && w.after[1]! < w.before[1]!)?.t;
    };
    const withAlarm = await firstCut(fast);
    // Without the alarm's model, the sim's default alarm (5xx) stands behind `fast`: what minute metrics alone do.
    const without = await firstCut(minuteOnly as typeof fast);
    expect(withAlarm).toBeDefined();
    expect(without).toBeDefined();
    // The onset is at 15:00; the minute it shows in is published a minute or two after it ends.
    expect(withAlarm!).toBeLessThan(17 * 60);
    expect(without! - withAlarm!).toBeGreaterThanOrEqual(60);
  });
});
