/**
 * A tick (the schedule, or one shard of it): evaluate the services that are due, in phases, so
 * that every AWS API sees as few calls as possible (Route 53 throttles per account, and refuses a
 * zone change while another is in flight; GetMetricData is paid per metric):
 *   1. read every service's state in a few batch calls, and decide which are due (a quiet
 *      service is read every few periods: pollingCadence.ts);
 *   2. observe the due services at once (CloudWatch calls shared between services) and read each
 *      of their hosted zones once (one paged ListResourceRecordSets per zone);
 *   3. decide and record each service's intent, with bounded concurrency;
 *   4. write each hosted zone's changes, from every service in it, in as few
 *      ChangeResourceRecordSets calls as Route 53's batch limits allow;
 *   5. complete each service: mark applied, record, tell (with the same bounded concurrency).
 * One service failing does not stop the others; a zone whose write fails leaves its services'
 * intents recorded, for the next evaluation to complete.
 */
import type { ServiceConfig } from '../core/config.js';
import { recordSetKey, type RecordSetWeights } from '../ports/dnsWeights.js';
import type { StoredServiceState } from '../ports/stateStore.js';
import { abandonWrite, changeComment, completeWrite, prepareEvaluation, recordSetOf, type EvaluationOutcome, type PreparedWrite } from './evaluateService.js';
import { DEFAULT_HEALTH_CHECK_READS_PER_TICK, healthCheckTurn, healthChecksDue } from './healthChecks.js';
import { alarmSignalsFor, observeServices, type AlarmSignalRef, type KnownAlarmState, type ServiceObservationResult } from './observe.js';
import type { AlarmState } from '../core/types.js';
import { PollReasons, pollDecision, type PollDecision } from './pollingCadence.js';
import type { Runtime } from './runtime.js';

export interface ServiceFailure {
  readonly service: string;
  readonly error: Error;
}

export interface TickOutcome {
  readonly outcomes: readonly EvaluationOutcome[];
  readonly failures: readonly ServiceFailure[];
  /** Every service of the tick: whether it was read this period, and why. */
  readonly polling: readonly PollDecision[];
}

/** ChangeBatch.Comment holds at most 256 characters. */
const MAX_COMMENT = 256;

export interface TickOptions {
  readonly trigger?: string;
  /** @default every configured service */
  readonly services?: readonly ServiceConfig[];
  /** Read these whatever their cadence (a Scheduler payload naming services). @default none */
  readonly asked?: readonly string[];
  /** When this invocation will be stopped at the latest (see EvaluationRequest.deadline). */
  readonly deadline?: number;
  /** Alarm states known from the events that asked for this evaluation (onAlarms). @default none */
  readonly knownAlarms?: readonly KnownAlarmState[];
  /** A trigger per service, where it is not `trigger` (each service's own alarms). @default `trigger` for every one */
  readonly triggers?: Readonly<Record<string, string>>;
  /**
   * Read, decide and write one hosted zone after another, the zone with the most services first,
   * instead of reading every zone at once: an invocation whose Route 53 share cannot cover all its
   * zones before its deadline then completes whole zones and fails the rest fast (retryable), rather
   * than spending its share on reads whose writes never fit. @default false: every zone at once
   */
  readonly zonesInTurn?: boolean;
}

/** What a tick gathers before deciding: states, which services are due, observations, each zone's read. */
interface Gathered {
  readonly stored: ReadonlyMap<string, StoredServiceState | Error>;
  readonly polling: readonly PollDecision[];
  readonly observed: ReadonlyMap<string, ServiceObservationResult>;
  /** By record set key; a zone that could not be read holds its error. */
  readonly dns: ReadonlyMap<string, RecordSetWeights | Error>;
  /** The health checks this tick reads, when more are due than it may read; absent: every one due. */
  readonly healthCheckTurn?: ReadonlySet<string>;
}

export async function onTick(rt: Runtime, options: TickOptions = {}): Promise<TickOutcome> {
  const trigger = options.trigger ?? 'schedule';
  const services = options.services ?? rt.config.services;
  const failures: ServiceFailure[] = [];
  const fail = (service: string, error: unknown) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    rt.log.error('evaluation failed', { service, error: failure.message, errorName: failure.name });
    failures.push({ service, error: failure });
  };
  const gathered = await gather(rt, services, options);
  const due = readable(services, gathered, fail);
  const outcomes: EvaluationOutcome[] = [];
  for (const group of options.zonesInTurn ? byZoneFullestFirst(due) : [due]) {
    const zones = options.zonesInTurn ? { ...gathered, dns: await readZones(rt, group) } : gathered;
    // Decide and record intents, then write.
    const writes: PreparedWrite[] = [];
    await forEachBounded(group, rt.options?.concurrency ?? 4, async (service) => {
      try {
        const prepared = await prepareOne(rt, service, zones, options.triggers?.[service.name] ?? trigger, options.deadline);
        if (prepared.kind === 'done') outcomes.push(prepared.outcome);
        else writes.push(prepared);
      } catch (error) {
        fail(service.name, error);
      }
    });
    outcomes.push(...(await writeZones(rt, writes, fail)));
  }
  return { outcomes, failures, polling: gathered.polling };
}

