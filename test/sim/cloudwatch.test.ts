import { describe, expect, it } from 'vitest';
import { CloudWatchSim, DEFAULT_ALARM, type Datapoint, type PublicationDelay } from '../../sim/cloudwatch.js';
import { LatencyHistogram } from '../../sim/latencyHistogram.js';
import type { AlarmModel } from '../../sim/scenarioSchema.js';

function point(requests: number, serverErrors: number, p99 = 500): Datapoint {
  return {
    requests,
    serverErrors,
    sampleCount: requests - serverErrors,
    latencyPercentiles: new Float64Array([p99]),
    latencyAverage: p99 / 2,
    latencyMaximum: p99 * 2,
    latencyMinimum: 10,
    gpuUtilization: 50,
    queueDepth: 0,
    kvCacheUsage: 40,
  };
}

/** Every part arrives exactly `seconds` after its minute ends. */
const fixed = (seconds: number, parts = 1): PublicationDelay => ({ floorSeconds: seconds, medianSeconds: 0, sigma: 0, parts });
/** The default 5xx alarm: errorRate > 5% for 2 of 3 minutes, missing data missing, no count guard. */
const alarm: AlarmModel = DEFAULT_ALARM;

/** One region whose minutes 0..n-1 are `points` (null = lost), each arriving `delay` after its minute. */
function cloudwatch(points: (Datapoint | null)[], delay: PublicationDelay = fixed(1)): CloudWatchSim {
  const cw = new CloudWatchSim(1, [99], delay, 1);
  for (const [m, p] of points.entries()) cw.publish(0, m, p, null);
  return cw;
}

