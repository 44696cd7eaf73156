/**
 * Invariants of the engine over thousands of random observation sequences (fast-check): random
 * services and policies, random health per endpoint per period, alarm-style re-evaluations of the
 * same period, gaps in evaluation, with each decision's weights applied before the next.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serviceSchema, type ServiceConfig } from '../../../functions/core/config.js';
import { decide } from '../../../functions/core/engine.js';
import { sharesOf } from '../../../functions/core/weights.js';
import type { DecideInput, Decision, ServiceState, Weights } from '../../../functions/core/types.js';
import { observe, T0, type Health } from '../../support/engineFixtures.js';

const healths: Health[] = ['ok', 'ok', 'ok', 'slow', 'very-slow', 'hold', 'fail', 'missing', 'low-sample-slow', 'low-sample-fast'];

const serviceArb = fc.integer({ min: 2, max: 5 }).chain((n) =>
  fc
    .record({
      baselines: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: n, maxLength: n }),
      roles: fc.array(fc.constantFrom('active', 'active', 'standby', 'overflow'), { minLength: n, maxLength: n }),
      maxShares: fc.array(fc.constantFrom(1, 1, 0.8, 0.5), { minLength: n, maxLength: n }),
      window: fc.integer({ min: 3, max: 6 }),
      breaches: fc.integer({ min: 1, max: 3 }),
      clears: fc.integer({ min: 1, max: 5 }),
      dwell: fc.constantFrom(0, 60, 120, 300),
      growth: fc.constantFrom(1, 2, 3),
      hold: fc.constantFrom(0, 60, 180),
      steps: fc.constantFrom([1], [0.5, 1], [0.1, 0.25, 0.5, 1]),
      minHealthy: fc.integer({ min: 1, max: n }),
      maxShift: fc.constantFrom(0.1, 0.3, 0.5, 1),
      failStatic: fc.constantFrom(0.34, 0.5, 0.75, 1),
      deadband: fc.integer({ min: 0, max: 5 }),
      budget: fc.integer({ min: 1, max: 12 }),
      interval: fc.constantFrom(0, 120, 180),
    })
    .map((p) =>
      serviceSchema.parse({
        name: 'svc',
        dnsName: 'svc.example.com',
        hostedZoneId: 'Z0123456789ABC',
        policy: {
          detection: { window: p.window, breachesToDegrade: Math.min(p.breaches, p.window), breachesToDrain: Math.min(2, p.window), clearsToRecover: p.clears },
          dwell: { minSeconds: p.dwell, growthFactor: p.growth, maxSeconds: 1800 },
          recovery: { steps: p.steps, holdSeconds: p.hold },
          shedding: { intervalSeconds: p.interval },
          safety: { minHealthyEndpoints: p.minHealthy, maxShiftPerEvaluation: p.maxShift, failStaticFraction: p.failStatic },
          deadbandWeight: p.deadband,
          changeBudget: { maxChangesPerHour: p.budget },
        },
        endpoints: p.baselines.map((baselineWeight, i) => ({
          setIdentifier: `e${i}`,
          region: 'eu-west-1',
          baselineWeight,
          role: i === 0 ? 'active' : p.roles[i],
          capacity: { maxShare: p.maxShares[i] },
          signals: [
            { name: 'p99', source: 'metric', metric: { namespace: 'N', metricName: 'Latency', statistic: 'p99' }, unit: 'ms', trip: 2000, clear: 1500 },
            { name: 'errors', source: 'metric', metric: { namespace: 'N', metricName: 'Errors', statistic: 'Average' }, trip: 5, clear: 1, severity: 'fail' },
          ],
        })),
      }),
    ),
);

interface Tick {
  readonly gapSeconds: 0 | 60 | 300;
  readonly health: readonly Health[];
}

const ticksArb = fc.array(
  fc.record({
    gapSeconds: fc.constantFrom<0 | 60 | 300>(60, 60, 60, 60, 60, 0, 300),
    health: fc.array(fc.constantFrom(...healths), { minLength: 5, maxLength: 5 }),
  }),
  { minLength: 20, maxLength: 120 },
);

interface Trace {
  readonly now: number;
  readonly before: ServiceState | undefined;
  readonly decision: Decision;
  readonly after: ServiceState;
  readonly input: DecideInput;
}

/** Runs the ticks, with "sticky" incidents: each endpoint keeps a condition for a few periods. */
function run(service: ServiceConfig, ticks: readonly Tick[]): Trace[] {
  let state: ServiceState | undefined;
  let weights: Weights = Object.fromEntries(service.endpoints.map((e) => [e.setIdentifier, e.baselineWeight]));
  let now = T0;
  let periodStart = T0 - 60_000;
  const trace: Trace[] = [];
  ticks.forEach((tick, t) => {
    now += tick.gapSeconds === 0 ? 7_000 : tick.gapSeconds * 1000;
    if (tick.gapSeconds !== 0) periodStart = now - 60_000;
    const endpoints = Object.fromEntries(
      service.endpoints.map((e, i) => {
        // Hold each endpoint's condition for a few ticks, so incidents last long enough to act on.
        const sticky = ticks[Math.max(0, t - (t % (2 + i)))]!.health[i]!;
        return [e.setIdentifier, observe(sticky)];
      }),
    );
    const input: DecideInput = { now, observations: { periodStart, endpoints }, state, currentWeights: weights };
    const out = decide(service, input);
    trace.push({ now, before: state, decision: out.decision, after: out.nextState, input });
    state = out.nextState;
    weights = { ...out.decision.targetWeights };
  });
  return trace;
}