/** The services grouped by hosted zone, the zone with the most first (ties in config order). */
function byZoneFullestFirst(services: readonly ServiceConfig[]): ServiceConfig[][] {
  const byZone = new Map<string, ServiceConfig[]>();
  for (const s of services) byZone.set(s.hostedZoneId, [...(byZone.get(s.hostedZoneId) ?? []), s]);
  return [...byZone.values()].sort((a, b) => b.length - a.length);
}

/** States in batches, the due services, then their observations and zones, at once. */
async function gather(rt: Runtime, services: readonly ServiceConfig[], options: TickOptions): Promise<Gathered> {
  const now = rt.clock.now();
  const stored = await rt.store.loadMany(services.map((s) => s.name)).catch((error: unknown) => {
    // The table cannot be read: every service of the tick fails with that error, none is skipped.
    const failure = error instanceof Error ? error : new Error(String(error));
    return new Map<string, StoredServiceState | Error>(services.map((s) => [s.name, failure]));
  });
  const asked = new Set(options.asked ?? []);
  const polling = services.map((service): PollDecision => {
    const state = stored.get(service.name);
    // An unreadable state is no reason to skip a service: its evaluation fails, loudly, with the error.
    if (!state || state instanceof Error) return { service: service.name, due: true, reason: PollReasons.STATE_UNREADABLE };
    if (asked.has(service.name)) return { service: service.name, due: true, reason: PollReasons.ASKED };
    return pollDecision(service, state, now);
  });
  const woken = await wakeOnAlarms(rt, services, polling);
  const due = services.filter((s, i) => woken.polling[i]!.due && !(stored.get(s.name) instanceof Error));
  const [observed, dns] = await Promise.all([
    observeServices(rt.metrics, due, now, rt.options ?? {}, [...woken.known, ...(options.knownAlarms ?? [])]),
    options.zonesInTurn ? new Map<string, RecordSetWeights | Error>() : readZones(rt, due),
  ]);
  const healthCheckTurn = healthChecksThisTick(rt, due, stored, dns, now);
  return { stored, polling: woken.polling, observed, dns, ...(healthCheckTurn ? { healthCheckTurn } : {}) };
}

/**
 * The quiet services a tick would skip are read after all when one of their alarms has left OK
 * (`ALARM_NOT_OK`). Their alarms are their fast path between reads, but the alarm function cannot
 * evaluate a whole fleet at its share of the rates when a region fails under it (docs/runtime.md,
 * "Alarm storms"): the tick reads their states itself, 100 alarms a DescribeAlarms call. A quiet
 * service's alarms were all OK at its last read (its verdicts were clear), so any other state is
 * news. When they cannot be read, the cadence stands (the alarm events remain the fast path).
 * The states read are the woken services' known alarm states: they are not read twice.
 */
async function wakeOnAlarms(
  rt: Runtime,
  services: readonly ServiceConfig[],
  polling: readonly PollDecision[],
): Promise<{ polling: readonly PollDecision[]; known: KnownAlarmState[] }> {
  const signals = alarmsOfQuietServices(services, polling);
  if (signals.length === 0) return { polling, known: [] };
  let states: ReadonlyMap<string, AlarmState>;
  try {
    states = await rt.metrics.fetchAlarmStates(signals.map((s) => s.ref));
  } catch (error) {
    rt.log.warn('the alarms of the quiet services could not be read: they wait for their turn or their alarm events', { error: (error as Error).message });
    return { polling, known: [] };
  }
  const read = signals.flatMap(({ ref, ...signal }) => {
    const state = states.get(ref.key);
    return state === undefined ? [] : [{ ...signal, state }];
  });
  // The first endpoint whose alarm left OK wakes its service; every state read of a woken service is known now.
  const woken = new Map<number, string>();
  for (const { index, endpoint, state } of read) if (state !== 'OK' && !woken.has(index)) woken.set(index, endpoint);
  const next = polling.map((p, i) => (woken.has(i) ? { service: p.service, due: true, reason: PollReasons.ALARM_NOT_OK, endpoint: woken.get(i)! } : p));
  const known = read.flatMap(({ index, ...state }) => (woken.has(index) ? [state] : []));
  return { polling: next, known };
}

