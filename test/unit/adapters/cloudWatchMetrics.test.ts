import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudWatchClients } from '../../../functions/adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics, statNumber } from '../../../functions/adapters/aws/cloudWatchMetrics.js';
import type { MetricRequest, ResolvedMetricQuery } from '../../../functions/ports/metrics.js';

const cloudwatch = mockClient(CloudWatchClient);
const sts = mockClient(STSClient);
const T = Date.UTC(2026, 0, 1, 0, 9);
const window = { startTime: T - 60_000, endTime: T };

function query(overrides: Partial<ResolvedMetricQuery> = {}): ResolvedMetricQuery {
  return {
    namespace: 'AWS/SageMaker',
    metricName: 'ModelLatency',
    dimensions: { EndpointName: 'chat', VariantName: 'AllTraffic' },
    statistic: 'p99',
    periodSeconds: 60,
    region: 'eu-west-1',
    ...overrides,
  };
}

interface Created {
  region: string;
  assumed: boolean;
}
let created: Created[];
let providers: (() => Promise<unknown>)[];
let adapter: CloudWatchMetrics;

beforeEach(() => {
  cloudwatch.reset();
  sts.reset();
  created = [];
  providers = [];
  adapter = new CloudWatchMetrics({
    clients: new CloudWatchClients({
      sts: new STSClient({ region: 'us-east-1' }),
      createClient: (config) => {
        created.push({ region: config.region, assumed: config.credentials !== undefined });
        if (config.credentials) providers.push(config.credentials);
        return new CloudWatchClient({ region: config.region, credentials: config.credentials ?? { accessKeyId: 'a', secretAccessKey: 'b' } });
      },
    }),
  });
});

/** Answers each query with one datapoint at the window start: the query's index, or 5000 for a SampleCount. */
function answerAll() {
  cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => ({
      Id: q.Id,
      Timestamps: [new Date(T - 60_000)],
      Values: [q.MetricStat!.Stat === 'SampleCount' ? 5000 : Number(q.Id!.slice(1))],
      StatusCode: 'Complete',
    })),
  }));
}

