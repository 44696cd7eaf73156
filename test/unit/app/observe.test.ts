import { describe, expect, it } from 'vitest';
import { judgedPeriod, metricRequestsFor, alarmRefsFor, observeServices } from '../../../functions/app/observe.js';
import { InMemoryMetrics } from '../../../functions/adapters/memory/index.js';
import type { MetricRequest, MetricSeries, MetricsSource } from '../../../functions/ports/metrics.js';
import { editableRawConfig, testConfig, T0 } from './runtimeFixtures.js';

const MIN = 60_000;
const service = testConfig().services[0]!;

describe('Function: judgedPeriod', () => {
  it.each([
    // now, delay → the newest period that ended at least `delay` ago
    [Date.UTC(2026, 0, 1, 0, 10, 30), 60, '00:08:00', '00:09:00'],
    [Date.UTC(2026, 0, 1, 0, 10, 0), 60, '00:08:00', '00:09:00'],
    [Date.UTC(2026, 0, 1, 0, 10, 59), 0, '00:09:00', '00:10:00'],
  ])('at %s with a %s s delay judges %s–%s', (now, delay, start, end) => {
    const p = judgedPeriod(now, 60, delay);
    expect([new Date(p.start).toISOString().slice(11, 19), new Date(p.end).toISOString().slice(11, 19)]).toEqual([start, end]);
  });
});

describe('Function: metricRequestsFor / alarmRefsFor', () => {
  it.each<[string, { statistic: string; minSamples?: number }, Partial<MetricRequest>]>([
    ['a p99 that needs 1,000 samples', { statistic: 'p99' }, { sampleCount: true, rankAt: 2_000_000 }],
    // Tail evidence counts the requests past trip (2,000 ms in ModelLatency's microseconds) from the rank and the SampleCount, however few.
    ['a p99 whose signal is content with one sample', { statistic: 'p99', minSamples: 1 }, { sampleCount: true, rankAt: 2_000_000 }],
    ['an average', { statistic: 'Average' }, { sampleCount: false }],
  ])('asks a percentile with its SampleCount and its rank at the trip, another statistic alone: %s', (_, { statistic, minSamples }, asked) => {
    const raw = editableRawConfig();
    const signal = raw.services[0]!.endpoints[0]!.signals[0]! as { metric: { statistic: string }; minSamples?: number };
    signal.metric.statistic = statistic;
    if (minSamples !== undefined) signal.minSamples = minSamples;
    const request = metricRequestsFor(testConfig(raw).services[0]!)[0]!;
    expect({ sampleCount: request.sampleCount, ...(request.rankAt !== undefined ? { rankAt: request.rankAt } : {}) }).toEqual(asked);
  });

  it('asks a per-request share with its SampleCount (the requests it is a share of), and no rank', () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[0]!.signals[0] = {
      name: 'error-rate',
      source: 'metric',
      metric: { namespace: 'Chat/Inference', metricName: 'Error', statistic: 'Average' },
      perRequest: true,
      trip: 0.05,
      clear: 0.01,
      severity: 'fail',
    };
    const request = metricRequestsFor(testConfig(raw).services[0]!)[0]!;
    expect(request).toMatchObject({ query: { metricName: 'Error', statistic: 'Average' }, sampleCount: true });
    expect(request).not.toHaveProperty('rankAt');
  });

  it('asks each metric signal (and the load query) in the endpoint’s region, and each alarm', () => {
    const raw = editableRawConfig();
    raw.services[0]!.endpoints[0]!.load = { namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum' };
    const s = testConfig(raw).services[0]!;
    expect(metricRequestsFor(s).map((r) => [r.key.split('\u0000').slice(1).join('/'), r.query.region, r.query.statistic])).toEqual([
      ['us-east-1/p99-latency', 'us-east-1', 'p99'],
      ['us-east-1/#load', 'us-east-1', 'Sum'],
      ['eu-west-1/p99-latency', 'eu-west-1', 'p99'],
      ['ap-northeast-1/p99-latency', 'ap-northeast-1', 'p99'],
    ]);
    expect(alarmRefsFor(s).map((a) => [a.name, a.region])).toEqual([
      ['chat-us-east-1-5xx', 'us-east-1'],
      ['chat-eu-west-1-5xx', 'eu-west-1'],
      ['chat-ap-northeast-1-5xx', 'ap-northeast-1'],
    ]);
  });
});

