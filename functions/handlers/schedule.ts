/**
 * Lambda entry: the schedule tick (an EventBridge scheduled rule or an EventBridge Scheduler
 * schedule), of every configured service, of the ones a Scheduler payload names, or of one shard
 * (the construct's sharded schedule sends each shard's services, see functions/app/shardPlan.ts).
 * A service whose evaluation fails is logged and counted; the invocation still succeeds, because
 * the next tick, a minute later, is the retry. Each tick reports its shard's duration and lag
 * behind the schedule (metrics `ShardDuration`, `ShardLag`, by shard), and the services it read
 * and deferred (adaptive polling).
 */
import type { Context } from 'aws-lambda';
import { runScheduledTick, type ScheduledTickOutcome } from '../app/scheduledTick.js';
import { parseScheduleInput } from '../events/scheduleEvents.js';
import { deadlineOf, defaultDeps, MetricNames, rejectMalformed, reportEvaluation, reportFailures, wrap, type HandlerDeps } from './edge.js';

export type ScheduleHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'evaluated'; shard: string; services: number; read: number; applied: number; failures: number }
  | { status: 'stale' | 'duplicate'; shard: string };

export function createScheduleHandler(deps: HandlerDeps) {
  return wrap(deps, async (event: unknown, context: Context): Promise<ScheduleHandlerResult> => {
    const input = parseScheduleInput(event);
    if (input.kind === 'invalid') return rejectMalformed(deps, 'schedule event', input.problems);
    if (input.correlationId) deps.logger.setCorrelationId(input.correlationId);

    const rt = await deps.runtime();
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
    const deadline = deadlineOf(rt, context);
    const outcome = await runScheduledTick(rt, {
      trigger: input.trigger,
      services,
      // A shard's services follow their cadence; services an operator names are read now.
      ...(input.services && !input.shard ? { asked: input.services } : {}),
      ...(input.scheduledAt !== undefined ? { scheduledAt: input.scheduledAt } : {}),
      ...(input.shard ? { shard: input.shard } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    });
    return report(deps, outcome, services.length);
  });
}

/** Logs and counts what the tick did: each evaluation and failure, and its shard's time, lag and reads. */
function report(deps: HandlerDeps, outcome: ScheduledTickOutcome, services: number): ScheduleHandlerResult {
  const { shard, lagMs } = outcome;
  if (outcome.kind !== 'evaluated') {
    deps.logger.warn(`shard tick ${outcome.kind}: skipped`, { shard, lagMs });
    deps.counter.shard?.(outcome.kind === 'stale' ? MetricNames.STALE_SHARD_TICKS : MetricNames.DUPLICATE_SHARD_TICKS, shard, 1);
    return { status: outcome.kind, shard };
  }
  const { tick, durationMs } = outcome;
  for (const o of tick.outcomes) reportEvaluation(deps, o);
  reportFailures(deps, tick.failures);
  const read = tick.polling.filter((p) => p.due).length;
  deps.logger.info('tick evaluated', { shard, lagMs, durationMs, read, deferred: tick.polling.length - read, failures: tick.failures.length });
  deps.counter.shard?.(MetricNames.SHARD_DURATION, shard, durationMs);
  deps.counter.shard?.(MetricNames.SHARD_LAG, shard, lagMs);
  deps.counter.shard?.(MetricNames.SERVICES_READ, shard, read);
  deps.counter.shard?.(MetricNames.SERVICES_DEFERRED, shard, tick.polling.length - read);
  const applied = tick.outcomes.filter((o) => o.status === 'applied').length;
  return { status: 'evaluated', shard, services, read, applied, failures: tick.failures.length };
}

export const handler = createScheduleHandler(defaultDeps());
