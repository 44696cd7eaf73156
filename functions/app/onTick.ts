/**
 * A tick (the schedule): evaluate every configured service. Observations for all services are
 * made at once (CloudWatch calls shared between services in the same region), then services are
 * evaluated with bounded concurrency. One service failing does not stop the others.
 */
import type { ServiceConfig } from '../core/config.js';
import { evaluateService, type EvaluationOutcome } from './evaluateService.js';
import { observeServices } from './observe.js';
import type { Runtime } from './runtime.js';

export interface ServiceFailure {
  readonly service: string;
  readonly error: Error;
}

export interface TickOutcome {
  readonly outcomes: readonly EvaluationOutcome[];
  readonly failures: readonly ServiceFailure[];
}

export async function onTick(rt: Runtime, trigger = 'schedule', services: readonly ServiceConfig[] = rt.config.services): Promise<TickOutcome> {
  const now = rt.clock.now();
  const observed = await observeServices(rt.metrics, services, now, rt.options ?? {});
  const outcomes: EvaluationOutcome[] = [];
  const failures: ServiceFailure[] = [];
  await forEachBounded(services, rt.options?.concurrency ?? 4, async (service) => {
    try {
      outcomes.push(await evaluateService(rt, service, { trigger, observed: observed.get(service.name)! }));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      rt.log.error('evaluation failed', { service: service.name, error: failure.message, errorName: failure.name });
      failures.push({ service: service.name, error: failure });
    }
  });
  return { outcomes, failures };
}

/** Runs `work` on every item, at most `limit` at a time. */
export async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