describe('Class: CloudWatchSim', () => {
  describe('Method: visible', () => {
    it('shows nothing of a minute before its data arrives, then all of it', () => {
      const cw = cloudwatch([point(1000, 0)], fixed(75));
      expect(cw.visible(0, 0, 60 + 74)).toBeNull();
      expect(cw.visible(0, 0, 60 + 75)?.sampleCount).toBe(1000);
    });

    it('shows a partial minute while its parts arrive, with the sample count of what arrived, and revises it', () => {
      const cw = new CloudWatchSim(1, [99], { floorSeconds: 30, medianSeconds: 45, sigma: 0.45, parts: 4 }, 7);
      cw.publish(0, 0, point(1000, 0), null);
      const counts = [60, 90, 100, 120, 150, 200, 400].map((after) => cw.visible(0, 0, 60 + after)?.sampleCount ?? 0);
      for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!);
      expect(counts.some((c) => c > 0 && c < 1000)).toBe(true);
      expect(counts[counts.length - 1]).toBe(1000);
    });

    it('never shows a lost datapoint (missing, not zero)', () => {
      const cw = cloudwatch([null]);
      expect(cw.visible(0, 0, 10_000)).toBeNull();
    });

    it('spreads publication delays between one and two and a half minutes with the default delay', () => {
      const cw = new CloudWatchSim(1, [99], { floorSeconds: 30, medianSeconds: 45, sigma: 0.45, parts: 4 }, 3);
      for (let m = 0; m < 200; m++) cw.publish(0, m, point(100, 0), null);
      let complete60 = 0;
      let complete150 = 0;
      for (let m = 0; m < 200; m++) {
        if (cw.arrivedShare(0, m, (m + 1) * 60 + 60) === 1) complete60++;
        if (cw.arrivedShare(0, m, (m + 1) * 60 + 150) === 1) complete150++;
      }
      expect(complete60 / 200).toBeLessThan(0.2);
      expect(complete150 / 200).toBeGreaterThan(0.8);
    });
  });

  describe('Method: alarmState', () => {
    it.each<[string, readonly (Datapoint | null)[], string]>([
      ['no breaching period → OK', [point(100, 0), point(100, 0), point(100, 0)], 'OK'],
      ['one of three breaching → OK', [point(100, 0), point(100, 50), point(100, 0)], 'OK'],
      ['two of three breaching (M of N) → ALARM', [point(100, 50), point(100, 0), point(100, 50)], 'ALARM'],
      ['two breaching, then one missing: the range reaches back for a third → ALARM', [point(100, 0), point(100, 50), null, point(100, 50)], 'ALARM'],
      ['every period missing → INSUFFICIENT_DATA', [null, null, null], 'INSUFFICIENT_DATA'],
      ['no requests at all (no error-rate datapoint) → INSUFFICIENT_DATA', [point(0, 0), point(0, 0), point(0, 0)], 'INSUFFICIENT_DATA'],
    ])('evaluates an error-rate alarm over %s', (_name, points, state) => {
      // Evaluated once a minute: the evaluation after the last minute's data has arrived.
      expect(cloudwatch([...points]).alarmState(alarm, 0, (points.length + 1) * 60 + 30)).toBe(state);
    });

    it('keeps its state when fewer than N datapoints have arrived (missing data is not considered)', () => {
      const points = [point(100, 50), point(100, 50), point(100, 50), null, null, null, null];
      const cw = cloudwatch(points);
      expect(cw.alarmState(alarm, 0, 4 * 60 + 30)).toBe('ALARM');
      expect(cw.alarmState(alarm, 0, 7 * 60 + 30)).toBe('ALARM');
      expect(cw.alarmState(alarm, 0, 10 * 60 + 30)).toBe('INSUFFICIENT_DATA');
    });

    describe('with treatMissingData notBreaching', () => {
      const notBreaching: AlarmModel = { ...alarm, treatMissingData: 'notBreaching' };

      it.each<[string, readonly (Datapoint | null)[], string]>([
        ['every period missing → OK, never INSUFFICIENT_DATA', [null, null, null], 'OK'],
        ['no requests at all → OK', [point(0, 0), point(0, 0), point(0, 0)], 'OK'],
        ['two breaching, the third missing → ALARM (every real datapoint in the range counts)', [point(100, 50), point(100, 50), null], 'ALARM'],
        ['one breaching, two missing filled in as good → OK', [point(100, 50), null, null], 'OK'],
        ['N real datapoints: judged on them alone, as with missing', [point(100, 50), point(100, 0), point(100, 50)], 'ALARM'],
      ])('evaluates an error-rate alarm over %s', (_name, points, state) => {
        expect(cloudwatch([...points]).alarmState(notBreaching, 0, (points.length + 1) * 60 + 30)).toBe(state);
      });

      it('goes OK once the breaching datapoints leave its evaluation range, where missing keeps ALARM', () => {
        const points = [point(100, 50), point(100, 50), point(100, 50), null, null, null, null];
        const cw = cloudwatch(points);
        expect(cw.alarmState(notBreaching, 0, 4 * 60 + 30)).toBe('ALARM');
        // At 6:30 the range (N + 2 = 5 periods: minutes 1-5) still holds two breaching datapoints.
        expect(cw.alarmState(notBreaching, 0, 6 * 60 + 30)).toBe('ALARM');
        expect(cw.alarmState(notBreaching, 0, 7 * 60 + 30)).toBe('OK');
        expect(cw.alarmState(alarm, 0, 7 * 60 + 30)).toBe('ALARM');
      });
    });

    it('does not see a breach before its datapoints arrive', () => {
      const late = cloudwatch([point(100, 50), point(100, 50), point(100, 50)], fixed(100));
      expect(late.alarmState(alarm, 0, 3 * 60 + 30)).toBe('INSUFFICIENT_DATA');
      expect(late.alarmState(alarm, 0, 5 * 60)).toBe('ALARM');
    });
  });

  describe('Method: alarmState, high-resolution', () => {
    const fast: AlarmModel = {
      metric: 'p99LatencyMs',
      threshold: 20_000,
      datapointsToAlarm: 2,
      evaluationPeriods: 3,
      periodSeconds: 10,
      treatMissingData: 'missing',
      minRequests: 0,
    };
    /** Ten seconds of `n` first tokens at `ms` each. */
    const bin = (n: number, ms: number) => {
      const ttft = new LatencyHistogram();
      for (let i = 0; i < n; i++) ttft.add(ms);
      return { requests: n, serverErrors: 0, ttft };
    };
    /** One region whose 10-second datapoints are `bins` (null = lost), each arriving `delay` s after its end. */
    const highResolution = (bins: readonly (ReturnType<typeof bin> | null)[], delay = 5) => {
      const cw = new CloudWatchSim(1, [99], fixed(60), 1, { floorSeconds: delay, medianSeconds: 0, sigma: 0 });
      for (const [b, p] of bins.entries()) cw.publishHighResolution(0, b, p);
      return cw;
    };

    it('is evaluated every 10 s on 10-second datapoints: ALARM once 2 of the last 3 that arrived are past its threshold', () => {
      const cw = highResolution([bin(50, 500), bin(50, 500), bin(50, 30_000), bin(50, 30_000)]);
      expect(cw.alarmState(fast, 0, 30)).toBe('OK');
      // The fourth datapoint (30-40 s) arrives at 45 s: evaluated at 50 s, not at the next minute.
      expect(cw.alarmState(fast, 0, 40)).toBe('OK');
      expect(cw.alarmState(fast, 0, 50)).toBe('ALARM');
    });

    it('does not see a datapoint before it arrives, and leaves INSUFFICIENT_DATA only with N of them', () => {
      // Arriving at 25, 35 and 45 s.
      const cw = highResolution([bin(50, 30_000), bin(50, 30_000), bin(50, 30_000)], 15);
      expect(cw.alarmState(fast, 0, 20)).toBe('INSUFFICIENT_DATA');
      expect(cw.alarmState(fast, 0, 40)).toBe('INSUFFICIENT_DATA');
      expect(cw.alarmState(fast, 0, 50)).toBe('ALARM');
    });

    it('merges the 10-second datapoints of a longer period: a 30-second p99 is over every request of its 30 s', () => {
      // 2 slow first tokens among 300 are under 1%: each 10 s alone has a p99 past 20 s when it holds both.
      const slow = bin(98, 500);
      slow.ttft.add(30_000, 2);
      const thirty: AlarmModel = { ...fast, periodSeconds: 30, datapointsToAlarm: 1, evaluationPeriods: 1 };
      const tenAlone: AlarmModel = { ...fast, datapointsToAlarm: 1, evaluationPeriods: 1 };
      expect(highResolution([bin(100, 500), slow, bin(100, 500)]).alarmState(thirty, 0, 40)).toBe('OK');
      expect(highResolution([bin(100, 500), slow]).alarmState(tenAlone, 0, 30)).toBe('ALARM');
    });

    it('reads an error share under its minRequests as 0, as its metric math guard does; with no requests, nothing', () => {
      const errors = (requests: number, serverErrors: number) => ({ ...bin(requests - serverErrors, 500), requests, serverErrors });
      const guarded: AlarmModel = { ...fast, metric: 'errorRate', threshold: 0.1, minRequests: 100 };
      // 3 errors of 20 requests (15%) in each 10 s: past 10%, but too few requests to say so.
      const quiet = [errors(20, 3), errors(20, 3), errors(20, 3)];
      expect(highResolution(quiet).alarmState(guarded, 0, 40)).toBe('OK');
      expect(highResolution(quiet).alarmState({ ...guarded, minRequests: 0 }, 0, 40)).toBe('ALARM');
      expect(highResolution([errors(100, 15), errors(100, 15), errors(20, 3)]).alarmState(guarded, 0, 40)).toBe('ALARM');
      expect(highResolution([bin(0, 0), bin(0, 0), bin(0, 0)]).alarmState(guarded, 0, 40)).toBe('INSUFFICIENT_DATA');
    });

    it('has no datapoint for 10 s without first tokens, and a lost one never arrives: INSUFFICIENT_DATA, not OK', () => {
      expect(highResolution([bin(0, 0), null, bin(0, 0)]).alarmState(fast, 0, 60)).toBe('INSUFFICIENT_DATA');
    });
  });

  it('counts a per-request error rate over the requests answered in the minute: its errors and its first tokens', () => {
    const binding = { signal: { metric: { statistic: 'Average', periodSeconds: 60 }, scale: 100 }, measure: 'errorRate', toUnit: 100 } as never;
    // 60 arrived; 12 failed at once; 40 had their first token within the minute (8 more in the next).
    const cw = cloudwatch([{ ...point(60, 12), sampleCount: 40 }]);
    const period = cw.periodDatapoint(binding, 0, 0, 0, 600)!;
    expect(period.sampleCount).toBe(52);
    expect(period.value).toBeCloseTo(12 / 52, 12);
    // A quiet minute: one first token of a request that arrived the minute before, none arrived in it.
    expect(cloudwatch([{ ...point(0, 0), sampleCount: 1 }]).periodDatapoint(binding, 0, 0, 0, 600)).toEqual({ value: 0, sampleCount: 1 });
    expect(cloudwatch([point(0, 0)]).periodDatapoint(binding, 0, 0, 0, 600)).toBeUndefined();
  });

  it('computes a percentile over a multi-minute period from every request of it, not an average of minutes', () => {
    const cw = new CloudWatchSim(1, [99], fixed(1), 1);
    const quiet = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) quiet.add(100);
    const burst = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) burst.add(i < 980 ? 100 : 10_000);
    cw.publish(0, 0, { ...point(1000, 0, quiet.percentile(99)), sampleCount: 1000 }, quiet);
    cw.publish(0, 1, { ...point(1000, 0, burst.percentile(99)), sampleCount: 1000 }, burst);
    const binding = { signal: { metric: { statistic: 'p99', periodSeconds: 120 }, scale: 1 }, measure: 'latency', toUnit: 1 } as never;
    const period = cw.periodDatapoint(binding, 0, 0, 1, 10_000)!;
    // 20 slow requests of 2,000 are 1%: the period's p99 sits at the boundary, not at the mean of the two minutes' p99s.
    expect(period.sampleCount).toBe(2000);
    expect(period.value).toBeLessThan(200);
  });
});
