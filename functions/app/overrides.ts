/**
 * Operator overrides: freeze a service, pin its weights, drain an endpoint for maintenance, and
 * undo each. An override is written into the service's state item under the same optimistic
 * concurrency as every evaluation (a lost race re-reads and re-applies). Its audit entry, naming
 * who and why, is written *before* the state (`intended`) and marked `recorded` once the state is:
 * no override is ever in force without an entry, and DynamoDB Local emulators without
 * TransactWriteItems (dynalite) run the same code as DynamoDB. The next evaluation (within a
 * minute) carries it out, tells people (notice and `Override Changed` event), and the engine ends
 * it at its `until` — at most 7 days after it was set (MAX_OVERRIDE_MS), whoever wrote it.
 */
import type { ServiceConfig } from '../core/config.js';
import { initialServiceState } from '../core/engine.js';
import { MAX_OVERRIDE_MS } from '../core/overrides.js';
import { ValidationError } from '../core/errors.js';
import type { EpochMs, GuardAlarm, LiftedOverride, Override, Overrides, Weights } from '../core/types.js';
import type { Clock } from '../ports/clock.js';
import { StateVersionConflictError } from '../ports/errors.js';
import { AuditKinds, AuditStatuses, type AuditEntry, type StateStore } from '../ports/stateStore.js';

export type OverrideAction =
  | { readonly kind: 'freeze'; readonly until: EpochMs | null }
  | { readonly kind: 'unfreeze' }
  | { readonly kind: 'pin'; readonly weights: Weights; readonly until: EpochMs }
  | { readonly kind: 'unpin' }
  | { readonly kind: 'drain'; readonly endpoint: string; readonly until: EpochMs; readonly guard?: GuardAlarm }
  | { readonly kind: 'undrain'; readonly endpoint: string };

export interface OverrideRequest {
  readonly action: OverrideAction;
  /** Who: the operator's IAM principal. */
  readonly by: string;
  readonly reason: string;
}

export interface OverrideOutcome {
  /** False when there was nothing to undo (the service was not frozen, the endpoint not drained…). */
  readonly changed: boolean;
  /** One line saying what was done. */
  readonly summary: string;
  /** The overrides in force after the change. */
  readonly overrides: Overrides;
  /** The state version written (or read, when nothing changed). */
  readonly version: number;
}

export interface OverridePorts {
  readonly store: StateStore;
  readonly clock: Clock;
  readonly newId: () => string;
}

const MAX_ATTEMPTS = 5;

/** Sets or removes one override on a service's state; throws ValidationError for a request that cannot be right. */
export async function setOverride(ports: OverridePorts, service: ServiceConfig, request: OverrideRequest): Promise<OverrideOutcome> {
  const now = ports.clock.now();
  check(service, request, now);
  const auditId = ports.newId();
  for (let attempt = 1; ; attempt += 1) {
    const stored = await ports.store.load(service.name);
    const state = stored.state ?? initialServiceState(service, now);
    const { overrides, changed, summary } = apply(state.overrides, request, now, service);
    if (!changed) return { changed, summary, overrides, version: stored.version };
    const entry = overrideAudit(service, request, auditId, now, summary);
    await ports.store.putAudit(entry);
    try {
      const version = await ports.store.save(service.name, stored.version, {
        state: { ...state, overrides },
        pending: stored.pending,
        driftSignature: stored.driftSignature,
        blockedSignature: stored.blockedSignature,
        updatedAt: now,
        ...(stored.engineWeights ? { engineWeights: stored.engineWeights } : {}),
      });
      await ports.store.putAudit({ ...entry, status: AuditStatuses.RECORDED });
      return { changed, summary, overrides, version };
    } catch (error) {
      // Another writer (an evaluation, another operator) won the race: read again and re-apply.
      if (!(error instanceof StateVersionConflictError) || attempt >= MAX_ATTEMPTS) {
        await ports.store.putAudit({ ...entry, status: AuditStatuses.FAILED, detail: { ...entry.detail, error: (error as Error).message.slice(0, 1000) } });
        throw error;
      }
    }
  }
}

/** The audit entry of an override, written before the state (`intended`), then marked with what became of it. */
function overrideAudit(service: ServiceConfig, request: OverrideRequest, id: string, now: EpochMs, summary: string): AuditEntry {
  return {
    service: service.name,
    id,
    at: now,
    kind: AuditKinds.OVERRIDE,
    status: AuditStatuses.INTENDED,
    actor: request.by,
    summary: `${service.dnsName}: ${summary}`.slice(0, 1000),
    detail: { action: request.action, reason: request.reason.slice(0, 1000) },
  };
}

