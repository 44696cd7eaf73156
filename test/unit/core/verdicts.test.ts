import { describe, expect, it } from 'vitest';
import { signalSchema } from '../../../functions/core/config.js';
import { evaluateEndpoint, evaluateSignal } from '../../../functions/core/verdicts.js';

const p99 = signalSchema.parse({
  name: 'p99',
  source: 'metric',
  metric: { namespace: 'N', metricName: 'Latency', statistic: 'p99' },
  unit: 'ms',
  trip: 2000,
  clear: 1500,
});
const micros = signalSchema.parse({ name: 'model', source: 'sagemaker-model-latency', endpointName: 'e', trip: 2000, clear: 1500 });
const throughput = signalSchema.parse({
  name: 'tps',
  source: 'metric',
  metric: { namespace: 'N', metricName: 'Tokens', statistic: 'Average' },
  direction: 'lower-is-worse',
  trip: 10,
  clear: 20,
});
const errors = signalSchema.parse({
  name: 'errors',
  source: 'metric',
  metric: { namespace: 'N', metricName: 'Errors', statistic: 'Sum' },
  trip: 5,
  clear: 1,
  severity: 'fail',
});
const alarm = signalSchema.parse({ name: 'alarm', source: 'alarm', alarm: { name: 'x' }, severity: 'fail' });

describe('evaluateSignal', () => {
  it.each([
    ['breach above trip', p99, { value: 2400, sampleCount: 5000 }, 'breach'],
    ['hold between clear and trip', p99, { value: 1800, sampleCount: 5000 }, 'hold'],
    ['hold exactly at trip (trip is strict)', p99, { value: 2000, sampleCount: 5000 }, 'hold'],
    ['hold exactly at clear (clear is strict)', p99, { value: 1500, sampleCount: 5000 }, 'hold'],
    ['clear below clear', p99, { value: 900, sampleCount: 5000 }, 'clear'],
    ['unknown when missing', p99, undefined, 'unknown'],
    ['unknown when the value is null', p99, { value: null }, 'unknown'],
    ['unknown when the value is not finite', p99, { value: Number.NaN }, 'unknown'],
    ['unknown when a low-sample p99 is slow (the worst of 50 requests proves nothing)', p99, { value: 2600, sampleCount: 50 }, 'unknown'],
    ['clear when a low-sample p99 is under clear (fast requests are still evidence)', p99, { value: 800, sampleCount: 50 }, 'clear'],
    ['scales microseconds to milliseconds for SageMaker ModelLatency', micros, { value: 2_400_000, sampleCount: 5000 }, 'breach'],
    ['breach below trip when lower is worse', throughput, { value: 5 }, 'breach'],
    ['clear above clear when lower is worse', throughput, { value: 25 }, 'clear'],
    ['hold between when lower is worse', throughput, { value: 15 }, 'hold'],
    ['alarm ALARM is a breach', alarm, { alarmState: 'ALARM' }, 'breach'],
    ['alarm OK is clear', alarm, { alarmState: 'OK' }, 'clear'],
    ['alarm INSUFFICIENT_DATA is unknown', alarm, { alarmState: 'INSUFFICIENT_DATA' }, 'unknown'],
    ['alarm with no state is unknown', alarm, undefined, 'unknown'],
    ['alarm given a metric value is unknown', alarm, { value: 3 }, 'unknown'],
    ['metric given an alarm state is unknown', p99, { alarmState: 'ALARM' }, 'unknown'],
  ] as const)('%s', (_name, signal, observation, expected) => {
    expect(evaluateSignal(signal, observation).verdict).toBe(expected);
  });

  it('measures excess relative to trip', () => {
    expect(evaluateSignal(p99, { value: 3000, sampleCount: 5000 }).excess).toBeCloseTo(0.5);
    expect(evaluateSignal(throughput, { value: 5 }).excess).toBeCloseTo(0.5);
  });

  it('measures excess in absolute units when trip is zero', () => {
    const anyErrors = signalSchema.parse({
      name: 'e',
      source: 'metric',
      metric: { namespace: 'N', metricName: 'Errors', statistic: 'Sum' },
      trip: 0,
      clear: -1,
    });
    expect(evaluateSignal(anyErrors, { value: 3 }).excess).toBe(3);
  });

  it('names the cause of an unknown', () => {
    expect(evaluateSignal(p99, { value: 2600, sampleCount: 50 }).unknownCause).toBe('low-sample');
    expect(evaluateSignal(p99, undefined).unknownCause).toBe('missing');
    expect(evaluateSignal(alarm, { alarmState: 'INSUFFICIENT_DATA' }).unknownCause).toBe('insufficient-data');
  });
});

