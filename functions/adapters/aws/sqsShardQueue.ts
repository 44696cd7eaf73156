/**
 * SQS adapter of the shard queue: SendMessageBatch to the construct's FIFO queue, ten messages a
 * call (the SendMessageBatch limit), each in its shard's message group (one invocation at a time
 * per shard) with a deduplication id of shard and minute (SQS drops a second send of the same id
 * within five minutes: a schedule that fires twice sends each shard once).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { shardTickKey, type ShardQueue, type ShardTick } from '../../ports/shardQueue.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

/** SendMessageBatch takes at most 10 entries. */
export const MAX_MESSAGES_PER_BATCH = 10;

export interface SqsShardQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export class SqsShardQueue implements ShardQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsShardQueueOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async send(ticks: readonly ShardTick[]): Promise<void> {
    const context = { operation: 'sqs:SendMessageBatch', target: this.#queueUrl };
    for (let i = 0; i < ticks.length; i += MAX_MESSAGES_PER_BATCH) {
      const batch = ticks.slice(i, i + MAX_MESSAGES_PER_BATCH);
      let failed: readonly { Id?: string | undefined; Code?: string | undefined; Message?: string | undefined }[];
      try {
        const response = await this.#client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.#queueUrl,
            Entries: batch.map((tick, j) => ({
              Id: String(j),
              MessageBody: JSON.stringify(tick),
              MessageGroupId: tick.shard,
              MessageDeduplicationId: shardTickKey(tick),
            })),
          }),
        );
        failed = response.Failed ?? [];
      } catch (error) {
        throw new AwsCallError(context, error, isTransientAwsError(error));
      }
      if (failed.length > 0) {
        const which = failed.map((f) => `${batch[Number(f.Id)]?.shard ?? f.Id}: ${f.Code ?? ''} ${f.Message ?? ''}`.trim()).join('; ');
        throw new AwsCallError(context, `${failed.length} shard message(s) not sent: ${which}`, true);
      }
    }
  }
}
