import { describe, expect, it } from 'vitest';
import { initialEndpointState, stepEndpoint } from '../../../functions/core/hysteresis.js';
import { periodTails, pooledBreach } from '../../../functions/core/pooledTails.js';
import type { EndpointState, EndpointVerdict, PeriodTail, VerdictRecord } from '../../../functions/core/types.js';
import { evaluateEndpoint } from '../../../functions/core/verdicts.js';
import { makeService, MINUTE, T0 } from '../../support/engineFixtures.js';

const service = makeService();
const policy = service.policy;
const signals = service.endpoints[0]!.signals;

/** One period's verdict: the p99 (ms) on `samples` requests, `worse` of them past the 2 s trip when CloudWatch was asked (a value past trip). */
function verdictOf(p99: number, samples: number, worse?: number): EndpointVerdict {
  const p99Observation = { value: p99, sampleCount: samples, ...(worse === undefined ? {} : { worseThanTrip: worse }) };
  return evaluateEndpoint(signals, { signals: { p99: p99Observation, errors: { value: 0.1 } } }, { rules: policy.detection });
}

function record(minute: number, tail: PeriodTail | undefined, verdict: VerdictRecord['verdict'] = 'unknown'): VerdictRecord {
  return { periodStart: T0 + minute * MINUTE, verdict, ...(tail ? { tails: { p99: tail } } : {}) };
}

/** Recovering since its step at minute `stepAt`, with these periods in its history. */
function recovering(history: VerdictRecord[], stepAt = 0): EndpointState {
  return { ...initialEndpointState(T0, policy), status: 'recovering', since: T0, stepSince: T0 + stepAt * MINUTE, recoveryStep: 1, history };
}

const slow = (samples: number, worse: number): PeriodTail => ({ samples, worse, allowed: 0.01 });

describe('periodTails', () => {
  it("keeps the p99's count as CloudWatch counted it when the value was past trip", () => {
    expect(periodTails(verdictOf(2600, 60, 2))).toEqual({ tails: { p99: { samples: 60, worse: 2, allowed: expect.closeTo(0.01, 9) } } });
  });

  it('counts a p99 within trip, with no rank asked, as past trip on the most the percentile allows', () => {
    expect(periodTails(verdictOf(900, 5000))).toEqual({ tails: { p99: { samples: 5000, worse: expect.closeTo(50, 6), allowed: expect.closeTo(0.01, 9) } } });
  });

  it('keeps nothing for a p99 past trip with no count of the slow requests, nor for an average', () => {
    expect(periodTails(verdictOf(2600, 60))).toEqual({});
  });
});

describe('pooledBreach', () => {
  it('proves a p99 past trip from periods none of which proves it alone: 9 of 253 over four minutes', () => {
    const periods = [slow(54, 3), slow(48, 1), slow(104, 2), slow(47, 3)];
    for (const tail of periods) expect(verdictOf(3000, tail.samples, tail.worse).verdict).not.toBe('breach');
    const pool = pooledBreach(recovering(periods.map((t, i) => record(i + 1, t))), policy.detection);
    expect(pool).toEqual({ signal: 'p99', periods: 4, samples: 253, worse: 9, allowed: expect.closeTo(0.01, 9) });
  });

  it('does not pool fewer than two periods, nor periods from before the step began', () => {
    expect(pooledBreach(recovering([record(1, slow(253, 9))]), policy.detection)).toBeUndefined();
    const before = [record(1, slow(100, 4)), record(2, slow(100, 4)), record(3, slow(100, 1))];
    expect(pooledBreach(recovering(before, 3), policy.detection)).toBeUndefined();
    expect(pooledBreach(recovering(before, 1), policy.detection)).toMatchObject({ periods: 3, samples: 300, worse: 9 });
  });

  it('reads a period within trip at its allowance: a busy clear minute outweighs a few slow ones', () => {
    const history = [record(1, slow(54, 3)), record(2, slow(48, 2)), record(3, slow(2000, 20), 'clear')];
    expect(pooledBreach(recovering(history.slice(0, 2)), policy.detection)).toBeDefined();
    expect(pooledBreach(recovering(history), policy.detection)).toBeUndefined();
  });

  it('does not pool fewer requests than a healthy p99 needs to have one slow (thin)', () => {
    expect(pooledBreach(recovering([record(1, slow(30, 3)), record(2, slow(40, 3))]), policy.detection)).toBeUndefined();
  });

  it('pools only the periods with the newest allowance (a policy edited in between)', () => {
    const history = [record(1, { samples: 300, worse: 12, allowed: 0.05 }), record(2, slow(60, 3)), record(3, slow(60, 3))];
    expect(pooledBreach(recovering(history), policy.detection)).toMatchObject({ periods: 2, samples: 120, worse: 6 });
    expect(pooledBreach(recovering(history.slice(0, 2)), policy.detection)).toBeUndefined();
  });
});

describe('a recovery step judged on its periods pooled', () => {
  interface Period {
    readonly p99: number;
    readonly samples: number;
    /** Requests past trip, when CloudWatch counted them (a p99 past trip). */
    readonly worse?: number;
  }

  /** A recovery step taken at T0, its first period within trip on 30 requests, then `periods`. */
  function run(periods: readonly Period[]) {
    const state: EndpointState = { ...recovering([]), recoveryFrom: 0, shed: 1 };
    let result = stepEndpoint({ endpoint: 'a', state, verdict: verdictOf(900, 30), periodStart: T0, fresh: true, now: T0 + MINUTE, policy });
    periods.forEach((p, i) => {
      const periodStart = T0 + (i + 1) * MINUTE;
      const verdict = verdictOf(p.p99, p.samples, p.worse);
      result = stepEndpoint({ endpoint: 'a', state: result.state, verdict, periodStart, fresh: true, now: periodStart + MINUTE, policy });
    });
    return result;
  }

  it('fails the step when its periods together prove the p99 past trip, and says so', () => {
    const result = run([
      { p99: 3100, samples: 54, worse: 3 },
      { p99: 3000, samples: 48, worse: 1 },
      { p99: 2400, samples: 104, worse: 2 },
      { p99: 5900, samples: 47, worse: 3 },
    ]);
    expect(result.transition).toMatchObject({ from: 'recovering', reason: 'RECOVERY_FAILED' });
    expect(result.transition!.message).toContain('p99 past trip over the 5 periods since the step, pooled: 9 of 283 requests (3.3%; it allows 1%)');
    expect(result.holds).toContainEqual({ code: 'TAIL_POOLED', endpoint: 'a', message: expect.stringContaining('none does alone: 9 of 283 requests') });
    // The periods keep their own verdicts: none of them is a breach.
    expect(result.state.history.map((r) => r.verdict)).not.toContain('breach');
  });

  it('goes on when the periods together prove nothing', () => {
    const result = run([
      { p99: 3100, samples: 54, worse: 1 },
      { p99: 1200, samples: 48 },
      { p99: 2400, samples: 104, worse: 1 },
    ]);
    expect(result.transition).toBeUndefined();
    expect(result.state.status).toBe('recovering');
  });
});