const params = { numRuns: 2000 };

describe('engine invariants (property-based)', () => {
  it('never sets every weight to zero, keeps minHealthyEndpoints serving, and writes only integer weights 0–255', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        const need = Math.min(service.policy.safety.minHealthyEndpoints, service.endpoints.length);
        for (const { decision } of run(service, ticks)) {
          const weights = Object.values(decision.targetWeights);
          expect(weights.some((w) => w > 0)).toBe(true);
          expect(weights.filter((w) => w > 0).length).toBeGreaterThanOrEqual(need);
          for (const w of weights) expect(Number.isInteger(w) && w >= 0 && w <= 255).toBe(true);
        }
      }),
      params,
    );
  });

  it('moves no endpoint toward more traffic within its dwell, and restores at most one step per hold', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        const { holdSeconds } = service.policy.recovery;
        for (const { now, before, after } of run(service, ticks)) {
          if (!before) continue;
          for (const [id, next] of Object.entries(after.endpoints)) {
            const prev = before.endpoints[id];
            if (!prev) continue;
            if (next.status === 'recovering' && prev.status !== 'recovering') {
              expect(now - prev.since).toBeGreaterThanOrEqual(prev.dwellSeconds * 1000);
            }
            if (prev.status === 'recovering' && next.status === 'recovering' && next.recoveryStep !== prev.recoveryStep) {
              expect(next.recoveryStep).toBe(prev.recoveryStep + 1);
              expect(now - prev.stepSince).toBeGreaterThanOrEqual(holdSeconds * 1000);
            }
            if (prev.status === 'recovering' && next.status === 'healthy') {
              expect(now - prev.stepSince).toBeGreaterThanOrEqual(holdSeconds * 1000);
            }
          }
        }
      }),
      params,
    );
  });

  it('makes no more non-emergency changes in any hour than the change budget', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        const budget = service.policy.changeBudget.maxChangesPerHour;
        const changes: { at: number; emergency: boolean }[] = [];
        for (const { now, decision } of run(service, ticks)) {
          if (decision.changes.length === 0) continue;
          if (!decision.emergency && decision.mode !== 'pinned') {
            const inHour = changes.filter((c) => now - c.at < 3_600_000).length;
            expect(inHour).toBeLessThan(budget);
          }
          changes.push({ at: now, emergency: decision.emergency });
        }
      }),
      params,
    );
  });

  it('never moves an endpoint on an unknown verdict: its state holds, and the weights are what a hold verdict would give', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        for (const { before, decision, after, input } of run(service, ticks)) {
          if (!before) continue;
          for (const [id, verdict] of Object.entries(decision.verdicts)) {
            if (verdict.verdict !== 'unknown') continue;
            expect(after.endpoints[id]!.status).toBe(before.endpoints[id]!.status);
            // Metamorphic: the same evaluation with this endpoint between its thresholds instead.
            const asHold = decide(service, {
              ...input,
              observations: { ...input.observations, endpoints: { ...input.observations.endpoints, [id]: observe('hold') } },
            });
            const allUnknown = Object.values(decision.verdicts).every((v) => v.verdict === 'unknown');
            // A hold has a value where the unknown had none, and an endpoint out of its healthy state
            // is judged against its healthy peers' values (peerTails.ts): that is evidence, not the unknown.
            const againstPeers = [decision, asHold.decision].some((d) => Object.values(d.verdicts).some((v) => v.asClearAsPeers !== undefined));
            // An unknown past trip keeps a recovering endpoint's step not yet written back
            // (RECOVERY_STEP_WAITS), which a hold within trip writes: it gives the endpoint less, never
            // more (within a weight point: the others' integer weights round differently).
            const waits = decision.reasons.some((r) => r.code === 'RECOVERY_STEP_WAITS' && r.endpoint === id);
            if (decision.mode === 'normal' && asHold.decision.mode === 'normal' && !allUnknown && !againstPeers) {
              const ids = Object.keys(decision.targetWeights);
              const total = (w: Weights) => ids.reduce((sum, i) => sum + w[i]!, 0);
              const point = 1 / Math.min(total(decision.targetWeights), total(asHold.decision.targetWeights));
              if (waits) expect(sharesOf(decision.targetWeights, ids)[id]).toBeLessThanOrEqual(sharesOf(asHold.decision.targetWeights, ids)[id]! + point);
              else expect(decision.targetWeights).toEqual(asHold.decision.targetWeights);
            }
          }
          // With nothing known this period, nothing moves at all.
          if (Object.values(decision.verdicts).every((v) => v.verdict === 'unknown')) expect(decision.changes).toEqual([]);
        }
      }),
      params,
    );
  });

  it('while failing static, sheds nothing: weights move only when an endpoint recovers toward baseline', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        for (const { decision, before, after } of run(service, ticks)) {
          if (decision.mode !== 'fail-static' || !before) continue;
          for (const t of decision.transitions) expect(['recovering', 'healthy']).toContain(t.to);
          for (const [id, next] of Object.entries(after.endpoints)) expect(next.shed).toBeLessThanOrEqual(before.endpoints[id]?.shed ?? 0);
          if (decision.changes.length > 0)
            expect(decision.reasons.some((r) => r.code === 'RECOVERY_STEP' || r.code === 'CLEARS_TO_RECOVER' || r.code === 'RECOVERY_COMPLETE')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same decisions for the same inputs', () => {
    fc.assert(
      fc.property(serviceArb, ticksArb, (service, ticks) => {
        expect(run(service, ticks)).toEqual(run(service, ticks));
      }),
      { numRuns: 300 },
    );
  });
});
