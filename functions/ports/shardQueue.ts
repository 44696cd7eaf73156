/**
 * Port: where the schedule sends the shards of a tick, one message each, for other invocations to
 * evaluate (the construct's SQS FIFO queue: a message group per shard, deduplicated by shard and
 * minute).
 */

/** One shard of one tick. */
export interface ShardTick {
  readonly shard: string;
  /** The services the shard evaluates, by name. */
  readonly services: readonly string[];
  /** When the tick was scheduled (epoch ms): the minute it is for. */
  readonly scheduledAt: number;
  /** After this (epoch ms) the next tick has been sent: a shard still waiting is skipped. */
  readonly expiresAt: number;
  /** What scheduled it, for the audit log. */
  readonly trigger: string;
  /** Services to read whatever their cadence (named by the schedule's payload). */
  readonly asked?: readonly string[];
}

export interface ShardQueue {
  /** Sends every shard of a tick; fails if any could not be sent (the whole tick is retried by the next one). */
  send(ticks: readonly ShardTick[]): Promise<void>;
}

/** The idempotency key of a shard's tick: one message per shard and minute, however often the schedule fires. */
export function shardTickKey(tick: Pick<ShardTick, 'shard' | 'scheduledAt'>): string {
  return `${tick.shard}@${new Date(Math.floor(tick.scheduledAt / 60_000) * 60_000).toISOString().slice(0, 16)}`;
}
