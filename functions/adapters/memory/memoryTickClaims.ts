/** Tick claims in memory: the first claim of a shard's minute wins. */
import { tickMinute, type TickClaims } from '../../ports/tickClaims.js';

export class InMemoryTickClaims implements TickClaims {
  readonly #claimed = new Set<string>();

  async claim(shard: string, scheduledAt: number): Promise<boolean> {
    const key = `${shard}@${tickMinute(scheduledAt)}`;
    if (this.#claimed.has(key)) return false;
    this.#claimed.add(key);
    return true;
  }
}
