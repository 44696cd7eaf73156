/**
 * The AWS side of the integration tests: the real AWS adapters over real SDK clients, with
 * DynamoDB served by dynalite and Route 53, CloudWatch, SNS and EventBridge answered by
 * aws-sdk-client-mock. Route 53 is a small stateful fake (records are listed as last written), so
 * the exact requests can be asserted and successive evaluations see their own writes.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client, type Change, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Route53Weights } from '../../../functions/adapters/aws/route53Weights.js';
import { BoundedRetryStrategy, Route53RetryPolicy } from '../../../functions/adapters/aws/retryStrategy.js';
import { CloudWatchClients } from '../../../functions/adapters/aws/cloudWatchClients.js';
import { CloudWatchMetrics } from '../../../functions/adapters/aws/cloudWatchMetrics.js';
import { DynamoStateStore } from '../../../functions/adapters/aws/dynamoStateStore.js';
import { SnsNotifier } from '../../../functions/adapters/aws/snsNotifier.js';
import { EventBridgePublisher } from '../../../functions/adapters/aws/eventBridgePublisher.js';
import { ManualClock } from '../../../functions/adapters/memory/manualClock.js';
import type { Config } from '../../../functions/core/config.js';
import type { Runtime, RuntimeOptions } from '../../../functions/app/runtime.js';
import type { StateStore } from '../../../functions/ports/stateStore.js';
import { ACCOUNT, collectingLog, T0, testConfig, type CollectedLog } from '../../unit/app/runtimeFixtures.js';
import { answerBelowRetries, recordingWaits, testCredentials } from '../../support/belowRetries.js';
import type { LocalDynamo } from './dynalite.js';

/** Route 53 as the fake answers it: below the SDK retry middleware of the adapter's client, so the SDK's retries run. */
const route53Service = new Route53Client({ region: 'us-east-1', credentials: testCredentials });
export const route53 = mockClient(route53Service);
export const cloudwatch = mockClient(CloudWatchClient);
export const sns = mockClient(SNSClient);
export const eventbridge = mockClient(EventBridgeClient);

export const TOPIC = 'arn:aws:sns:us-east-1:123456789012:steer53-notifications';
export const HEALTH_CHECK = 'abcdef12-3456-7890-abcd-ef1234567890';

/** Route 53 records of the test zone as a person set them up: TTL, values, a health check. */
export function initialRecords(config: Config): ResourceRecordSet[] {
  return config.services.flatMap((s) =>
    s.endpoints.map((e, i) => ({
      Name: `${s.dnsName}.`,
      Type: s.recordType,
      SetIdentifier: e.setIdentifier,
      Weight: e.baselineWeight,
      TTL: 30,
      ResourceRecords: [{ Value: `192.0.2.${10 + i}` }, { Value: `198.51.100.${10 + i}` }],
      HealthCheckId: HEALTH_CHECK,
    })),
  );
}

export interface AwsWorld {
  readonly config: Config;
  readonly clock: ManualClock;
  readonly log: CollectedLog;
  readonly store: DynamoStateStore;
  /** Route 53 as it is now. */
  records: ResourceRecordSet[];
  /** p99 ModelLatency in ms by endpoint name; a missing entry returns no datapoint. */
  latencyMs: Record<string, number>;
  sampleCount: number;
  /** What DescribeAlarms says of each alarm by name (OK when not listed). */
  alarmStates: Record<string, string>;
  /** Throttling errors still to throw from ChangeResourceRecordSets. */
  throttles: number;
  /** Thrown once by the next ChangeResourceRecordSets (a crash or timeout mid-apply). */
  failNextChange: Error | undefined;
  readonly sleeps: number[];
  runtime(overrides?: { store?: StateStore; options?: RuntimeOptions }): Runtime;
}

export function resetMocks(): void {
  route53.reset();
  cloudwatch.reset();
  sns.reset();
  eventbridge.reset();
}

