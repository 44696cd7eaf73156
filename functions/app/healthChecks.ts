/**
 * The use case's side of the records' Route 53 health checks: once the records are read (their
 * `HealthCheckId`s come with the weights: `RecordSetWeights.healthChecks`), and before deciding,
 * read what the health checks say of the endpoints whose state makes the engine ask
 * (core/types.ts, `EndpointObservations.healthCheck`), and put it into their observations:
 *  - drained because they were failing (`status: 'drained'`, `failed: true`): a health check
 *    that fails marks the failure as one it sees, and one that passes again restores the endpoint;
 *    and, when its check reads healthy, how many of its checkers saw a failed check lately
 *    (`healthCheckFailures`; over the last minute when its check was seen failing): while enough
 *    do, it is still failing, and its recovery, or its restore, waits;
 *  - just restored by their health check (`alarmLagUntil` still ahead): a passing check tells an
 *    alarm that has not caught up yet from a new failure.
 * Every other endpoint is left unread. Route 53's API takes 10 requests a second per account, the
 * weight writes included, so a quiet service makes no call at all, and a service reads each
 * health check that qualifies once per evaluation (a calculated one through its children: the
 * adapter reads them), or in turns when a tick has more due than it may read (`healthCheckTurn`).
 * A read that fails is a gap: that endpoint's field stays absent, and the engine decides on it as
 * it would without health checks. An endpoint whose record has no health check is never read,
 * whoever manages the record.
 */
import type { ServiceConfig } from '../core/config.js';
import { CHECKER_FAILURE_WINDOW_MS, CHECKER_RESTORE_WINDOW_MS } from '../core/hysteresis.js';
import type { EndpointObservations, EpochMs, ServiceState } from '../core/types.js';
import type { ServiceObservationResult } from './observe.js';
import { stableHash } from './pollingCadence.js';
import type { Runtime } from './runtime.js';
import { ownValue } from './weightRecords.js';

/**
 * The health checks to read for a service now: health check id by SetIdentifier, for each
 * endpoint whose record has a health check (`idsBySetIdentifier`, as read with the weights) and
 * whose stored state makes the engine ask (see the top of this file).
 */
export function healthChecksDue(
  service: ServiceConfig,
  state: ServiceState | undefined,
  now: EpochMs,
  idsBySetIdentifier: Readonly<Record<string, string>> | undefined,
): Map<string, string> {
  const due = new Map<string, string>();
  if (!state || !idsBySetIdentifier) return due;
  for (const endpoint of service.endpoints) {
    const id = ownValue(idsBySetIdentifier, endpoint.setIdentifier);
    const stored = ownValue(state.endpoints, endpoint.setIdentifier);
    if (id === undefined || stored === undefined) continue;
    const justRestored = stored.alarmLagUntil !== undefined && now < stored.alarmLagUntil;
    if (drainedFailing(state, endpoint.setIdentifier) || justRestored) due.set(endpoint.setIdentifier, id);
  }
  return due;
}

/** Is the endpoint drained because it was failing, as its stored state says. */
function drainedFailing(state: ServiceState | undefined, setIdentifier: string): boolean {
  const stored = state ? ownValue(state.endpoints, setIdentifier) : undefined;
  return stored?.status === 'drained' && stored.failed === true;
}

/**
 * Are its health check's checkers' recent failures read too, when the check reads healthy (a
 * second Route 53 read): an endpoint drained for failing. One whose check passes all through (a
 * region failing part of its requests: a checker turns only after failures in a row) recovers on
 * its own evidence, and its checkers say whether it still fails; one whose check was seen failing
 * (a region down) is restored the moment its check passes again, unless its checkers say the check
 * flickers (a region failing most of its requests).
 */
export function checkerFailuresDue(state: ServiceState | undefined, setIdentifier: string): boolean {
  return drainedFailing(state, setIdentifier);
}

/**
 * How far back its checkers' failures are counted: `CHECKER_FAILURE_WINDOW_MS` for an endpoint
 * whose check has not been seen failing (to prove its errors stopped), `CHECKER_RESTORE_WINDOW_MS`
 * for one whose check has (to tell a check that passes again from one that flickers).
 */
export function checkerFailureWindowMs(state: ServiceState | undefined, setIdentifier: string): number {
  return (state && ownValue(state.endpoints, setIdentifier))?.healthCheckFailed === true ? CHECKER_RESTORE_WINDOW_MS : CHECKER_FAILURE_WINDOW_MS;
}

/** Seconds of a function's Route 53 rate a tick may spend reading health checks (a shard's tick aims at 20 s in all). */
export const HEALTH_CHECK_SECONDS_PER_TICK = 5;

/**
 * Health checks a tick may read at a function's share of Route 53's requests a second:
 * HEALTH_CHECK_SECONDS_PER_TICK of them. A check that reads healthy while its endpoint is drained
 * for failing takes a second read (`checkerFailuresDue`), not counted here: a region down reads
 * unhealthy until it is back, and a region failing part of its requests in every service at once,
 * or coming back in every service at once, is the case where a tick spends up to twice its share.
 */
export function healthCheckReadsPerTick(route53RequestsPerSecond: number): number {
  return Math.max(1, Math.floor(route53RequestsPerSecond * HEALTH_CHECK_SECONDS_PER_TICK));
}

/**
 * Health checks a tick reads at most when its runtime says nothing (`RuntimeOptions.healthCheckReadsPerTick`;
 * the AWS runtime sizes it from the invocation's share of Route 53's rate): a shard at 8 requests a second.
 */