function check(service: ServiceConfig, request: OverrideRequest, now: EpochMs): void {
  const ids = service.endpoints.map((e) => e.setIdentifier);
  const problems: { path: string; message: string }[] = [];
  const { action } = request;
  if (request.reason.trim() === '') problems.push({ path: 'reason', message: 'must say why (it goes in the audit log and the notices)' });
  if ('until' in action && action.until !== null && action.until <= now) problems.push({ path: 'until', message: 'must be in the future' });
  if ('until' in action && action.until !== null && action.until > now + MAX_OVERRIDE_MS) {
    problems.push({ path: 'until', message: 'must be at most 7 days from now: every override ends, and the engine ends a longer one at 7 days' });
  }
  if ((action.kind === 'drain' || action.kind === 'undrain') && !ids.includes(action.endpoint)) {
    problems.push({ path: 'endpoint', message: `"${action.endpoint}" is not an endpoint of ${service.name} (endpoints: ${ids.join(', ')})` });
  }
  if (action.kind === 'pin') {
    const named = Object.entries(action.weights);
    if (named.length === 0) problems.push({ path: 'weights', message: 'name at least one endpoint' });
    for (const [id, weight] of named) {
      if (!ids.includes(id)) problems.push({ path: `weights.${id}`, message: `is not an endpoint of ${service.name} (endpoints: ${ids.join(', ')})` });
      else if (!Number.isInteger(weight) || weight < 0 || weight > 255) problems.push({ path: `weights.${id}`, message: 'must be an integer 0–255' });
    }
    if (ids.every((id) => action.weights[id] === 0))
      problems.push({ path: 'weights', message: 'would set every weight to 0, and Route 53 answers an all-zero set evenly' });
  }
  if (problems.length > 0) throw new ValidationError(`override of ${service.name}`, problems);
}

function apply(
  overrides: Overrides,
  request: OverrideRequest,
  now: EpochMs,
  service: ServiceConfig,
): { overrides: Overrides; changed: boolean; summary: string } {
  const { action } = request;
  const override = (until: EpochMs | null): Override => ({ by: request.by, reason: request.reason, setAt: now, until });
  const untilText = (until: EpochMs) => `until ${new Date(until).toISOString()}`;
  // A lifted override is told by the next evaluation, as a set one is.
  const lifting = (next: Overrides, what: LiftedOverride['what'], endpoint?: string): Overrides => ({
    ...next,
    // The newest 20: an evaluation tells and drops them within a minute; the bound keeps the item small if none runs.
    lifted: [...(overrides.lifted ?? []), { what, ...(endpoint !== undefined ? { endpoint } : {}), by: request.by, reason: request.reason, at: now }].slice(
      -20,
    ),
  });
  const { freeze, pin, drains } = overrides;
  switch (action.kind) {
    case 'freeze': {
      // A freeze without an end lasts the longest any override may.
      const until = action.until ?? now + MAX_OVERRIDE_MS;
      return { overrides: { ...overrides, freeze: override(until) }, changed: true, summary: `frozen by ${request.by} ${untilText(until)}: ${request.reason}` };
    }
    case 'unfreeze':
      if (!freeze) return { overrides, changed: false, summary: `${service.name} is not frozen` };
      return { overrides: lifting(withoutKey(overrides, 'freeze'), 'freeze'), changed: true, summary: `unfrozen by ${request.by}: ${request.reason}` };
    case 'pin': {
      const weights = Object.entries(action.weights)
        .map(([id, w]) => `${id}=${w}`)
        .join(' ');
      return {
        overrides: { ...overrides, pin: { ...override(action.until), weights: { ...action.weights } } },
        changed: true,
        summary: `weights pinned to ${weights} by ${request.by} ${untilText(action.until)}: ${request.reason}`,
      };
    }
    case 'unpin':
      if (!pin) return { overrides, changed: false, summary: `${service.name} has no pin` };
      return { overrides: lifting(withoutKey(overrides, 'pin'), 'pin'), changed: true, summary: `pin removed by ${request.by}: ${request.reason}` };
    case 'drain': {
      const drill = action.guard ? ` as a drill (aborted at once if ${action.guard.name} in ${action.guard.region} goes to ALARM)` : ' for maintenance';
      return {
        overrides: {
          ...overrides,
          drains: { ...(drains ?? {}), [action.endpoint]: { ...override(action.until), ...(action.guard ? { guard: action.guard } : {}) } },
        },
        changed: true,
        summary: `${action.endpoint} drained${drill} by ${request.by} ${untilText(action.until)}: ${request.reason}`,
      };
    }
    case 'undrain': {
      if (!drains?.[action.endpoint]) return { overrides, changed: false, summary: `${action.endpoint} is not drained for maintenance` };
      const { [action.endpoint]: _gone, ...others } = drains;
      const next = withoutKey(overrides, 'drains');
      return {
        overrides: lifting(Object.keys(others).length > 0 ? { ...next, drains: others } : next, 'drain', action.endpoint),
        changed: true,
        summary: `${action.endpoint} back in service by ${request.by}: ${request.reason}`,
      };
    }
  }
}

function withoutKey<K extends keyof Overrides>(overrides: Overrides, key: K): Overrides {
  const { [key]: _gone, ...rest } = overrides;
  return rest;
}
