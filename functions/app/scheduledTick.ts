/**
 * One scheduled tick, of every service or of one shard of them (shardPlan.ts; the construct gives
 * each shard a schedule target of its own, invoked asynchronously). A shard's tick runs once per
 * minute however often it is delivered (`TickClaims`), and not at all when it starts after the
 * next tick has fired (an invocation delayed past `staleAfterMs`).
 */
import type { ServiceConfig } from '../core/config.js';
import { onTick, type TickOutcome } from './onTick.js';
import type { Runtime } from './runtime.js';

/** The shard a tick of every service reports as: the whole tick is one shard. */
export const WHOLE_TICK_SHARD = 'shard-01';

export interface ScheduledTick {
  readonly trigger: string;
  readonly services: readonly ServiceConfig[];
  /** Services to read whatever their cadence (named by an operator's schedule payload). */
  readonly asked?: readonly string[];
  /** When the schedule fired (epoch ms). @default now */
  readonly scheduledAt?: number;
  readonly shard?: { readonly id: string; readonly staleAfterMs?: number };
  readonly deadline?: number;
}

export type ScheduledTickOutcome =
  | { readonly kind: 'evaluated'; readonly shard: string; readonly lagMs: number; readonly durationMs: number; readonly tick: TickOutcome }
  /** Started after the next tick fired: skipped, the next one covers its services. */
  | { readonly kind: 'stale'; readonly shard: string; readonly lagMs: number }
  /** The shard's tick of this minute was evaluated already (a second delivery). */
  | { readonly kind: 'duplicate'; readonly shard: string; readonly lagMs: number };

export async function runScheduledTick(rt: Runtime, request: ScheduledTick): Promise<ScheduledTickOutcome> {
  const started = rt.clock.now();
  const scheduledAt = request.scheduledAt ?? started;
  const shard = request.shard?.id ?? WHOLE_TICK_SHARD;
  const lagMs = Math.max(0, started - scheduledAt);
  if (request.shard) {
    const staleAfter = request.shard.staleAfterMs;
    if (staleAfter !== undefined && lagMs > staleAfter) return { kind: 'stale', shard, lagMs };
    if (rt.tickClaims && !(await rt.tickClaims.claim(shard, scheduledAt))) return { kind: 'duplicate', shard, lagMs };
  }
  const tick = await onTick(rt, {
    trigger: request.shard ? `${request.trigger} (${shard})` : request.trigger,
    services: request.services,
    ...(request.asked ? { asked: request.asked } : {}),
    ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
  });
  return { kind: 'evaluated', shard, lagMs, durationMs: rt.clock.now() - started, tick };
}
