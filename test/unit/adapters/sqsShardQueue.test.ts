import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { SqsShardQueue } from '../../../functions/adapters/aws/sqsShardQueue.js';
import { AwsCallError } from '../../../functions/adapters/aws/errors.js';
import type { ShardTick } from '../../../functions/ports/shardQueue.js';

// No local SQS implementation: the client is mocked and the exact requests asserted.
const sqs = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/steer53-shards.fifo';
const AT = Date.UTC(2026, 0, 1, 0, 10, 4);

function ticks(count: number): ShardTick[] {
  return Array.from({ length: count }, (_, i) => ({
    shard: `shard-${String(i + 1).padStart(2, '0')}`,
    services: [`svc-${i}`],
    scheduledAt: AT,
    expiresAt: AT + 90_000,
    trigger: 'schedule rule',
  }));
}

describe('Class: SqsShardQueue', () => {
  it('sends ten shards a call, each in its own message group, deduplicated by shard and minute', async () => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await new SqsShardQueue({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QUEUE }).send(ticks(12));
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 2]);
    expect(calls[1]).toEqual({
      QueueUrl: QUEUE,
      Entries: [
        {
          Id: '0',
          MessageBody: JSON.stringify(ticks(12)[10]),
          MessageGroupId: 'shard-11',
          MessageDeduplicationId: 'shard-11@2026-01-01T00:10',
        },
        {
          Id: '1',
          MessageBody: JSON.stringify(ticks(12)[11]),
          MessageGroupId: 'shard-12',
          MessageDeduplicationId: 'shard-12@2026-01-01T00:10',
        },
      ],
    });
  });

  it('fails, retryably and naming the shards, when SQS refuses some of them', async () => {
    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .resolves({
        Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
      });
    const error = await new SqsShardQueue({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QUEUE }).send(ticks(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).retryable).toBe(true);
    expect((error as Error).message).toBe(`sqs:SendMessageBatch on ${QUEUE} failed: Error: 1 shard message(s) not sent: shard-02: InternalError try again`);
  });

  it('says which call failed on what when SQS refuses the request', async () => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const error = await new SqsShardQueue({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QUEUE }).send(ticks(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AwsCallError', retryable: false, awsErrorName: 'AccessDenied' });
  });
});