export const DEFAULT_HEALTH_CHECK_READS_PER_TICK = healthCheckReadsPerTick(8);

/**
 * The health checks a tick reads when more are due than it may read (`budget`): in a stable order
 * (a hash of the id), each due check gets its turn once every ⌈due / budget⌉ ticks. A region's
 * outage drains every service in it at once, and a thousand reads a minute would spend the tick's
 * Route 53 requests (10 a second for the whole account) before its weight writes; read in turns,
 * each restore comes a few minutes later instead. Undefined when every due check fits: read them all.
 */
export function healthCheckTurn(ids: Iterable<string>, budget: number, minute: number): ReadonlySet<string> | undefined {
  const unique = [...new Set(ids)];
  const per = Math.max(1, Math.floor(budget));
  if (unique.length <= per) return undefined;
  const turns = Math.ceil(unique.length / per);
  const ordered = unique.map((id) => ({ id, hash: stableHash(id) })).sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : 1));
  const turn = ((minute % turns) + turns) % turns;
  return new Set(ordered.filter((_, i) => i % turns === turn).map((e) => e.id));
}

/**
 * The observations with `healthCheck` set on the endpoints due (`healthChecksDue`, for the records'
 * health checks `idsBySetIdentifier`) whose health check has a verdict. Nothing due, or no health
 * check port: the observations as they were, and no call. A failed read is logged, named in the
 * gaps, and leaves that health check's endpoints' `healthCheck` absent; the others are still read.
 */
export async function withHealthChecks(
  rt: Pick<Runtime, 'healthChecks'> & { readonly log?: Runtime['log'] },
  service: ServiceConfig,
  state: ServiceState | undefined,
  now: EpochMs,
  observed: ServiceObservationResult,
  idsBySetIdentifier: Readonly<Record<string, string>> | undefined,
  thisTurn?: ReadonlySet<string>,
): Promise<ServiceObservationResult> {
  const port = rt.healthChecks;
  const due = port ? healthChecksDue(service, state, now, idsBySetIdentifier) : new Map<string, string>();
  // A tick reading in turns (healthCheckTurn): a check whose turn it is not stays unread, as one not due.
  if (thisTurn) for (const [setIdentifier, id] of due) if (!thisTurn.has(id)) due.delete(setIdentifier);
  if (!port || due.size === 0) return observed;
  // One read per health check, side by side: one that cannot be read (a deleted one, or a
  // calculated one with a child that cannot be read) leaves the others' statuses known. Then the
  // checkers' failures, only where `checkerFailuresDue` and the check reads healthy (the
  // endpoint's recovery, or its restore, waits on them; a check that fails says enough).
  const reads = await Promise.all([...new Set(due.values())].map((id) => readOne(id, () => port.statusOf(id))));
  const statuses = known(reads);
  // Since when, by health check: a check two records share counts over the longer of their windows.
  const failingIds = new Map<string, number>();
  for (const [setIdentifier, id] of due) {
    if (!checkerFailuresDue(state, setIdentifier) || statuses.get(id) !== 'healthy') continue;
    const since = now - checkerFailureWindowMs(state, setIdentifier);
    failingIds.set(id, Math.min(since, failingIds.get(id) ?? since));
  }
  const failureReads = await Promise.all([...failingIds].map(([id, since]) => readOne(id, () => port.checkersFailedSince(id, since))));
  const checkerFailures = known(failureReads);
  const failures = [...reads, ...failureReads].flatMap((r) => (r.error === undefined ? [] : [r]));
  for (const { id, error } of failures) {
    const endpoints = [...due].filter(([, check]) => check === id).map(([setIdentifier]) => setIdentifier);
    rt.log?.warn('could not read a Route 53 health check; deciding without it', { service: service.name, endpoints, healthCheckId: id, error });
  }
  // Entries, not assignments: a SetIdentifier "__proto__" must be a plain key.
  const endpoints = new Map<string, EndpointObservations | undefined>(Object.entries(observed.observations.endpoints));
  for (const [setIdentifier, id] of due) {
    const healthCheck = statuses.get(id);
    const healthCheckFailures = checkerFailures.get(id);
    if (healthCheck === undefined && healthCheckFailures === undefined) continue;
    endpoints.set(setIdentifier, {
      signals: {},
      ...endpoints.get(setIdentifier),
      ...(healthCheck === undefined ? {} : { healthCheck }),
      ...(healthCheckFailures === undefined ? {} : { healthCheckFailures }),
    });
  }
  return {
    ...observed,
    observations: { ...observed.observations, endpoints: Object.fromEntries(endpoints) },
    gaps: [...observed.gaps, ...failures.map((f) => `health checks: ${f.error}`)],
  };
}

/** The values read, by health check id (a read with no value, or that failed, has none). */
function known<T>(reads: readonly Read<T>[]): Map<string, T> {
  return new Map(reads.flatMap((r) => (r.value === undefined ? [] : [[r.id, r.value] as const])));
}

interface Read<T> {
  readonly id: string;
  readonly value?: T;
  readonly error?: string;
}

/** One read of a health check (its status, or its checkers' failures), or why it could not be read. */
async function readOne<T>(id: string, read: () => Promise<T | undefined>): Promise<Read<T>> {
  try {
    const value = await read();
    return value === undefined ? { id } : { id, value };
  } catch (error) {
    return { id, error: (error as Error).message };
  }
}
