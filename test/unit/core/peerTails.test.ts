import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialEndpointState } from '../../../functions/core/hysteresis.js';
import { asClearAsPeers, type PeerTailInput } from '../../../functions/core/peerTails.js';
import type { EndpointState, EndpointStatus, EndpointVerdict } from '../../../functions/core/types.js';
import { evaluateEndpoint } from '../../../functions/core/verdicts.js';
import { allOk, makeService, runMinutes, T0, type Health } from '../../support/engineFixtures.js';

const service = makeService();
const ids = ['a', 'b', 'c'];

interface Seen {
  /** p99 in ms, or null for no datapoint. */
  readonly p99: number | null;
  readonly samples?: number;
  readonly failing?: boolean;
}

function verdictOf(seen: Seen): EndpointVerdict {
  const signals = service.endpoints[0]!.signals;
  const p99 = seen.p99 === null ? {} : { p99: { value: seen.p99, sampleCount: seen.samples ?? 5000 } };
  return evaluateEndpoint(signals, { signals: { ...p99, errors: { value: seen.failing ? 6 : 0.1 } } });
}

function stateOf(status: EndpointStatus): EndpointState {
  return { ...initialEndpointState(T0, service.policy), status };
}

/** a in `status`, b and c healthy and serving unless told otherwise. */
function input(
  seen: Record<string, Seen>,
  options: { status?: Partial<Record<string, EndpointStatus>>; weights?: Partial<Record<string, number>> } = {},
): PeerTailInput {
  const status = { a: 'degraded', b: 'healthy', c: 'healthy', ...options.status } as Record<string, EndpointStatus>;
  return {
    ids,
    states: Object.fromEntries(ids.map((id) => [id, stateOf(status[id]!)])),
    current: Object.fromEntries(ids.map((id) => [id, options.weights?.[id] ?? 100])),
    verdicts: Object.fromEntries(ids.map((id) => [id, verdictOf(seen[id]!)])),
    drained: new Set(ids.filter((id) => status[id] === 'drained')),
  };
}