describe('Function: observeServices', () => {
  function source(series: MetricSeries): MetricsSource {
    return { fetchMetrics: async (requests) => new Map(requests.map((r) => [r.key, series])), fetchAlarmStates: async () => new Map() };
  }
  const start = T0 - 150_000; // 00:08:00, the judged period at T0 (00:10:30)

  it('takes the judged period’s datapoint with its sample count', async () => {
    const result = (
      await observeServices(
        source({ values: [{ timestamp: start, value: 2_000_000 }], sampleCounts: [{ timestamp: start, value: 4000 }], complete: true }),
        [service],
        T0,
      )
    ).get('chat')!;
    expect(result.observations.periodStart).toBe(start);
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toEqual({ value: 2_000_000, periodStart: start, sampleCount: 4000 });
  });

  it('leaves out a stale datapoint from an earlier period: missing, not healthy', async () => {
    const result = (await observeServices(source({ values: [{ timestamp: start - 2 * MIN, value: 1 }], complete: true }), [service], T0)).get('chat')!;
    expect(result.observations.periodStart).toBe(start);
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toBeUndefined();
  });

  describe('a newest period not yet published', () => {
    // Which endpoints have a datapoint in the newest period (start) and in the one before.
    function partly(newest: readonly string[], before: readonly string[] = ['us-east-1', 'eu-west-1', 'ap-northeast-1']): MetricsSource {
      return {
        fetchMetrics: async (requests) =>
          new Map(
            requests.map((r) => {
              const endpoint = r.key.split('\u0000')[1]!;
              const at = [...(before.includes(endpoint) ? [start - MIN] : []), ...(newest.includes(endpoint) ? [start] : [])];
              return [
                r.key,
                {
                  values: at.map((timestamp) => ({ timestamp, value: 1_000_000 })),
                  sampleCounts: at.map((timestamp) => ({ timestamp, value: 3000 })),
                  complete: true,
                },
              ];
            }),
          ),
        fetchAlarmStates: async () => new Map(),
      };
    }

    it('judges the period before when fewer than half of the endpoints have a datapoint in it, and says so', async () => {
      const result = (await observeServices(partly(['eu-west-1']), [service], T0)).get('chat')!;
      expect(result.observations.periodStart).toBe(start - MIN);
      expect(result.observations.endpoints['us-east-1']!.signals['p99-latency']).toEqual({ value: 1_000_000, periodStart: start - MIN, sampleCount: 3000 });
      expect(result.gaps).toContain(
        `the period from ${new Date(start).toISOString()} is not published yet (2 of 3 endpoints without a datapoint): judging the one before`,
      );
    });

    it.each<[string, string[], string[]]>([
      ['half or more have it (one endpoint down shows as missing)', ['us-east-1', 'eu-west-1'], ['us-east-1', 'eu-west-1', 'ap-northeast-1']],
      ['the period before has no more (metrics lost, or every endpoint down)', [], []],
      ['the period before has no more than the newest', ['eu-west-1'], ['eu-west-1']],
    ])('judges the newest period when %s', async (_name, newest, before) => {
      const result = (await observeServices(partly(newest, before), [service], T0)).get('chat')!;
      expect(result.observations.periodStart).toBe(start);
      expect(result.gaps.some((g) => g.includes('not published yet'))).toBe(false);
    });
  });

  it('gives a percentile whose SampleCount is missing zero samples (low-sample, unknown)', async () => {
    const result = (await observeServices(source({ values: [{ timestamp: start, value: 1 }], sampleCounts: [], complete: true }), [service], T0)).get('chat')!;
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toMatchObject({ sampleCount: 0 });
  });

  it('leaves out incomplete series and says why', async () => {
    const result = (await observeServices(source({ values: [{ timestamp: start, value: 1 }], complete: false, error: 'InternalError' }), [service], T0)).get(
      'chat',
    )!;
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toBeUndefined();
    expect(result.gaps).toContain('eu-west-1/p99-latency: InternalError');
  });

  it('turns the load query’s requests per period into requests per second', async () => {
    const raw = editableRawConfig();
    for (const e of raw.services[0]!.endpoints) e.load = { namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum' };
    const metrics = new InMemoryMetrics();
    const s = testConfig(raw).services[0]!;
    metrics.recordSignal(s, 'eu-west-1', 'load', start, { value: 6000 });
    const result = (await observeServices(metrics, [s], T0)).get('chat')!;
    expect(result.observations.endpoints['eu-west-1']!.requestRate).toBe(100);
    expect(result.observations.endpoints['us-east-1']!.requestRate).toBeNull();
  });

  it('takes the busiest of the last three periods as the load: the newest is often still arriving', async () => {
    const raw = editableRawConfig();
    for (const e of raw.services[0]!.endpoints) e.load = { namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum' };
    const metrics = new InMemoryMetrics();
    const s = testConfig(raw).services[0]!;
    // Whole minutes of 6,000 and 5,400 requests, then the judged one with a quarter arrived.
    metrics.recordSignal(s, 'eu-west-1', 'load', start - 2 * MIN, { value: 6000 });
    metrics.recordSignal(s, 'eu-west-1', 'load', start - MIN, { value: 5400 });
    metrics.recordSignal(s, 'eu-west-1', 'load', start, { value: 1500 });
    // Older than three periods: not the load now.
    metrics.recordSignal(s, 'us-east-1', 'load', start - 3 * MIN, { value: 9000 });
    const result = (await observeServices(metrics, [s], T0)).get('chat')!;
    expect(result.observations.endpoints['eu-west-1']!.requestRate).toBe(100);
    expect(result.observations.endpoints['us-east-1']!.requestRate).toBeNull();
  });

  it('counts the requests of the judged period itself: a datapoint of zero is zero, a missing one is null', async () => {
    const raw = editableRawConfig();
    for (const e of raw.services[0]!.endpoints) e.load = { namespace: 'AWS/SageMaker', metricName: 'Invocations', statistic: 'Sum' };
    const metrics = new InMemoryMetrics();
    const s = testConfig(raw).services[0]!;
    // A quiet minute after a busy one: the load is the busy one's, the period's own count is 0.
    metrics.recordSignal(s, 'eu-west-1', 'load', start - MIN, { value: 6000 });
    metrics.recordSignal(s, 'eu-west-1', 'load', start, { value: 0 });
    // Nothing published for the judged period: no count, not zero.
    metrics.recordSignal(s, 'us-east-1', 'load', start - MIN, { value: 3000 });
    const result = (await observeServices(metrics, [s], T0)).get('chat')!;
    expect(result.observations.endpoints['eu-west-1']).toMatchObject({ requestRate: 100, requestsInPeriod: 0 });
    expect(result.observations.endpoints['us-east-1']).toMatchObject({ requestRate: 50, requestsInPeriod: null });
  });

  it('reads the rollout latency signal at the canary statistic beside it, with its SampleCount, where rollouts are on', async () => {
    const raw = editableRawConfig();
    (raw.services[0]!.policy as Record<string, unknown>).rollout = { mode: 'canary' };
    const s = testConfig(raw).services[0]!;
    const canary = metricRequestsFor(s).filter((r) => r.key.endsWith('#canary'));
    expect(canary.map((r) => [r.key.split('\u0000')[1], r.query.metricName, r.query.statistic, r.query.region, r.sampleCount, r.rankAt])).toEqual([
      ['us-east-1', 'ModelLatency', 'p50', 'us-east-1', true, undefined],
      ['eu-west-1', 'ModelLatency', 'p50', 'eu-west-1', true, undefined],
      ['ap-northeast-1', 'ModelLatency', 'p50', 'ap-northeast-1', true, undefined],
    ]);
    const metrics = new InMemoryMetrics();
    metrics.record(canary[1]!.query, start, { value: 171_000, sampleCount: 320 });
    metrics.record(canary[0]!.query, start - MIN, { value: 150_000, sampleCount: 900 });
    const result = (await observeServices(metrics, [s], T0)).get('chat')!;
    expect(result.observations.endpoints['eu-west-1']!.canaryLatency).toEqual({ value: 171_000, sampleCount: 320, periodStart: start });
    // An older period's reading is not this period's: missing.
    expect(result.observations.endpoints['us-east-1']!.canaryLatency).toBeUndefined();
    // Without rollouts nothing more is asked.
    expect(metricRequestsFor(service).some((r) => r.key.endsWith('#canary'))).toBe(false);
  });

  it('asks each percentile signal for its rank at trip, and counts the samples past trip from it', async () => {
    expect(metricRequestsFor(service).map((r) => r.rankAt)).toEqual([2_000_000, 2_000_000, 2_000_000]);
    const result = (
      await observeServices(
        source({
          values: [{ timestamp: start, value: 2_600_000 }],
          sampleCounts: [{ timestamp: start, value: 700 }],
          ranks: [{ timestamp: start, value: 96 }],
          complete: true,
        }),
        [service],
        T0,
      )
    ).get('chat')!;
    // 4% of 700 requests were slower than 2,000,000 µs.
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toEqual({
      value: 2_600_000,
      periodStart: start,
      sampleCount: 700,
      worseThanTrip: 28,
    });
  });

  it('asks ranks in a second call only of percentiles past their trip, and keeps the first answer if that call fails', async () => {
    const calls: MetricRequest[][] = [];
    const value = (key: string) => (key.includes('eu-west-1') ? 2_600_000 : 900_000);
    const metrics = (failSecond: boolean): MetricsSource => ({
      fetchMetrics: async (requests) => {
        calls.push([...requests]);
        if (calls.length > 1 && failSecond) throw new Error('Throttling');
        return new Map(
          requests.map((r) => [
            r.key,
            {
              values: [{ timestamp: start, value: value(r.key) }],
              sampleCounts: [{ timestamp: start, value: 700 }],
              ...(r.rankAt !== undefined ? { ranks: [{ timestamp: start, value: 96 }] } : {}),
              complete: true,
            },
          ]),
        );
      },
      fetchAlarmStates: async () => new Map(),
    });
    const result = (await observeServices(metrics(false), [service], T0)).get('chat')!;
    expect(calls.map((c) => c.map((r) => [r.key.split('\u0000')[1], r.rankAt]))).toEqual([
      [
        ['us-east-1', undefined],
        ['eu-west-1', undefined],
        ['ap-northeast-1', undefined],
      ],
      [['eu-west-1', 2_000_000]],
    ]);
    expect(result.observations.endpoints['eu-west-1']!.signals['p99-latency']).toMatchObject({ worseThanTrip: 28 });
    expect(result.observations.endpoints['us-east-1']!.signals['p99-latency']).not.toHaveProperty('worseThanTrip');
    calls.length = 0;
    const failed = (await observeServices(metrics(true), [service], T0)).get('chat')!;
    expect(failed.observations.endpoints['eu-west-1']!.signals['p99-latency']).toEqual({ value: 2_600_000, periodStart: start, sampleCount: 700 });
    expect(failed.gaps).toEqual(['percentile ranks: Throttling']);
  });

  it('uses a known alarm state instead of asking for it, and counts unreadable alarms as gaps', async () => {
    let asked: string[] = [];
    const metrics: MetricsSource = {
      fetchMetrics: async () => new Map(),
      fetchAlarmStates: async (alarms) => {
        asked = alarms.map((a) => a.name!);
        throw new Error('cloudwatch:DescribeAlarms on eu-west-1 failed: Throttling');
      },
    };
    const result = (await observeServices(metrics, [service], T0, {}, [{ service: 'chat', endpoint: 'eu-west-1', signal: 'error-alarm', state: 'ALARM' }])).get(
      'chat',
    )!;
    expect(asked).toEqual(['chat-us-east-1-5xx', 'chat-ap-northeast-1-5xx']);
    expect(result.observations.endpoints['eu-west-1']!.signals['error-alarm']).toEqual({ alarmState: 'ALARM' });
    expect(result.gaps).toContain('alarm states: cloudwatch:DescribeAlarms on eu-west-1 failed: Throttling');
  });
});
