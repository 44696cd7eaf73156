/** The shard queue in memory: keeps what was sent, deduplicated by shard and minute as SQS FIFO does. */
import { shardTickKey, type ShardQueue, type ShardTick } from '../../ports/shardQueue.js';

export class CollectingShardQueue implements ShardQueue {
  readonly sent: ShardTick[] = [];
  readonly #keys = new Set<string>();

  async send(ticks: readonly ShardTick[]): Promise<void> {
    for (const tick of ticks) {
      if (this.#keys.has(shardTickKey(tick))) continue;
      this.#keys.add(shardTickKey(tick));
      this.sent.push(structuredClone(tick));
    }
  }
}