/** The alarm signals of the services waiting for their quiet turn, each with its service's index in the tick. */
function alarmsOfQuietServices(services: readonly ServiceConfig[], polling: readonly PollDecision[]): (AlarmSignalRef & { readonly index: number })[] {
  return services.flatMap((service, index) =>
    polling[index]!.reason === PollReasons.QUIET_WAIT ? alarmSignalsFor(service).map((s) => ({ ...s, index })) : [],
  );
}

/**
 * The health checks this tick reads when more are due, over all its services, than
 * `healthCheckReadsPerTick` (healthChecks.ts, `healthCheckTurn`); undefined: every one due.
 */
function healthChecksThisTick(
  rt: Runtime,
  services: readonly ServiceConfig[],
  stored: ReadonlyMap<string, StoredServiceState | Error>,
  dns: ReadonlyMap<string, RecordSetWeights | Error>,
  now: number,
): ReadonlySet<string> | undefined {
  if (!rt.healthChecks) return undefined;
  const ids: string[] = [];
  for (const service of services) {
    const state = stored.get(service.name);
    const read = dns.get(recordSetKey(recordSetOf(service)));
    if (!state || state instanceof Error || !read || read instanceof Error) continue;
    ids.push(...healthChecksDue(service, state.state, now, read.healthChecks).values());
  }
  const budget = rt.options?.healthCheckReadsPerTick ?? DEFAULT_HEALTH_CHECK_READS_PER_TICK;
  const turn = healthCheckTurn(ids, budget, Math.floor(now / 60_000));
  if (turn) rt.log.info('more health checks are due than a tick reads: reading them in turns', { due: new Set(ids).size, budget, thisTick: turn.size });
  return turn;
}

/** The due services whose state could be read; the others fail with their state's error. */
function readable(services: readonly ServiceConfig[], gathered: Gathered, fail: (service: string, error: unknown) => void): ServiceConfig[] {
  const due = new Set(gathered.polling.filter((p) => p.due).map((p) => p.service));
  return services.filter((service) => {
    if (!due.has(service.name)) return false;
    const stored = gathered.stored.get(service.name);
    if (stored instanceof Error) fail(service.name, stored);
    return !(stored instanceof Error);
  });
}

/** Each hosted zone of the services read once, all zones at once; a zone that fails fails its services alone. */
async function readZones(rt: Runtime, services: readonly ServiceConfig[]): Promise<Map<string, RecordSetWeights | Error>> {
  const byZone = new Map<string, ServiceConfig[]>();
  for (const s of services) byZone.set(s.hostedZoneId, [...(byZone.get(s.hostedZoneId) ?? []), s]);
  const out = new Map<string, RecordSetWeights | Error>();
  await Promise.all(
    [...byZone].map(async ([zone, zoneServices]) => {
      const records = zoneServices.map(recordSetOf);
      try {
        for (const [key, read] of await rt.dns.readZone(zone, records)) out.set(key, read);
      } catch (error) {
        for (const record of records) out.set(recordSetKey(record), error instanceof Error ? error : new Error(String(error)));
      }
    }),
  );
  return out;
}

function prepareOne(rt: Runtime, service: ServiceConfig, gathered: Gathered, trigger: string, deadline: number | undefined) {
  const stored = gathered.stored.get(service.name) as StoredServiceState | undefined;
  const dns = gathered.dns.get(recordSetKey(recordSetOf(service)));
  if (dns instanceof Error) throw dns;
  return prepareEvaluation(rt, service, {
    trigger,
    observed: gathered.observed.get(service.name)!,
    preloaded: { ...(stored ? { stored } : {}), ...(dns ? { dns } : {}) },
    ...(gathered.healthCheckTurn ? { healthCheckTurn: gathered.healthCheckTurn } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
  });
}

/** Each hosted zone's changes written together, then each of its services completed. */
async function writeZones(rt: Runtime, writes: readonly PreparedWrite[], fail: (service: string, error: unknown) => void): Promise<EvaluationOutcome[]> {
  const outcomes: EvaluationOutcome[] = [];
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
    // Each completion is a few calls of its own (state, audit, notice, event): several at once, as the intents were recorded.
    await forEachBounded(zoneWrites, rt.options?.concurrency ?? 4, async (w) => {
      try {
        outcomes.push(await completeWrite(rt, w, changeIds));
      } catch (error) {
        fail(w.service.name, error);
      }
    });
  }
  return outcomes;
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
