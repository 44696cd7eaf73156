import { describe, expect, it } from 'vitest';
import { serviceSchema, type ServiceConfig } from '../../../functions/core/config.js';
import { decide, initialServiceState } from '../../../functions/core/engine.js';
import type { CapacityReading, CapacityRequest, Decision, ServiceState, Weights } from '../../../functions/core/types.js';
import { codes, makeService, MINUTE, observe, T0, type Health } from '../../support/engineFixtures.js';

/** Requests per second the whole service receives. */
const DEMAND = 70;

type PolicyInput = Parameters<typeof makeService>[0] extends infer O ? (O extends { policy?: infer P } ? P : never) : never;

/**
 * Three regions as in capacity-constrained-failover: a (baseline 100, 60 rps warm), b (60, 35 rps
 * warm on 10 instances, up to 30) and c (35, 20 rps warm). Only b names a capacity provider.
 */
function service(scaling: Record<string, unknown> = {}, policy: PolicyInput = {}): ServiceConfig {
  return makeService({
    baselines: [100, 60, 35],
    policy,
    endpoints: [
      { capacity: { warmRps: 60 } },
      { capacity: { warmRps: 35, scaling: { provider: { kind: 'ec2-asg', autoScalingGroupName: 'chat-b' }, maxInstances: 30, ...scaling } } },
      { capacity: { warmRps: 20 } },
    ],
  });
}

/** A platform that brings what was asked into service `delay` minutes later (never, with `delay` null). */
class Platform {
  desired = 10;
  inService = 10;
  private arrivals: { at: number; count: number }[] = [];
  readonly asks: { minute: number; request: CapacityRequest }[] = [];

  constructor(private readonly delay: number | null) {}

  reading(minute: number): CapacityReading {
    for (const a of this.arrivals.filter((x) => x.at <= minute)) this.inService = a.count;
    this.arrivals = this.arrivals.filter((x) => x.at > minute);
    return { inService: this.inService, desired: this.desired };
  }

  ask(minute: number, request: CapacityRequest): void {
    this.asks.push({ minute, request });
    this.desired = request.to;
    if (request.direction === 'in') this.inService = Math.min(this.inService, request.to);
    else if (this.delay !== null) this.arrivals.push({ at: minute + this.delay, count: request.to });
  }
}

interface Run {
  readonly decisions: Decision[];
  readonly weights: Weights[];
  readonly state: ServiceState;
}

/** Runs the engine a minute at a time: each endpoint reports the share of demand its weight sends it (a failing one reports nothing). */
function run(
  svc: ServiceConfig,
  minutes: number,
  health: (m: number) => Record<string, Health>,
  platform: Platform,
  start?: ServiceState,
  checks?: (m: number) => Record<string, 'healthy' | 'unhealthy'>,
): Run {
  let state = start;
  let weights: Weights = Object.fromEntries(svc.endpoints.map((e) => [e.setIdentifier, e.baselineWeight]));
  const decisions: Decision[] = [];
  const seen: Weights[] = [];
  for (let m = 0; m < minutes; m++) {
    const now = T0 + m * MINUTE;
    const sum = Object.values(weights).reduce((s, w) => s + w, 0);
    const h = health(m);
    const endpoints = Object.fromEntries(
      svc.endpoints.map((e) => {
        const id = e.setIdentifier;
        const rate = (weights[id]! / sum) * DEMAND;
        const check = checks?.(m)[id];
        return [id, { ...observe(h[id] ?? 'ok', h[id]?.startsWith('fail') ? undefined : rate), ...(check ? { healthCheck: check } : {}) }];
      }),
    );
    const { decision, nextState } = decide(svc, {
      now,
      observations: { periodStart: now - MINUTE, endpoints },
      state,
      currentWeights: weights,
      capacity: { b: platform.reading(m) },
    });
    for (const request of decision.capacityRequests) platform.ask(m, request);
    state = nextState;
    weights = { ...decision.targetWeights };
    decisions.push(decision);
    seen.push(weights);
  }
  return { decisions, weights: seen, state: state! };
}

