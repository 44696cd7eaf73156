/**
 * The schedule with shards: the invocation the schedule starts plans the tick's shards
 * (shardPlan.ts) and sends one message per shard; each shard is evaluated by an invocation of its
 * own (`runShard`), as a tick of its services. One shard, or no queue: the tick is evaluated in the
 * invocation that received it, as without shards.
 */
import type { ServiceConfig } from '../core/config.js';
import type { ShardTick } from '../ports/shardQueue.js';
import { onTick, type TickOutcome } from './onTick.js';
import type { Runtime } from './runtime.js';
import { planShards, type Shard } from './shardPlan.js';

export interface TickRequest {
  readonly trigger: string;
  readonly services: readonly ServiceConfig[];
  /** Services to read whatever their cadence. */
  readonly asked?: readonly string[];
  /** When the schedule fired (epoch ms); @default now */
  readonly scheduledAt?: number;
  readonly deadline?: number;
}

export type DispatchOutcome = { readonly kind: 'inline'; readonly tick: TickOutcome } | { readonly kind: 'dispatched'; readonly shards: readonly Shard[] };

/** A tick is worth nothing once the next has been sent: half a minute of grace past the interval. */
const STALE_GRACE_MS = 30_000;

export async function dispatchTick(rt: Runtime, request: TickRequest): Promise<DispatchOutcome> {
  const sharding = rt.sharding;
  const shards = sharding ? planShards(request.services, sharding.maxServicesPerShard) : [];
  if (!sharding || shards.length <= 1) return { kind: 'inline', tick: await onTick(rt, tickOptions(request)) };
  const scheduledAt = request.scheduledAt ?? rt.clock.now();
  const asked = new Set(request.asked ?? []);
  const ticks: ShardTick[] = shards.map((shard) => {
    const shardAsked = shard.services.filter((name) => asked.has(name));
    return {
      shard: shard.id,
      services: shard.services,
      scheduledAt,
      expiresAt: scheduledAt + sharding.intervalSeconds * 1000 + STALE_GRACE_MS,
      trigger: request.trigger,
      ...(shardAsked.length > 0 ? { asked: shardAsked } : {}),
    };
  });
  await sharding.queue.send(ticks);
  rt.log.info('tick sent as shards', { shards: shards.map((s) => ({ shard: s.id, services: s.services.length, zones: s.zones.length })) });
  return { kind: 'dispatched', shards };
}

function tickOptions(request: TickRequest) {
  return {
    trigger: request.trigger,
    services: request.services,
    ...(request.asked ? { asked: request.asked } : {}),
    ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
  };
}

export type ShardOutcome =
  | { readonly kind: 'evaluated'; readonly shard: string; readonly lagMs: number; readonly durationMs: number; readonly tick: TickOutcome }
  /** Started after the next tick was sent: skipped, the next one covers its services. */
  | { readonly kind: 'stale'; readonly shard: string; readonly lagMs: number }
  /** Names services the config does not have (a message from another deploy): nothing evaluated. */
  | { readonly kind: 'unknown-services'; readonly shard: string; readonly unknown: readonly string[] };

/** Evaluates one shard of a tick. */
export async function runShard(rt: Runtime, tick: ShardTick, deadline?: number): Promise<ShardOutcome> {
  const started = rt.clock.now();
  const lagMs = Math.max(0, started - tick.scheduledAt);
  if (started > tick.expiresAt) return { kind: 'stale', shard: tick.shard, lagMs };
  const byName = new Map(rt.config.services.map((s) => [s.name, s]));
  const unknown = tick.services.filter((name) => !byName.has(name));
  if (unknown.length > 0) return { kind: 'unknown-services', shard: tick.shard, unknown };
  const outcome = await onTick(
    rt,
    tickOptions({
      trigger: `${tick.trigger} (${tick.shard})`,
      services: tick.services.map((name) => byName.get(name)!),
      ...(tick.asked ? { asked: tick.asked } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    }),
  );
  return { kind: 'evaluated', shard: tick.shard, lagMs, durationMs: rt.clock.now() - started, tick: outcome };
}