export function awsWorld(dynamo: LocalDynamo, table: string, config: Config = testConfig()): AwsWorld {
  resetMocks();
  const clock = new ManualClock(T0);
  const log = collectingLog();
  const store = new DynamoStateStore({ client: dynamo.client, tableName: table });
  const sleeps: number[] = [];
  const world: AwsWorld = {
    config,
    clock,
    log,
    store,
    records: initialRecords(config),
    latencyMs: {},
    sampleCount: 5000,
    alarmStates: {},
    throttles: 0,
    failNextChange: undefined,
    sleeps,
    runtime: (overrides = {}) => {
      let id = 0;
      const prefix = Math.random().toString(36).slice(2, 8);
      return {
        config,
        dns: new Route53Weights({
          client: answerBelowRetries(
            new Route53Client({
              region: 'us-east-1',
              credentials: testCredentials,
              maxAttempts: Route53RetryPolicy.maxAttempts,
              retryStrategy: recordingWaits(new BoundedRetryStrategy({ ...Route53RetryPolicy, random: () => 0.5 }), sleeps),
            }),
            route53Service,
            [ListResourceRecordSetsCommand, ChangeResourceRecordSetsCommand],
          ),
        }),
        metrics: new CloudWatchMetrics({
          clients: new CloudWatchClients({
            createClient: (c) => new CloudWatchClient({ region: c.region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
          }),
        }),
        store: overrides.store ?? store,
        notifier: new SnsNotifier({ client: new SNSClient({ region: 'us-east-1' }), topicArn: TOPIC }),
        events: new EventBridgePublisher({ client: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: 'default' }),
        clock,
        log,
        newId: () => `${prefix}-${++id}`,
        account: ACCOUNT,
        ...(overrides.options ? { options: overrides.options } : {}),
      };
    },
  };

  route53.on(ListResourceRecordSetsCommand).callsFake((input: { StartRecordName: string; StartRecordType: string }) => {
    // Route 53 lists in DNS order: labels compared right to left (com.example.chat), then type.
    const order = (name: string, type: string) => `${name.replace(/\.$/, '').split('.').reverse().join('.')}|${type}`;
    const start = order(input.StartRecordName, input.StartRecordType);
    const sorted = world.records
      .filter((r) => order(r.Name!, r.Type!) >= start)
      .sort((a, b) => (order(a.Name!, a.Type!) < order(b.Name!, b.Type!) ? -1 : order(a.Name!, a.Type!) > order(b.Name!, b.Type!) ? 1 : 0));
    return { ResourceRecordSets: structuredClone(sorted), IsTruncated: false, MaxItems: 300 };
  });
  let changeNumber = 0;
  route53.on(ChangeResourceRecordSetsCommand).callsFake((input: { ChangeBatch: { Changes: Change[] } }) => {
    const failure = world.failNextChange;
    if (failure) {
      world.failNextChange = undefined;
      throw failure;
    }
    if (world.throttles > 0) {
      world.throttles -= 1;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    }
    for (const change of input.ChangeBatch.Changes) {
      const set = change.ResourceRecordSet!;
      const i = world.records.findIndex((r) => r.Name === set.Name && r.Type === set.Type && r.SetIdentifier === set.SetIdentifier);
      world.records[i] = structuredClone(set);
    }
    return { ChangeInfo: { Id: `/change/C${++changeNumber}`, Status: 'PENDING', SubmittedAt: new Date(clock.now()) } };
  });
  cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[]; EndTime: Date }) => ({
    MetricDataResults: input.MetricDataQueries.flatMap((q) => {
      const endpoint = q.MetricStat!.Metric!.Dimensions!.find((d) => d.Name === 'EndpointName')!.Value!;
      const ms = world.latencyMs[endpoint];
      if (ms === undefined) return [{ Id: q.Id, Timestamps: [], Values: [], StatusCode: 'Complete' }];
      const stat = q.MetricStat!.Stat!;
      const rankAt = /^PR\(:([0-9.]+)\)$/.exec(stat);
      // Percentile rank at a value: a p99 past it has 1.5% of requests past it (a breach, not a severe one), one within it 0.5%.
      const value = stat === 'SampleCount' ? world.sampleCount : rankAt ? (ms * 1000 > Number(rankAt[1]) ? 98.5 : 99.5) : ms * 1000;
      return [{ Id: q.Id, Timestamps: [new Date(input.EndTime.getTime() - 60_000)], Values: [value], StatusCode: 'Complete' }];
    }),
  }));
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
    MetricAlarms: input.AlarmNames.map((n) => ({ AlarmName: n, StateValue: world.alarmStates[n] ?? 'OK' })),
    CompositeAlarms: [],
  }));
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  eventbridge
    .on(PutEventsCommand)
    .callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
  return world;
}

/** Endpoint names of the fixture config's SageMaker dimension, by SetIdentifier. */
export function latency(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([region, ms]) => [`chat-${region}`, ms]));
}

export const HEALTHY = latency({ 'us-east-1': 900, 'eu-west-1': 900, 'ap-northeast-1': 900 });
export const EU_SLOW = latency({ 'us-east-1': 900, 'eu-west-1': 2600, 'ap-northeast-1': 900 });