/** The state after a quiet minute, with b holding `asked` instances (in service) from an ask made `agoMinutes` before T0. */
function holding(svc: ServiceConfig, platform: Platform, asked: number, agoMinutes: number): ServiceState {
  const { state } = run(svc, 1, () => ({}), platform);
  platform.desired = asked;
  platform.inService = asked;
  return { ...state, capacity: { b: { ...state.capacity.b!, asked, askedAt: T0 - agoMinutes * MINUTE } } };
}

/** a hard down from minute 3 to `until`. */
const outage =
  (until: number) =>
  (m: number): Record<string, Health> =>
    m >= 3 && m < until ? { a: 'fail-severe' } : {};

const share = (w: Weights, id: string) => w[id]! / Object.values(w).reduce((s, x) => s + x, 0);

describe('the capacity handshake', () => {
  it('asks the receiving endpoint for what its share of the failed one needs, at the minute traffic moves', () => {
    const platform = new Platform(8);
    const { decisions } = run(service(), 6, outage(60), platform);
    expect(platform.asks).toHaveLength(1);
    const [{ minute, request }] = platform.asks as [{ minute: number; request: CapacityRequest }];
    expect(minute).toBe(3);
    expect(request).toMatchObject({ endpoint: 'b', direction: 'out', from: 10, inService: 10, reason: 'CAPACITY_REQUESTED' });
    // c fills to its own warm headroom (17 rps); b takes the rest of the 70 rps: ~53 rps at 0.85 of 3.5 rps per instance.
    expect(request.to).toBe(18);
    expect(decisions[3]!.notifications.map((n) => n.reason)).toContain('CAPACITY_REQUESTED');
  });

  it('ramps the weights up as the instances come into service, and tells their arrival once', () => {
    const platform = new Platform(8);
    const { decisions, weights } = run(service(), 20, outage(60), platform);
    const before = share(weights[5]!, 'b');
    const after = share(weights[19]!, 'b');
    expect(after).toBeGreaterThan(before + 0.05);
    const arrivals = decisions.flatMap((d, m) => (codes(d).includes('CAPACITY_IN_SERVICE') ? [m] : []));
    expect(arrivals).toEqual([11]);
  });

  it('gives back what the plan no longer needs once the failed endpoint is back (recovering or healthy) and the cooldown has passed: never below what it had', () => {
    const platform = new Platform(8);
    const { state, decisions } = run(service({ scaleInCooldownSeconds: 900 }), 120, outage(30), platform);
    const back = platform.asks.filter((a) => a.request.direction === 'in');
    expect(back.length).toBeGreaterThanOrEqual(1);
    expect(back.at(-1)!.request).toMatchObject({ to: 10, reason: 'CAPACITY_RELEASED' });
    expect(back.map((a) => a.request.to)).toEqual([...back.map((a) => a.request.to)].sort((x, y) => y - x));
    expect(state.capacity.b).toMatchObject({ asked: null, base: 10, timedOut: false });
    // Nothing is given back while a is drained.
    const drainedUntil = decisions.findIndex((d, m) => m > 3 && d.transitions.some((t) => t.endpoint === 'a' && t.from === 'drained'));
    expect(drainedUntil).toBeGreaterThan(30);
    expect(back[0]!.minute).toBeGreaterThanOrEqual(drainedUntil);
  });

  it('gives back step by step as the recovering endpoint takes its traffic back: the cooldown runs from the ask, not from each give-back', () => {
    const platform = new Platform(8);
    run(service({ scaleInCooldownSeconds: 900 }), 120, outage(30), platform);
    const asks = platform.asks.map((a) => [a.minute, a.request.direction, a.request.to]);
    // Asked at minute 3; a is back from minute 30 and takes its recovery steps 5 minutes apart
    // (minutes 39, 44, 49). Each give-back comes shedding.intervalSeconds (3 minutes) after the step
    // that cut b's share: b's clients follow DNS a resolver TTL later, so until then the load is still there.
    expect(asks).toEqual([
      [3, 'out', 18],
      [42, 'in', 15],
      [47, 'in', 12],
      [52, 'in', 10],
    ]);
  });

  it('keeps the receivers’ instances until a region restored by its health check has its traffic back (clients follow DNS a TTL later)', () => {
    const platform = new Platform(8);
    const checks = (m: number) => ({ a: m >= 4 && m < 30 ? ('unhealthy' as const) : ('healthy' as const) });
    const { decisions } = run(service({ scaleInCooldownSeconds: 900 }), 45, outage(30), platform, undefined, checks);
    expect(decisions[30]!.transitions).toEqual([expect.objectContaining({ endpoint: 'a', reason: 'HEALTH_CHECK_RESTORED' })]);
    const giveBacks = platform.asks.filter((a) => a.request.direction === 'in').map((a) => a.minute);
    expect(giveBacks.length).toBeGreaterThan(0);
    // a's share comes back in the writes from minute 30 (a step of at most maxShiftPerEvaluation, then
    // the rest): b gives back nothing until shedding.intervalSeconds (180 s) after the last of them.
    const share = (d: Decision) => d.targetWeights.b! / Object.values(d.targetWeights).reduce((x, y) => x + y, 0);
    const cuts = decisions.flatMap((d, m) => (m >= 30 && d.changes.length > 0 && share(d) < share(decisions[m - 1]!) ? [m] : []));
    expect(cuts[0]).toBe(30);
    expect(Math.min(...giveBacks)).toBe(Math.max(...cuts.filter((m) => m < Math.min(...giveBacks))) + 3);
  });

  it('does not ask again after a give-back until an endpoint is drained again', () => {
    const platform = new Platform(8);
    const svc = service({ scaleInCooldownSeconds: 900 });
    const first = run(svc, 120, outage(30), platform);
    const released = first.state.capacity.b!.releasedAt!;
    expect(released).not.toBeNull();
    // Demand jumps right after the give-back, with c slow from its own load: b would receive, yet waits.
    const asksBefore = platform.asks.length;
    const hot = (m: number): Record<string, Health> => (m < 2 ? { c: 'slow' } : { c: 'slow', a: m >= 4 ? 'fail-severe' : 'ok' });
    const after = run(svc, 8, hot, platform, first.state);
    const minutesOfAsks = platform.asks.slice(asksBefore).map((a) => a.minute);
    // The asks that come, come once a is drained (from minute 4).
    for (const m of minutesOfAsks) expect(m).toBeGreaterThanOrEqual(4);
    expect(after.state.capacity.b!.releasedAt).toBe(released);
  });

  it("asks nothing for a demand peak: an endpoint slow from its own load, with none drained, is its platform autoscaling's to follow", () => {
    const svc = service();
    let state: ServiceState | undefined;
    const asked: CapacityRequest[] = [];
    // b degraded (three slow periods) while it runs at its baseline share of 34 requests/s, near its warm capacity.
    for (let m = 0; m < 8; m++) {
      const out = decide(svc, {
        now: T0 + m * MINUTE,
        observations: { periodStart: T0 + (m - 1) * MINUTE, endpoints: { a: observe('ok', 56), b: observe('slow', 34), c: observe('ok', 20) } },
        state,
        capacity: { b: { inService: 10, desired: 10 } },
      });
      state = out.nextState;
      asked.push(...out.decision.capacityRequests);
    }
    expect(state!.endpoints.b!.status).toBe('degraded');
    expect(asked).toEqual([]);
  });

  it('while c is drained for maintenance, asks b for more when it is busy, not when it is as slow at a third of its capacity (a sick region)', () => {
    const svc = service();
    const maintenance = { by: 'ops', reason: 'upgrade', setAt: T0 - MINUTE, until: T0 + 60 * MINUTE, announced: true };
    const asksOfB = (bRate: number) => {
      let state: ServiceState | undefined = { ...initialServiceState(svc, T0), overrides: { drains: { c: maintenance } } };
      let desired = 10;
      const asked: CapacityRequest[] = [];
      for (let m = 0; m < 8; m++) {
        const out = decide(svc, {
          now: T0 + m * MINUTE,
          observations: { periodStart: T0 + (m - 1) * MINUTE, endpoints: { a: observe('ok', 56), b: observe('slow', bRate), c: observe('ok', 0) } },
          state,
          capacity: { b: { inService: 10, desired } },
        });
        state = out.nextState;
        for (const r of out.decision.capacityRequests) desired = r.to;
        asked.push(...out.decision.capacityRequests);
      }
      expect(state!.endpoints.b!.status).toBe('degraded');
      return asked;
    };
    expect(asksOfB(34)).toEqual([expect.objectContaining({ endpoint: 'b', direction: 'out', from: 10, reason: 'CAPACITY_REQUESTED' })]);
    expect(asksOfB(12)).toEqual([]);
  });

  it('gives a small ask back all the way to the base, though it is within the give-back margin', () => {
    const platform = new Platform(1);
    const svc = service({ scaleInCooldownSeconds: 60 });
    // b asked for one instance more than it had, then the incident is over.
    run(svc, 3, () => ({}), platform, holding(svc, platform, 11, 10));
    expect(platform.asks.map((a) => a.request)).toEqual([expect.objectContaining({ direction: 'in', to: 10, reason: 'CAPACITY_RELEASED' })]);
  });

  it("gives a drained endpoint's own extra back after the cooldown, though it is still drained", () => {
    const platform = new Platform(1);
    const svc = service({ scaleInCooldownSeconds: 600 });
    // b holds 15 (10 before the ask, made 5 minutes ago), then fails hard and is drained.
    const { decisions, state: after } = run(svc, 10, () => ({ b: 'fail-severe' }), platform, holding(svc, platform, 15, 5));
    expect(decisions[0]!.transitions).toEqual([expect.objectContaining({ endpoint: 'b', to: 'drained' })]);
    expect(after.endpoints.b!.status).toBe('drained');
    expect(platform.asks).toEqual([
      {
        minute: 5,
        request: {
          endpoint: 'b',
          direction: 'in',
          from: 15,
          to: 10,
          inService: 15,
          reason: 'CAPACITY_RELEASED',
          message: 'b is drained and carries nothing: giving back 5 instances (to 10; 10 before the ask)',
        },
      },
    ]);
  });

  it('never asks past maxInstances, and says it would need more', () => {
    const platform = new Platform(8);
    run(service({ maxInstances: 12 }), 6, outage(60), platform);
    expect(platform.asks.map((a) => a.request)).toEqual([expect.objectContaining({ to: 12, reason: 'CAPACITY_AT_MAX' })]);
  });

  it('asks at most stepInstances at a time, a step per evaluation while more is needed', () => {
    const platform = new Platform(30);
    run(service({ stepInstances: 2 }), 7, outage(60), platform);
    expect(platform.asks.map((a) => a.request.to)).toEqual([12, 14, 16, 18]);
    expect(platform.asks.map((a) => a.minute)).toEqual([3, 4, 5, 6]);
  });

  it('tells once that capacity did not arrive within the timeout, plans with what exists, and asks for no more', () => {
    const platform = new Platform(null);
    const { decisions, state } = run(service({ timeoutSeconds: 600, stepInstances: 3 }), 30, outage(60), platform);
    const timedOut = decisions.flatMap((d, m) => (codes(d).includes('CAPACITY_TIMED_OUT') ? [m] : []));
    expect(timedOut).toHaveLength(1);
    const told = decisions[timedOut[0]!]!.notifications.find((n) => n.reason === 'CAPACITY_TIMED_OUT')!;
    expect(told.severity).toBe('warning');
    expect(told.summary).toContain('planning with the capacity there is');
    const lastAsk = platform.asks.at(-1)!.minute;
    expect(lastAsk).toBeLessThan(timedOut[0]!);
    expect(state.capacity.b!.timedOut).toBe(true);
  });

  it('says what the provider reported when capacity times out', () => {
    const platform = new Platform(null);
    const svc = service({ timeoutSeconds: 300 });
    const first = run(svc, 5, outage(60), platform);
    const asked = first.state.capacity.b!;
    const { decision } = decide(svc, {
      now: asked.askedAt! + 6 * MINUTE,
      observations: { periodStart: asked.askedAt! + 5 * MINUTE, endpoints: { a: observe('fail-severe'), b: observe('ok', 40), c: observe('ok', 25) } },
      state: first.state,
      capacity: { b: { inService: 10, desired: asked.asked, problem: 'InsufficientInstanceCapacity' } },
    });
    expect(decision.reasons.find((r) => r.code === 'CAPACITY_TIMED_OUT')?.message).toContain('InsufficientInstanceCapacity');
  });

  it('asks again, without counting it, when the provider holds less than was asked', () => {
    const platform = new Platform(8);
    const svc = service({}, { capacityBudget: { maxRequestsPerHour: 1 } });
    const first = run(svc, 5, outage(60), platform);
    const asked = first.state.capacity.b!.asked!;
    const { decision, nextState } = decide(svc, {
      now: T0 + 5 * MINUTE,
      observations: { periodStart: T0 + 4 * MINUTE, endpoints: { a: observe('fail-severe'), b: observe('ok', 40), c: observe('ok', 25) } },
      state: first.state,
      capacity: { b: { inService: 10, desired: 10 } },
    });

    expect(decision.capacityRequests).toEqual([expect.objectContaining({ from: 10, to: asked, reason: 'CAPACITY_REQUESTED' })]);
    expect(decision.capacityRequests[0]!.message).toContain('asking again');
    expect(nextState.capacity.b!.requests).toHaveLength(1);
  });

  it('holds every ask while the service is frozen', () => {
    const platform = new Platform(8);
    const svc = service();
    const calm = run(svc, 2, () => ({}), platform);
    const frozen: ServiceState = { ...calm.state, overrides: { freeze: { by: 'ops', reason: 'game day', setAt: T0, until: null, announced: true } } };
    const { decisions } = run(svc, 6, outage(60), platform, frozen);
    expect(platform.asks).toHaveLength(0);
    expect(decisions.some((d) => d.blocked.some((b) => b.code === 'CAPACITY_HELD' && b.message.includes('frozen')))).toBe(true);
  });

  it('spends the capacity budget, then holds further asks with a reason', () => {
    const platform = new Platform(30);
    const { decisions } = run(service({ stepInstances: 1 }, { capacityBudget: { maxRequestsPerHour: 2 } }), 8, outage(60), platform);
    expect(platform.asks).toHaveLength(2);
    expect(decisions.some((d) => codes(d).includes('CAPACITY_BUDGET_EXHAUSTED'))).toBe(true);
  });

  it('asks nothing of an endpoint whose provider could not be read, and says so', () => {
    const svc = service();
    const { decision, nextState } = decide(svc, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: observe('fail-severe'), b: observe('ok', 30), c: observe('ok', 15) } },
      state: undefined,
      capacity: {},
    });
    expect(decision.capacityRequests).toEqual([]);
    expect(decision.reasons).toContainEqual(expect.objectContaining({ code: 'CAPACITY_UNREAD', endpoint: 'b' }));
    expect(nextState.capacity).toEqual({});
  });

  it('asks nothing when demand is steady and within what the endpoint has; the base follows the provider while nothing is asked', () => {
    const platform = new Platform(8);
    const { state } = run(service(), 10, () => ({}), platform);
    expect(platform.asks).toHaveLength(0);
    platform.desired = 12;
    platform.inService = 12;
    const later = run(service(), 2, () => ({}), platform, state);
    expect(later.state.capacity.b!.base).toBe(12);
    expect(later.state.capacity.b!.perInstanceRps).toBeCloseTo(3.5);
  });

  it('without any capacity reading (no provider wired) the engine keeps the state as it was and asks nothing', () => {
    const svc = service();
    const { decision, nextState } = decide(svc, {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: observe('fail-severe'), b: observe('ok', 30), c: observe('ok', 15) } },
      state: undefined,
    });
    expect(decision.capacityRequests).toEqual([]);
    expect(codes(decision)).not.toContain('CAPACITY_UNREAD');
    expect(nextState.capacity).toEqual({});
  });

  it('asks nothing of an endpoint with no instance in service to learn from, and says how to fix it', () => {
    const { decision, nextState } = decide(service(), {
      now: T0,
      observations: { periodStart: T0 - MINUTE, endpoints: { a: observe('fail-severe'), b: observe('ok', 30), c: observe('ok', 15) } },
      state: undefined,
      capacity: { b: { inService: 0, desired: 0 } },
    });
    expect(decision.capacityRequests).toEqual([]);
    expect(decision.reasons).toContainEqual(
      expect.objectContaining({ code: 'CAPACITY_HELD', endpoint: 'b', message: expect.stringContaining('perInstanceRps') }),
    );
    expect(nextState.capacity).toEqual({});
  });

  it('uses a configured perInstanceRps over what it would learn', () => {
    const platform = new Platform(8);
    const { state } = run(service({ perInstanceRps: 5 }), 1, () => ({}), platform);
    expect(state.capacity.b!.perInstanceRps).toBe(5);
  });
});

