/**
 * Lambda entry: the schedule tick (an EventBridge scheduled rule or an EventBridge Scheduler
 * schedule). Every configured service (or the ones the Scheduler payload names) is evaluated.
 * A service whose evaluation fails is logged and counted; the invocation still succeeds, because
 * the next tick, a minute later, is the retry.
 */
import type { Context } from 'aws-lambda';
import { onTick } from '../app/onTick.js';
import { parseScheduleInput } from '../events/scheduleEvents.js';
import { deadlineOf, defaultDeps, rejectMalformed, reportEvaluation, reportFailures, wrap, type HandlerDeps } from './edge.js';

export type ScheduleHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'evaluated'; services: number; applied: number; failures: number };

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
    const tick = await onTick(rt, {
      trigger: input.trigger,
      services,
      ...(input.services ? { asked: input.services } : {}),
      ...(deadline !== undefined ? { deadline } : {}),
    });
    for (const o of tick.outcomes) reportEvaluation(deps, o);
    reportFailures(deps, tick.failures);
    return {
      status: 'evaluated',
      services: services.length,
      applied: tick.outcomes.filter((o) => o.status === 'applied').length,
      failures: tick.failures.length,
    };
  });
}

export const handler = createScheduleHandler(defaultDeps());