describe('asClearAsPeers', () => {
  it('counts an endpoint out of its healthy state clear when its p99, between clear and trip, is no worse than the healthy peers’ median', () => {
    const judged = asClearAsPeers(input({ a: { p99: 1800 }, b: { p99: 1900 }, c: { p99: 1700 } }));
    expect(judged.a!.verdict).toBe('clear');
    expect(judged.a!.asClearAsPeers).toEqual([{ signal: 'p99', value: 1800, peersMedian: 1800, peers: ['b', 'c'] }]);
    // The signal keeps its own verdict: only the endpoint's is judged against its peers.
    expect(judged.a!.signals.find((s) => s.signal === 'p99')!.verdict).toBe('hold');
    expect(judged.b!.verdict).toBe('hold');
  });

  it('leaves it holding when its p99 is above the peers’ median', () => {
    const judged = asClearAsPeers(input({ a: { p99: 1850 }, b: { p99: 1900 }, c: { p99: 1700 } }));
    expect(judged.a!.verdict).toBe('hold');
    expect(judged.a!.asClearAsPeers).toBeUndefined();
  });

  it('takes no standard from peers whose median is past trip: a service-wide breach is not clear', () => {
    const judged = asClearAsPeers(input({ a: { p99: 1800 }, b: { p99: 2400 }, c: { p99: 2600 } }));
    expect(judged.a!.verdict).toBe('hold');
  });

  it('counts a low-sample p99 in the band as its peers’ too, drained or not', () => {
    for (const status of ['degraded', 'drained', 'recovering'] as const) {
      const judged = asClearAsPeers(input({ a: { p99: 1700, samples: 50 }, b: { p99: 1800 }, c: { p99: 1750 } }, { status: { a: status } }));
      expect(judged.a!.verdict, status).toBe('clear');
    }
  });

  it('never judges a healthy endpoint, a failing one, a breach or missing data, nor against peers not healthy or not serving', () => {
    const peers = { b: { p99: 1900 }, c: { p99: 1900 } };
    const cases: [string, PeerTailInput][] = [
      ['healthy', input({ a: { p99: 1800 }, ...peers }, { status: { a: 'healthy' } })],
      ['failing', input({ a: { p99: 1800, failing: true }, ...peers })],
      ['breaching', input({ a: { p99: 2200 }, b: { p99: 2300 }, c: { p99: 2300 } })],
      ['missing', input({ a: { p99: null }, ...peers })],
      ['peers degraded', input({ a: { p99: 1800 }, ...peers }, { status: { b: 'degraded', c: 'recovering' } })],
      ['peers not serving', input({ a: { p99: 1800 }, ...peers }, { weights: { b: 0, c: 0 } })],
    ];
    for (const [name, given] of cases) {
      const judged = asClearAsPeers(given);
      expect(judged.a, name).toBe(given.verdicts.a);
    }
  });

  it('keeps every verdict it cannot call as clear as the peers, and every one it changes is (property)', () => {
    const status = fc.constantFrom<EndpointStatus>('healthy', 'degraded', 'drained', 'recovering');
    const seen = fc.record({
      p99: fc.option(fc.integer({ min: 200, max: 4000 }), { nil: null }),
      samples: fc.constantFrom(20, 500, 5000),
      failing: fc.boolean(),
    });
    const endpoint = fc.record({ status, seen, weight: fc.constantFrom(0, 50, 100) });
    fc.assert(
      fc.property(fc.array(endpoint, { minLength: 1, maxLength: 5 }), (endpoints) => {
        const names = endpoints.map((_, i) => String.fromCharCode(97 + i));
        const given: PeerTailInput = {
          ids: names,
          states: Object.fromEntries(endpoints.map((e, i) => [names[i], stateOf(e.status)])),
          current: Object.fromEntries(endpoints.map((e, i) => [names[i], e.weight])),
          verdicts: Object.fromEntries(endpoints.map((e, i) => [names[i], verdictOf(e.seen)])),
          drained: new Set(names.filter((_, i) => endpoints[i]!.status === 'drained')),
        };
        const judged = asClearAsPeers(given);
        for (const [i, id] of names.entries()) {
          const before = given.verdicts[id]!;
          const after = judged[id]!;
          if (after === before) continue;
          expect(endpoints[i]!.status).not.toBe('healthy');
          expect(before.failing).toBe(false);
          expect(['hold', 'unknown']).toContain(before.verdict);
          expect(after.verdict).toBe('clear');
          expect(after.signals).toBe(before.signals);
          for (const tail of after.asClearAsPeers!) {
            expect(tail.value).toBeLessThanOrEqual(tail.peersMedian);
            expect(tail.peersMedian).toBeLessThan(2000);
            for (const peer of tail.peers) {
              expect(given.states[peer]!.status).toBe('healthy');
              expect(given.current[peer]).toBeGreaterThan(0);
            }
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decide: recovery against the service’s own tail', () => {
  const recovering = makeService({
    policy: { detection: { clearsToRecover: 3 }, dwell: { minSeconds: 300 }, recovery: { steps: [0.1, 0.5, 1], holdSeconds: 120 } },
  });
  // a fails for three minutes; every endpoint's p99 sits at 1.8 s, between clear (1.5 s) and trip (2 s), throughout.
  const tailInTheBand = (m: number): Record<string, Health> => ({ ...allOk(recovering), a: m < 3 ? 'fail' : 'hold', b: 'hold', c: 'hold' });

  it('recovers an endpoint whose p99 sits in the band with the healthy ones’, and says so in its verdict', () => {
    const steps = runMinutes(recovering, 14, tailInTheBand);
    expect(steps[1]!.state.endpoints.a!.status).toBe('drained');
    expect(steps[6]!.decision.transitions).toEqual([expect.objectContaining({ from: 'drained', to: 'recovering', reason: 'CLEARS_TO_RECOVER' })]);
    expect(steps[6]!.decision.verdicts.a!.asClearAsPeers).toEqual([{ signal: 'p99', value: 1800, peersMedian: 1800, peers: ['b', 'c'] }]);
    expect(steps[13]!.state.endpoints.a!.status).toBe('healthy');
  });

  it('keeps it out while its p99 in the band is worse than the healthy ones’', () => {
    const steps = runMinutes(recovering, 14, (m) => ({ ...tailInTheBand(m), b: 'ok', c: 'ok' }));
    expect(steps.slice(1).every((s) => s.state.endpoints.a!.status === 'drained')).toBe(true);
  });
});