describe('capacity.scaling in the config', () => {
  const endpoint = (capacity: Record<string, unknown>) => ({
    name: 'chat',
    dnsName: 'chat.example.com',
    hostedZoneId: 'Z1',
    endpoints: [
      {
        setIdentifier: 'a',
        region: 'eu-west-1',
        baselineWeight: 100,
        capacity,
        signals: [{ name: 'p99', source: 'metric', metric: { namespace: 'N', metricName: 'L', statistic: 'p99' }, trip: 2, clear: 1 }],
      },
    ],
  });
  const problems = (capacity: Record<string, unknown>) => {
    const result = serviceSchema.safeParse(endpoint(capacity));
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('needs warmRps or perInstanceRps to size its asks', () => {
    expect(
      problems({ scaling: { provider: { kind: 'generic', inService: { namespace: 'N', metricName: 'Ready', statistic: 'Maximum' } }, maxInstances: 4 } }),
    ).toEqual(['endpoints.0.capacity.scaling.perInstanceRps: is needed when capacity.warmRps is not given: requests are sized from what one instance serves']);
  });

  it('rejects minInstances above maxInstances, an unknown provider kind, and a SageMaker name that is not one', () => {
    const provider = { kind: 'ec2-asg', autoScalingGroupName: 'g' };
    expect(problems({ warmRps: 10, scaling: { provider, maxInstances: 2, minInstances: 3 } })).toEqual([
      'endpoints.0.capacity.scaling.minInstances: must be at most maxInstances (2)',
    ]);
    expect(problems({ warmRps: 10, scaling: { provider: { kind: 'eks' }, maxInstances: 2 } })[0]).toMatch(/^endpoints\.0\.capacity\.scaling\.provider\.kind/);
    expect(problems({ warmRps: 10, scaling: { provider: { kind: 'sagemaker-variant', endpointName: 'bad_name' }, maxInstances: 2 } })).toEqual([
      'endpoints.0.capacity.scaling.provider.endpointName: must be a SageMaker endpoint name',
    ]);
  });

  it('defaults what it can: the variant, the bounds, the timeout and the cooldown', () => {
    const parsed = serviceSchema.parse(
      endpoint({ warmRps: 10, scaling: { provider: { kind: 'sagemaker-variant', endpointName: 'chat-eu' }, maxInstances: 8 } }),
    );
    expect(parsed.endpoints[0]!.capacity.scaling).toEqual({
      provider: { kind: 'sagemaker-variant', endpointName: 'chat-eu', variantName: 'AllTraffic' },
      maxInstances: 8,
      minInstances: 0,
      timeoutSeconds: 900,
      scaleInCooldownSeconds: 900,
    });
  });
});