describe('evaluateEndpoint', () => {
  const signals = [p99, errors];
  it.each([
    ['breach beats everything, and a fail-severity breach is failing', { p99: { value: 900, sampleCount: 5000 }, errors: { value: 40 } }, {}, 'breach', true],
    ['a degrade breach is not failing', { p99: { value: 2400, sampleCount: 5000 }, errors: { value: 0 } }, {}, 'breach', false],
    ['hold beats clear', { p99: { value: 1800, sampleCount: 5000 }, errors: { value: 0 } }, {}, 'hold', false],
    ['missing data makes the endpoint unknown, never clear', { errors: { value: 0 } }, {}, 'unknown', false],
    ['a slow low-sample p99 keeps a serving endpoint unknown', { p99: { value: 2600, sampleCount: 10 }, errors: { value: 0 } }, {}, 'unknown', false],
    [
      'a drained endpoint with no requests recovers on its other signals',
      { p99: { value: 2600, sampleCount: 0 }, errors: { value: 0 } },
      { drained: true },
      'clear',
      false,
    ],
    ['a drained endpoint with only low-sample signals is unknown', { p99: { value: 2600, sampleCount: 0 } }, { drained: true }, 'unknown', false],
    [
      'a drained endpoint with no requests has no p99 datapoint at all, and recovers on its other signals',
      { errors: { value: 0 } },
      { drained: true },
      'clear',
      false,
    ],
    ['a drained endpoint missing a non-percentile signal stays unknown', { p99: { value: 900, sampleCount: 5000 } }, { drained: true }, 'unknown', false],
    ['clear when every signal is clear', { p99: { value: 900, sampleCount: 5000 }, errors: { value: 0 } }, {}, 'clear', false],
  ] as const)('%s', (_name, obs, options, verdict, failing) => {
    const result = evaluateEndpoint(signals, { signals: obs }, options);
    expect(result.verdict).toBe(verdict);
    expect(result.failing).toBe(failing);
  });

  it('takes the largest excess among breaching signals', () => {
    const result = evaluateEndpoint([p99, errors], { signals: { p99: { value: 3000, sampleCount: 5000 }, errors: { value: 5.5 } } });
    expect(result.excess).toBeCloseTo(0.5);
    const reversed = evaluateEndpoint([errors, p99], { signals: { p99: { value: 3000, sampleCount: 5000 }, errors: { value: 5.5 } } });
    expect(reversed.excess).toBeCloseTo(0.5);
  });

  it('a drained endpoint with no requests sets its error alarm in INSUFFICIENT_DATA aside when another signal shows it is up; a region still down shows nothing', () => {
    const withAlarm = [p99, errors, alarm];
    const idle = { p99: { value: 0, sampleCount: 0 }, errors: { value: 0 }, [alarm.name]: { alarmState: 'INSUFFICIENT_DATA' as const } };
    expect(evaluateEndpoint(withAlarm, { signals: idle }, { drained: true }).verdict).toBe('clear');
    expect(evaluateEndpoint(withAlarm, { signals: idle }).verdict).toBe('unknown');
    const down = { [alarm.name]: { alarmState: 'INSUFFICIENT_DATA' as const } };
    expect(evaluateEndpoint(withAlarm, { signals: down }, { drained: true }).verdict).toBe('unknown');
  });

  it('sets an alarm in INSUFFICIENT_DATA aside when a percentile counted enough of the period’s requests and reads clear; not on fewer', () => {
    const fast = signalSchema.parse({ name: 'fast', source: 'alarm', alarm: { name: 'y' }, excess: 9 });
    const withAlarm = [p99, errors, fast];
    const quietAlarm = { [fast.name]: { alarmState: 'INSUFFICIENT_DATA' as const } };
    // 1,500 first tokens this minute, p99 within trip; the 10-second alarm had none in its own half minute.
    const counted = { p99: { value: 900, sampleCount: 1500 }, errors: { value: 0 }, ...quietAlarm };
    expect(evaluateEndpoint(withAlarm, { signals: counted }).verdict).toBe('clear');
    // The same alarm beside a p99 too slow to judge on its samples, or with no requests at all: unknown, as before.
    expect(evaluateEndpoint(withAlarm, { signals: { ...counted, p99: { value: 2600, sampleCount: 50 } } }).verdict).toBe('unknown');
    // Nor does a p99 clear on fewer samples than it needs speak for it (a canary's few fast requests).
    expect(evaluateEndpoint(withAlarm, { signals: { ...counted, p99: { value: 900, sampleCount: 300 } } }).verdict).toBe('unknown');
    expect(evaluateEndpoint(withAlarm, { signals: { ...counted, p99: { value: 0, sampleCount: 0 } } }).verdict).toBe('unknown');
    // Only a count speaks for it: a clear value with no samples (a non-percentile statistic) does not.
    expect(evaluateEndpoint([errors, fast], { signals: { errors: { value: 0 }, ...quietAlarm } }).verdict).toBe('unknown');
    // An alarm in ALARM is never set aside.
    expect(evaluateEndpoint(withAlarm, { signals: { ...counted, [fast.name]: { alarmState: 'ALARM' as const } } }).verdict).toBe('breach');
  });

  it('is unknown when the endpoint has no observations at all', () => {
    expect(evaluateEndpoint(signals, undefined).verdict).toBe('unknown');
  });
});
