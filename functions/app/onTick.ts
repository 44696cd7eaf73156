/**
 * A tick (the schedule): evaluate every configured service, in three phases so that Route 53 sees
 * as few calls as possible (it throttles per account, and refuses a zone change while another is
 * in flight):
 *   1. observe every service at once (CloudWatch calls shared between services), then decide and
 *      record each service's intent, with bounded concurrency;
 *   2. write each hosted zone's changes, from every service in it, in one ChangeResourceRecordSets
 *      call;
 *   3. complete each service: mark applied, record, tell.
 * One service failing does not stop the others; a zone whose write fails leaves its services'
 * intents recorded, for the next evaluation to complete.
 */
import type { ServiceConfig } from '../core/config.js';
import { abandonWrite, changeComment, completeWrite, prepareEvaluation, type EvaluationOutcome, type PreparedWrite } from './evaluateService.js';
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

/** ChangeBatch.Comment holds at most 256 characters. */
const MAX_COMMENT = 256;

export interface TickOptions {
  readonly trigger?: string;
  /** @default every configured service */
  readonly services?: readonly ServiceConfig[];
  /** When this invocation will be stopped at the latest (see EvaluationRequest.deadline). */
  readonly deadline?: number;
}

export async function onTick(rt: Runtime, options: TickOptions = {}): Promise<TickOutcome> {
  const trigger = options.trigger ?? 'schedule';
  const services = options.services ?? rt.config.services;
  const now = rt.clock.now();
  const observed = await observeServices(rt.metrics, services, now, rt.options ?? {});
  const outcomes: EvaluationOutcome[] = [];
  const failures: ServiceFailure[] = [];
  const fail = (service: string, error: unknown) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    rt.log.error('evaluation failed', { service, error: failure.message, errorName: failure.name });
    failures.push({ service, error: failure });
  };

  // 1. Decide and record intents.
  const writes: PreparedWrite[] = [];
  await forEachBounded(services, rt.options?.concurrency ?? 4, async (service) => {
    try {
      const prepared = await prepareEvaluation(rt, service, {
        trigger,
        observed: observed.get(service.name)!,
        ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      });
      if (prepared.kind === 'done') outcomes.push(prepared.outcome);
      else writes.push(prepared);
    } catch (error) {
      fail(service.name, error);
    }
  });

  // 2. One Route 53 call per hosted zone.
  const byZone = new Map<string, PreparedWrite[]>();
  for (const w of writes) byZone.set(w.write.record.hostedZoneId, [...(byZone.get(w.write.record.hostedZoneId) ?? []), w]);
  for (const zoneWrites of byZone.values()) {
    let changeIds: readonly string[];
    try {
      changeIds = (
        await rt.dns.writeWeights(
          zoneWrites.map((w) => w.write),
          batchComment(zoneWrites),
        )
      ).changeIds;
    } catch (error) {
      for (const w of zoneWrites) {
        await abandonWrite(rt, w, error);
        fail(w.service.name, error);
      }
      continue;
    }
    // 3. Complete each service of the zone.
    for (const w of zoneWrites) {
      try {
        outcomes.push(await completeWrite(rt, w, changeIds));
      } catch (error) {
        fail(w.service.name, error);
      }
    }
  }
  return { outcomes, failures };
}

/** The change comment names every decision in the batch, so each write traces back to its decisions. */
function batchComment(writes: readonly PreparedWrite[]): string {
  if (writes.length === 1) return changeComment(writes[0]!.service, writes[0]!.decisionId);
  const full = `steer53 decisions ${writes.map((w) => `${w.service.name}:${w.decisionId}`).join(' ')}`;
  return full.length <= MAX_COMMENT ? full : `steer53 tick: ${writes.length} decisions (each is in its service's audit log with this change id)`;
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
