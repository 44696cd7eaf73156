import { describe, expect, it } from 'vitest';
import { CloudWatchSim, type Datapoint } from '../../sim/cloudwatch.js';
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

const alarm: AlarmModel = { metric: 'errorRate', threshold: 0.05, datapointsToAlarm: 2, evaluationPeriods: 3 };

/** One region whose minutes 0..n-1 are `points` (null = missing), read with a 60 s delay. */
function cloudwatch(points: (Datapoint | null)[]): CloudWatchSim {
  const cw = new CloudWatchSim(1, [99], 60);
  for (const [m, p] of points.entries()) cw.publish(0, m, p);
  return cw;
}

/** Time at which minute m is the newest readable one (60 s delay after the minute ends). */
const readableAt = (m: number) => (m + 2) * 60;

describe('CloudWatch as the controller sees it', () => {
  it('shows a one-minute period only once it is complete and the reporting delay has passed', () => {
    const cw = cloudwatch([point(1000, 0), point(1000, 0)]);
    expect(cw.newestReadableMinute(119)).toBe(-1);
    expect(cw.newestReadableMinute(120)).toBe(0);
    expect(cw.newestReadableMinute(179)).toBe(0);
    expect(cw.newestReadableMinute(180)).toBe(1);
  });

  it.each([
    ['no breaching period', [point(100, 0), point(100, 0), point(100, 0)], 'OK'],
    ['one of three breaching', [point(100, 0), point(100, 50), point(100, 0)], 'OK'],
    ['two of three breaching (M of N)', [point(100, 50), point(100, 0), point(100, 50)], 'ALARM'],
    ['two breaching, one missing', [point(100, 50), null, point(100, 50)], 'ALARM'],
    ['one breaching, two missing', [null, null, point(100, 50)], 'OK'],
    ['every period missing', [null, null, null], 'INSUFFICIENT_DATA'],
    ['no requests at all (no error-rate datapoint)', [point(0, 0), point(0, 0), point(0, 0)], 'INSUFFICIENT_DATA'],
  ] as const)('evaluates an error-rate alarm over %s as %s', (_name, points, state) => {
    expect(cloudwatch([...points]).alarmState(alarm, 0, readableAt(2))).toBe(state);
  });
});