describe('Class: CloudWatchMetrics', () => {
  describe('Method: fetchMetrics', () => {
    it('asks a percentile together with the SampleCount of the same metric', async () => {
      answerAll();
      const series = await adapter.fetchMetrics([{ key: 'k', query: query() }], window);
      const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
      const metric = {
        Namespace: 'AWS/SageMaker',
        MetricName: 'ModelLatency',
        Dimensions: [
          { Name: 'EndpointName', Value: 'chat' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
      };
      expect(input).toEqual({
        MetricDataQueries: [
          { Id: 'm0', MetricStat: { Metric: metric, Period: 60, Stat: 'p99' }, ReturnData: true },
          { Id: 'm0n', MetricStat: { Metric: metric, Period: 60, Stat: 'SampleCount' }, ReturnData: true },
        ],
        StartTime: new Date(window.startTime),
        EndTime: new Date(window.endTime),
        ScanBy: 'TimestampAscending',
      });
      expect(series.get('k')).toEqual({
        values: [{ timestamp: T - 60_000, value: 0 }],
        sampleCounts: [{ timestamp: T - 60_000, value: 5000 }],
        complete: true,
      });
    });

    it('asks a percentile’s rank at each value asked for, once per value, and gives each request the rank at its own', async () => {
      cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => ({
        MetricDataResults: input.MetricDataQueries.map((q) => {
          const stat = q.MetricStat!.Stat!;
          const value = stat === 'SampleCount' ? 5000 : stat === 'PR(:2.5)' ? 97.5 : stat === 'PR(:0.0001)' ? 0.5 : 2.1;
          return { Id: q.Id, Timestamps: [new Date(T - 60_000)], Values: [value], StatusCode: 'Complete' };
        }),
      }));
      const series = await adapter.fetchMetrics(
        [
          { key: 'a', query: query(), rankAt: 2.5 },
          { key: 'b', query: query(), rankAt: 2.5 },
          { key: 'c', query: query(), rankAt: 0.0001 },
          { key: 'd', query: query() },
          // A plain statistic has no rank: asking for one asks nothing more.
          { key: 'e', query: query({ metricName: 'GPUUtilization', statistic: 'Average' }), rankAt: 95 },
        ],
        window,
      );
      const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
      expect(queries.map((q) => [q.Id, q.MetricStat!.Stat])).toEqual([
        ['m0', 'p99'],
        ['m0n', 'SampleCount'],
        ['m0r0', 'PR(:2.5)'],
        ['m0r1', 'PR(:0.0001)'],
        ['m1', 'Average'],
      ]);
      const at = (value: number) => [{ timestamp: T - 60_000, value }];
      expect(series.get('a')).toEqual({ values: at(2.1), sampleCounts: at(5000), ranks: at(97.5), complete: true });
      expect(series.get('b')).toEqual(series.get('a'));
      expect(series.get('c')).toEqual({ values: at(2.1), sampleCounts: at(5000), ranks: at(0.5), complete: true });
      expect(series.get('d')).toEqual({ values: at(2.1), sampleCounts: at(5000), complete: true });
      expect(series.get('e')).toEqual({ values: at(2.1), complete: true });
    });

    it('leaves out a rank CloudWatch could not compute, keeping the series', async () => {
      cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => ({
        MetricDataResults: input.MetricDataQueries.map((q) =>
          q.Id === 'm0r0'
            ? { Id: q.Id, Timestamps: [], Values: [], StatusCode: 'InternalError', Messages: [{ Code: 'InternalError', Value: 'rank failed' }] }
            : { Id: q.Id, Timestamps: [new Date(T - 60_000)], Values: [q.MetricStat!.Stat === 'SampleCount' ? 5000 : 2.1], StatusCode: 'Complete' },
        ),
      }));
      const series = await adapter.fetchMetrics([{ key: 'a', query: query(), rankAt: 2 }], window);
      expect(series.get('a')).toEqual({
        values: [{ timestamp: T - 60_000, value: 2.1 }],
        sampleCounts: [{ timestamp: T - 60_000, value: 5000 }],
        complete: true,
        error: 'InternalError rank failed',
      });
    });

    it('writes a rank’s value in plain decimals CloudWatch reads (no exponent, at most 10 decimals)', () => {
      expect([2, 1.5, 0.0001, 2_000_000, 1 / 3, 1e-7].map(statNumber)).toEqual(['2', '1.5', '0.0001', '2000000', '0.3333333333', '0.0000001']);
    });

    it('asks no SampleCount for a percentile whose request does not want it', async () => {
      answerAll();
      const series = await adapter.fetchMetrics([{ key: 'k', query: query(), sampleCount: false }], window);
      expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Stat)).toEqual(['p99']);
      expect(series.get('k')).not.toHaveProperty('sampleCounts');
    });

    it('asks a SampleCount once when another request asks that very statistic of the same metric', async () => {
      answerAll();
      const series = await adapter.fetchMetrics(
        [
          { key: 'latency', query: query() },
          { key: 'requests', query: query({ statistic: 'SampleCount' }) },
        ],
        window,
      );
      const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
      expect(queries.map((q) => [q.Id, q.MetricStat!.Stat])).toEqual([
        ['m0', 'p99'],
        ['m1', 'SampleCount'],
      ]);
      expect(series.get('latency')!.sampleCounts).toEqual(series.get('requests')!.values);
    });

    it('asks a plain statistic alone', async () => {
      answerAll();
      const series = await adapter.fetchMetrics([{ key: 'gpu', query: query({ metricName: 'GPUUtilization', statistic: 'Average' }) }], window);
      expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!.map((q) => q.MetricStat!.Stat)).toEqual(['Average']);
      expect(series.get('gpu')).not.toHaveProperty('sampleCounts');
    });

    it('asks an Average together with its SampleCount when the request wants it (a per-request share)', async () => {
      answerAll();
      const errors = query({ metricName: 'Error', statistic: 'Average' });
      const series = await adapter.fetchMetrics([{ key: 'errors', query: errors, sampleCount: true }], window);
      const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
      expect(queries.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat])).toEqual([
        ['m0', 'Error', 'Average'],
        ['m0n', 'Error', 'SampleCount'],
      ]);
      expect(series.get('errors')).toEqual({
        values: [{ timestamp: T - 60_000, value: 0 }],
        sampleCounts: [{ timestamp: T - 60_000, value: 5000 }],
        complete: true,
      });
    });

    it('batches a region’s queries into as few calls as the 500-query limit allows, keeping pairs together', async () => {
      answerAll();
      // 300 percentiles → 600 queries → two calls (250 pairs + 50 pairs).
      const requests: MetricRequest[] = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, query: query({ dimensions: { EndpointName: `e${i}` } }) }));
      const series = await adapter.fetchMetrics(requests, window);
      const calls = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!);
      expect(calls.map((q) => q.length)).toEqual([500, 100]);
      for (const queries of calls) {
        const ids = new Set(queries.map((q) => q.Id));
        for (const q of queries) if (q.Id!.endsWith('n')) expect(ids.has(q.Id!.slice(0, -1))).toBe(true);
      }
      expect(series.get('k299')!.values[0]!.value).toBe(299);
      expect(series.size).toBe(300);
    });

    it('asks the same metric once when several services share it', async () => {
      answerAll();
      const series = await adapter.fetchMetrics(
        [
          { key: 'chat', query: query() },
          { key: 'chat-again', query: query({ dimensions: { VariantName: 'AllTraffic', EndpointName: 'chat' } }) },
        ],
        window,
      );
      expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries).toHaveLength(2);
      expect(series.get('chat')).toEqual(series.get('chat-again'));
    });

    it('uses one client per region and per account role, assuming the role through STS', async () => {
      answerAll();
      sts
        .on(AssumeRoleCommand)
        .resolves({ Credentials: { AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'ST', Expiration: new Date(T + 3_600_000) } });
      const role = 'arn:aws:iam::111122223333:role/steer53-metrics';
      await adapter.fetchMetrics(
        [
          { key: 'a', query: query({ region: 'eu-west-1' }) },
          { key: 'b', query: query({ region: 'us-east-1' }) },
          { key: 'c', query: query({ region: 'eu-west-1', accountRoleArn: role }) },
          { key: 'd', query: query({ region: 'eu-west-1', metricName: 'Other' }) },
        ],
        window,
      );
      expect(created).toEqual([
        { region: 'eu-west-1', assumed: false },
        { region: 'us-east-1', assumed: false },
        { region: 'eu-west-1', assumed: true },
      ]);
      expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(3);
      // The mocked client does not sign, so ask the role's credential provider directly.
      expect(await providers[0]!()).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration: new Date(T + 3_600_000) });
      expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({ RoleArn: role, RoleSessionName: 'steer53' });
    });

    it('follows NextToken and joins the pages of a query', async () => {
      cloudwatch
        .on(GetMetricDataCommand, { NextToken: undefined })
        .resolves({
          MetricDataResults: [
            { Id: 'm0', Timestamps: [new Date(T - 120_000)], Values: [1], StatusCode: 'PartialData' },
            { Id: 'm0n', Timestamps: [new Date(T - 120_000)], Values: [900], StatusCode: 'PartialData' },
          ],
          NextToken: 'page2',
        })
        .on(GetMetricDataCommand, { NextToken: 'page2' })
        .resolves({
          MetricDataResults: [
            { Id: 'm0', Timestamps: [new Date(T - 60_000)], Values: [2], StatusCode: 'Complete' },
            { Id: 'm0n', Timestamps: [new Date(T - 60_000)], Values: [1100], StatusCode: 'Complete' },
          ],
        });
      const series = await adapter.fetchMetrics([{ key: 'k', query: query() }], { startTime: T - 120_000, endTime: T });
      expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
      expect(series.get('k')).toEqual({
        values: [
          { timestamp: T - 120_000, value: 1 },
          { timestamp: T - 60_000, value: 2 },
        ],
        sampleCounts: [
          { timestamp: T - 120_000, value: 900 },
          { timestamp: T - 60_000, value: 1100 },
        ],
        complete: true,
      });
    });

    it('drops a period that has not ended inside the window (still filling)', async () => {
      cloudwatch
        .on(GetMetricDataCommand)
        .resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [new Date(T - 60_000), new Date(T)], Values: [1, 2], StatusCode: 'Complete' }] });
      const series = await adapter.fetchMetrics([{ key: 'k', query: query({ statistic: 'Maximum' }) }], { startTime: T - 60_000, endTime: T + 30_000 });
      expect(series.get('k')!.values).toEqual([{ timestamp: T - 60_000, value: 1 }]);
    });

    it('marks a query CloudWatch could not answer in full as incomplete, with its message', async () => {
      cloudwatch.on(GetMetricDataCommand).resolves({
        MetricDataResults: [
          { Id: 'm0', Timestamps: [], Values: [], StatusCode: 'InternalError', Messages: [{ Code: 'InternalError', Value: 'try later' }] },
          { Id: 'm0n', Timestamps: [], Values: [], StatusCode: 'Complete' },
        ],
      });
      expect((await adapter.fetchMetrics([{ key: 'k', query: query() }], window)).get('k')).toEqual({
        values: [],
        sampleCounts: [],
        complete: false,
        error: 'InternalError try later',
      });
    });

    it('leaves other regions usable when one region fails, reporting the failure per query', async () => {
      answerAll();
      const failing = new CloudWatchMetrics({
        clients: new CloudWatchClients({
          createClient: (config) => {
            const client = new CloudWatchClient({ region: config.region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
            if (config.region === 'us-east-1')
              client.send = (async () => {
                throw Object.assign(new Error('service unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
              }) as never;
            return client;
          },
        }),
      });
      const series = await failing.fetchMetrics(
        [
          { key: 'eu', query: query({ region: 'eu-west-1' }) },
          { key: 'us', query: query({ region: 'us-east-1' }) },
        ],
        window,
      );
      expect(series.get('eu')!.complete).toBe(true);
      expect(series.get('us')).toEqual({
        values: [],
        complete: false,
        error: 'cloudwatch:GetMetricData on us-east-1 failed: ServiceUnavailable: service unavailable',
      });
    });
  });

  it('says which role could not be assumed', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const role = 'arn:aws:iam::111122223333:role/steer53-metrics';
    new CloudWatchClients({
      sts: new STSClient({ region: 'us-east-1' }),
      createClient: (config) => {
        providers.push(config.credentials!);
        return new CloudWatchClient({ region: config.region });
      },
    }).clientFor('eu-west-1', role);
    await expect(providers[0]!()).rejects.toThrow(`sts:AssumeRole on ${role} failed: AccessDenied: not allowed`);
  });

  describe('Method: fetchAlarmStates', () => {
    it('reads metric and composite alarms by name per region, and by ARN in the ARN’s region', async () => {
      cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
        MetricAlarms: input.AlarmNames.filter((n) => n !== 'composite').map((n) => ({ AlarmName: n, StateValue: n === 'chat-5xx' ? 'ALARM' : 'OK' })),
        CompositeAlarms: input.AlarmNames.includes('composite') ? [{ AlarmName: 'composite', StateValue: 'INSUFFICIENT_DATA' }] : [],
      }));
      const states = await adapter.fetchAlarmStates([
        { key: 'a', name: 'chat-5xx', region: 'eu-west-1' },
        { key: 'b', arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:composite', region: 'eu-west-1' },
        { key: 'c', name: 'other', region: 'eu-west-1' },
      ]);
      expect(Object.fromEntries(states)).toEqual({ a: 'ALARM', b: 'INSUFFICIENT_DATA', c: 'OK' });
      expect(cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
        { AlarmNames: ['chat-5xx', 'other'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
        { AlarmNames: ['composite'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
      ]);
      expect(created.map((c) => c.region)).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('reads a composite in ALARM whose actions are suppressed as INSUFFICIENT_DATA: no evidence, the engine holds', async () => {
      cloudwatch.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [],
        CompositeAlarms: [
          { AlarmName: 'suppressed', StateValue: 'ALARM', ActionsSuppressedBy: 'WaitPeriod' },
          { AlarmName: 'firing', StateValue: 'ALARM' },
        ],
      });
      const states = await adapter.fetchAlarmStates([
        { key: 's', name: 'suppressed', region: 'eu-west-1' },
        { key: 'f', name: 'firing', region: 'eu-west-1' },
      ]);
      expect(Object.fromEntries(states)).toEqual({ s: 'INSUFFICIENT_DATA', f: 'ALARM' });
      expect(cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
        { AlarmNames: ['suppressed', 'firing'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
      ]);
    });

    it('leaves out alarms that do not exist', async () => {
      cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });
      expect((await adapter.fetchAlarmStates([{ key: 'a', name: 'gone', region: 'eu-west-1' }])).size).toBe(0);
    });
  });
});
