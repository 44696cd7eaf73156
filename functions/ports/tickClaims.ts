/**
 * Port: each shard's tick is evaluated once per minute. The schedule invokes one function per
 * shard asynchronously, and an asynchronous invocation can be delivered twice: the second finds
 * the shard's minute claimed and does nothing.
 */
import type { EpochMs } from '../core/types.js';

export interface TickClaims {
  /** True when this call claimed the shard's tick of the minute of `scheduledAt`; false when another had. */
  claim(shard: string, scheduledAt: EpochMs): Promise<boolean>;
}

/** The minute a tick is for, as its claim names it (`2026-01-01T00:10`). */
export function tickMinute(scheduledAt: EpochMs): string {
  return new Date(Math.floor(scheduledAt / 60_000) * 60_000).toISOString().slice(0, 16);
}
