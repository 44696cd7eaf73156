import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SnsNotifier, fitMessage } from '../../../functions/adapters/aws/snsNotifier.js';
import { EventBridgePublisher } from '../../../functions/adapters/aws/eventBridgePublisher.js';
import { AwsCallError, EventPublishError } from '../../../functions/adapters/aws/errors.js';
import { ControllerDetailTypes, type ControllerEvent } from '../../../functions/events/controllerEvents.js';
import type { Notice } from '../../../functions/ports/notifier.js';
import { testConfig, T0 } from '../app/runtimeFixtures.js';

const sns = mockClient(SNSClient);
const eventbridge = mockClient(EventBridgeClient);
const service = testConfig().services[0]!;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:steer53';

const notice: Notice = {
  kind: 'drift-detected',
  severity: 'warning',
  reason: 'DRIFT_DETECTED',
  service,
  trigger: 'schedule',
  drift: { expected: { 'eu-west-1': 100 }, actual: { 'eu-west-1': 0 }, endpoints: ['eu-west-1'] },
};

function shifted(): ControllerEvent {
  return {
    detailType: ControllerDetailTypes.TRAFFIC_SHIFTED,
    detail: {
      service: 'chat',
      dnsName: 'chat.example.com',
      recordType: 'A',
      hostedZoneId: 'Z0123456789EXAMPLE',
      at: new Date(T0).toISOString(),
      trigger: 'schedule',
      decisionId: 'd-1',
      mode: 'normal',
      emergency: false,
      before: { a: 100, b: 100 },
      after: { a: 40, b: 160 },
      changes: [
        { endpoint: 'a', from: 100, to: 40 },
        { endpoint: 'b', from: 100, to: 160 },
      ],
      reasons: [{ code: 'M_OF_N_BREACH', message: 'a degraded', endpoint: 'a' }],
      changeIds: ['/change/C1'],
    },
  };
}

beforeEach(() => {
  sns.reset();
  eventbridge.reset();
});

describe('Class: SnsNotifier', () => {
  it('publishes subject, body and filterable MessageAttributes to the topic', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new SnsNotifier({ client: new SNSClient({ region: 'us-east-1' }), topicArn: TOPIC }).notify(notice);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe('[steer53] chat.example.com: weights changed outside steer53 (eu-west-1 100->0)');
    expect(input.Message).toContain('Route 53 weights of chat.example.com were changed outside steer53.');
    expect(input.MessageAttributes).toEqual({
      service: { DataType: 'String', StringValue: 'chat' },
      severity: { DataType: 'String', StringValue: 'warning' },
      reason: { DataType: 'String', StringValue: 'DRIFT_DETECTED' },
      kind: { DataType: 'String', StringValue: 'drift-detected' },
    });
  });

  it('translates an SNS failure into AwsCallError naming the topic', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('topic gone'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const error = await new SnsNotifier({ client: new SNSClient({ region: 'us-east-1' }), topicArn: TOPIC }).notify(notice).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ operation: 'sns:Publish', target: TOPIC, retryable: false, message: `sns:Publish on ${TOPIC} failed: NotFound: topic gone` });
  });
});

describe('Function: fitMessage', () => {
  it('keeps a message within SNS’s 256 KB, saying where the rest is', () => {
    expect(fitMessage('short')).toBe('short');
    const long = fitMessage('é'.repeat(200_000));
    expect(Buffer.byteLength(long, 'utf8')).toBeLessThanOrEqual(250_000);
    expect(long.endsWith('[truncated: the full decision is in the audit log]')).toBe(true);
  });
});

describe('Class: EventBridgePublisher', () => {
  it('puts source "steer53" events on the bus, ten per call', async () => {
    eventbridge
      .on(PutEventsCommand)
      .callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
    await new EventBridgePublisher({ client: new EventBridgeClient({ region: 'us-east-1' }), eventBusName: 'ops' }).publish(
      Array.from({ length: 12 }, shifted),
    );
    const calls = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    const entry = calls[0]![0]!;
    expect(entry).toEqual({
      Source: 'steer53',
      DetailType: 'Traffic Shifted',
      EventBusName: 'ops',
      Time: new Date(T0),
      Detail: JSON.stringify(shifted().detail),
    });
  });

  it('reports entries EventBridge rejected', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const error = await new EventBridgePublisher({ client: new EventBridgeClient({ region: 'us-east-1' }) }).publish([shifted()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as Error).message).toBe('EventBridge bus default rejected 1 event(s): Traffic Shifted: InternalFailure try again');
  });

  it('refuses to send a detail that does not match its documented schema', async () => {
    const bad = shifted();
    (bad.detail as { before: unknown }).before = { a: 300 };
    await expect(new EventBridgePublisher({ client: new EventBridgeClient({ region: 'us-east-1' }) }).publish([bad])).rejects.toThrow();
    expect(eventbridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
