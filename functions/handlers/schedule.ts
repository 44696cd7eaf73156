/**
 * Lambda entry: the schedule tick (an EventBridge scheduled rule or an EventBridge Scheduler
 * schedule), and the shards of a tick (the SQS event source of the construct's shard queue).
 *
 * A tick plans its shards: one shard (or no queue) is evaluated here and now, as it always was;
 * more are sent to the queue, one message each, and evaluated by invocations of their own. A
 * service whose evaluation fails is logged and counted; the invocation still succeeds, because
 * the next tick, a minute later, is the retry. Each tick and shard reports its duration and its
 * lag behind the schedule (metrics `ShardDuration`, `ShardLag`, by shard), and how many services
 * it read and deferred (adaptive polling).
 */
import type { Context } from 'aws-lambda';
import { dispatchTick, runShard, type ShardOutcome } from '../app/shardedTick.js';
import type { TickOutcome } from '../app/onTick.js';
import type { Runtime } from '../app/runtime.js';
import { parseScheduleInput, type ShardTickMessage } from '../events/scheduleEvents.js';
import { deadlineOf, defaultDeps, MetricNames, rejectMalformed, reportEvaluation, reportFailures, wrap, type HandlerDeps } from './edge.js';

export type ScheduleHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'evaluated'; services: number; read: number; applied: number; failures: number }
  | { status: 'dispatched'; services: number; shards: number }
  | { status: 'shards'; shards: readonly { shard: string; status: ShardOutcome['kind']; read?: number; applied?: number; failures?: number }[] };

/** The shard a tick evaluated here is reported as, when the whole tick is one shard. */
const INLINE_SHARD = 'shard-01';

export function createScheduleHandler(deps: HandlerDeps) {
  return wrap(deps, async (event: unknown, context: Context): Promise<ScheduleHandlerResult> => {
    const input = parseScheduleInput(event);
    if (input.kind === 'invalid') return rejectMalformed(deps, 'schedule event', input.problems);
    const rt = await deps.runtime();
    if (input.kind === 'shards') {
      if (input.problems.length > 0) rejectMalformed(deps, 'shard messages', input.problems);
      return { status: 'shards', shards: await runShards(deps, rt, input.ticks, context) };
    }
    if (input.correlationId) deps.logger.setCorrelationId(input.correlationId);
    let services = rt.config.services;
    if (input.services) {
      const unknown = input.services.filter((name) => !services.some((s) => s.name === name));
      if (unknown.length > 0) {
        return rejectMalformed(
          deps,
          'schedule event',
          unknown.map((name) => ({
            path: 'services',
            message: `no service "${name}" in the config (known: ${rt.config.services.map((s) => s.name).join(', ')})`,
          })),
        );
      }
      services = services.filter((s) => input.services!.includes(s.name));
    }
    const started = rt.clock.now();
    const deadline = deadlineOf(rt, context);
    const outcome = await dispatchTick(rt, {
      trigger: input.trigger,
      services,
      ...(input.services ? { asked: input.services } : {}),
      ...(input.scheduledAt !== undefined ? { scheduledAt: input.scheduledAt } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    });
    if (outcome.kind === 'dispatched') return { status: 'dispatched', services: services.length, shards: outcome.shards.length };
    reportShard(deps, INLINE_SHARD, Math.max(0, started - (input.scheduledAt ?? started)), rt.clock.now() - started, outcome.tick);
    return { status: 'evaluated', services: services.length, ...counts(outcome.tick) };
  });
}

/** Each shard of the event, one after the other (the queue's event source sends one at a time). */
async function runShards(deps: HandlerDeps, rt: Runtime, ticks: readonly ShardTickMessage[], context: Context) {
  const results: { shard: string; status: ShardOutcome['kind']; read?: number; applied?: number; failures?: number }[] = [];
  for (const { tick, messageId } of ticks) {
    deps.logger.setCorrelationId(messageId);
    const outcome = await runShard(rt, tick, deadlineOf(rt, context));
    if (outcome.kind === 'stale') {
      deps.logger.warn('shard started after the next tick was sent: skipped, the next tick covers its services', {
        shard: outcome.shard,
        lagMs: outcome.lagMs,
      });
      deps.counter.shard?.(MetricNames.STALE_SHARD_TICKS, outcome.shard, 1);
    } else if (outcome.kind === 'unknown-services') {
      rejectMalformed(deps, 'shard message', [{ path: 'services', message: `not in the config: ${outcome.unknown.join(', ')}` }]);
    } else {
      reportShard(deps, outcome.shard, outcome.lagMs, outcome.durationMs, outcome.tick);
      results.push({ shard: outcome.shard, status: outcome.kind, ...counts(outcome.tick) });
      continue;
    }
    results.push({ shard: outcome.shard, status: outcome.kind });
  }
  return results;
}

function counts(tick: TickOutcome) {
  return {
    read: tick.polling.filter((p) => p.due).length,
    applied: tick.outcomes.filter((o) => o.status === 'applied').length,
    failures: tick.failures.length,
  };
}

/** Logs and counts what a tick (or shard) did: each evaluation, each failure, and the shard's time, lag and reads. */
function reportShard(deps: HandlerDeps, shard: string, lagMs: number, durationMs: number, tick: TickOutcome): void {
  for (const o of tick.outcomes) reportEvaluation(deps, o);
  reportFailures(deps, tick.failures);
  const read = tick.polling.filter((p) => p.due).length;
  deps.logger.info('tick evaluated', { shard, lagMs, durationMs, read, deferred: tick.polling.length - read, failures: tick.failures.length });
  deps.counter.shard?.(MetricNames.SHARD_DURATION, shard, durationMs);
  deps.counter.shard?.(MetricNames.SHARD_LAG, shard, lagMs);
  deps.counter.shard?.(MetricNames.SERVICES_READ, shard, read);
  deps.counter.shard?.(MetricNames.SERVICES_DEFERRED, shard, tick.polling.length - read);
}

export const handler = createScheduleHandler(defaultDeps());
