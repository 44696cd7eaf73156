/**
 * Fixtures for the handler tests: dependencies with a silent Powertools logger (spied on), a
 * collecting counter, a Lambda context, and one valid event of each kind the handlers accept.
 */
import { vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Counter, HandlerDeps, MetricName } from '../../../functions/handlers/edge.js';
import type { Runtime } from '../../../functions/app/runtime.js';
import { T0 } from '../app/runtimeFixtures.js';

export interface TestDeps {
  readonly deps: HandlerDeps;
  readonly logger: Logger;
  readonly counts: { metric: MetricName; service: string; value: number }[];
  readonly gauges: { metric: MetricName; service: string; endpoint: string; value: number }[];
  readonly shardMetrics: { metric: MetricName; shard: string; value: number }[];
  readonly errorLog: ReturnType<typeof vi.spyOn>;
  readonly debugLog: ReturnType<typeof vi.spyOn>;
}

export function testDeps(runtime: () => Promise<Runtime>): TestDeps {
  const logger = new Logger({ serviceName: 'steer53', logLevel: 'SILENT' });
  const counts: TestDeps['counts'] = [];
  const gauges: TestDeps['gauges'] = [];
  const shardMetrics: TestDeps['shardMetrics'] = [];
  const counter: Counter = {
    count: (metric, service, value = 1) => void counts.push({ metric, service, value }),
    gauge: (metric, service, endpoint, value) => void gauges.push({ metric, service, endpoint, value }),
    shard: (metric, shard, value) => void shardMetrics.push({ metric, shard, value }),
  };
  const errorLog = vi.spyOn(logger, 'error');
  const debugLog = vi.spyOn(logger, 'debug');
  return { deps: { runtime, logger, counter }, logger, counts, gauges, shardMetrics, errorLog, debugLog };
}

export const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'steer53-alarm',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:steer53-alarm',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/steer53-alarm',
  logStreamName: 's',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as unknown as Context;

const iso = new Date(T0).toISOString().replace('.000Z', 'Z');

export function alarmStateChangeEvent(alarmName = 'chat-eu-west-1-5xx', state = 'ALARM', region = 'eu-west-1') {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: iso,
    region,
    resources: [`arn:aws:cloudwatch:${region}:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value: state, reason: 'Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (5.0).', timestamp: '2026-01-01T00:10:00.000+0000' },
      previousState: { value: 'OK', reason: 'ok', timestamp: '2025-12-31T00:00:00.000+0000' },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: { metric: { namespace: 'AWS/SageMaker', name: 'Invocation5XXErrors', dimensions: {} }, period: 60, stat: 'Sum' },
            returnData: true,
          },
        ],
      },
    },
  };
}

export function snsAlarmEvent(alarmName = 'chat-eu-west-1-5xx', state = 'ALARM', region = 'eu-west-1') {
  const message = {
    AlarmName: alarmName,
    AlarmDescription: null,
    AWSAccountId: '123456789012',
    AlarmConfigurationUpdatedTimestamp: '2025-12-01T00:00:00.000+0000',
    NewStateValue: state,
    NewStateReason: 'Threshold Crossed',
    StateChangeTime: '2026-01-01T00:10:00.000+0000',
    Region: 'EU (Ireland)',
    AlarmArn: `arn:aws:cloudwatch:${region}:123456789012:alarm:${alarmName}`,
    OldStateValue: 'OK',
    Trigger: {
      MetricName: 'Invocation5XXErrors',
      Namespace: 'AWS/SageMaker',
      Statistic: 'SUM',
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5,
    },
  };
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:alarms:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55',
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
          Subject: `ALARM: "${alarmName}" in EU (Ireland)`,
          Message: JSON.stringify(message),
          Timestamp: '2026-01-01T00:10:01.000Z',
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
          UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:alarms:2bcfbf39',
          MessageAttributes: {},
        },
      },
    ],
  };
}

export function scheduledRuleEvent() {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: iso,
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/steer53-tick'],
    detail: {},
  };
}

export function schedulerPayload() {
  return {
    scheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/steer53-tick',
    scheduledTime: iso,
    executionId: 'f6b2c1e0-0000-4000-8000-000000000001',
    attemptNumber: '1',
  };
}

export function deploymentEvent(detailType = 'Deployment Started', detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '5b6c1f7e-0000-4000-8000-000000000002',
    'detail-type': detailType,
    source: 'steer53.deployment',
    account: '123456789012',
    time: iso,
    region: 'us-east-1',
    resources: [],
    detail: { service: 'chat', endpoint: 'eu-west-1', version: 'v42', pipelineExecutionId: 'exec-1', idempotencyKey: 'deploy-42', ...detail },
  };
}

/** What a sharded schedule's target sends for one shard (lib/trafficController.ts, addSchedule). */
export function shardPayload(extra: Record<string, unknown> = {}) {
  return { shard: 'shard-02', services: ['chat'], scheduledTime: new Date(T0 - 3_000).toISOString(), staleAfterSeconds: 90, ...extra };
}

/**
 * The Lambda event of an SQS event source mapping (the alarm queue), as the Lambda Developer Guide
 * shows it ("Using Lambda with Amazon SQS"), one record per body: each body what the queue was sent.
 */
export function sqsEvent(bodies: readonly unknown[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `059f36b4-87a3-44ab-83d2-66197${String(i).padStart(7, '0')}`,
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1767226201000',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1767226201010',
      },
      messageAttributes: {},
      md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:steer53-AlarmQueue',
      awsRegion: 'us-east-1',
    })),
  };
}
