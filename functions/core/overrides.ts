/**
 * The first phase of a decision: the overrides in force. Overrides end on their own; a drill ends
 * the moment its guard alarm fires; an edit made outside steer53 may become a pin (policy.drift).
 * Route 53's weights are what the decision starts from, whoever wrote them.
 */
import { phase, told, type Evaluation, type Phase } from './phase.js';
import { guardKey, type DrainOverride, type EpochMs, type Override, type Overrides, type Weights } from './types.js';
import { formatWeights } from './weights.js';

/** Who an adopted drift's pin is by. */
export const DRIFT_ACTOR = 'drift';

/** The longest an override lasts: 7 days after it was set, whoever wrote it and whatever its `until` says. */
export const MAX_OVERRIDE_MS = 7 * 24 * 3600 * 1000;

/** When an override ends: its `until`, never later than MAX_OVERRIDE_MS after it was set. */
export function endOf(o: Override): EpochMs {
  return Math.min(o.until ?? Number.POSITIVE_INFINITY, o.setAt + MAX_OVERRIDE_MS);
}

export interface OverridesInForce {
  readonly overrides: Overrides;
  /** Drills ended by their guard alarm in this evaluation: their endpoints come back at once. */
  readonly abortedDrills: readonly string[];
}

/** The overrides this evaluation decides under, and what became of the last evaluation's. */
export function applyOverrides(ev: Evaluation): Phase<OverridesInForce> {
  const reconciled = ev.drifted ? reconcile(ev) : {};
  const lifted = tellLifted(ev.previous.overrides, ev.service.dnsName);
  const expired = expireOverrides(lifted.value, ev.now, ev.service.name);
  const announced = announceOverrides(expired.value, ev.service.dnsName, ev.now);
  const aborted = abortDrills(ev, announced.value);
  const adopted = adoptDrift(ev, aborted.value.overrides);
  return phase({ overrides: adopted.value, abortedDrills: aborted.value.abortedDrills }, reconciled, lifted, expired, announced, aborted, adopted);
}

function reconcile(ev: Evaluation) {
  const last = ev.previous.appliedWeights!;
  const message = `Route 53 holds ${formatWeights(ev.current, ev.ids)}, not the ${formatWeights(last, ev.ids)} last written; deciding from what Route 53 holds`;
  return { reasons: [{ code: 'WEIGHTS_RECONCILED' as const, message }] };
}

/** Tells each override an operator lifted since the last evaluation (unfreeze, unpin, undrain), once, and drops the list. */
export function tellLifted(overrides: Overrides, dnsName: string): Phase<Overrides> {
  const { lifted, ...inForce } = overrides;
  if (lifted === undefined) return phase(overrides);
  const notes = lifted.map((l) => {
    const what = l.what === 'drain' ? `drain of ${l.endpoint ?? 'an endpoint'}` : l.what;
    const message = `${what} lifted by ${l.by} at ${new Date(l.at).toISOString()}: ${l.reason}; back to policy`;
    return told({ code: 'OVERRIDE_LIFTED', message, ...(l.endpoint !== undefined ? { endpoint: l.endpoint } : {}) }, 'info', dnsName);
  });
  return phase(inForce, ...notes);
}

/** Drops the overrides whose time is up, each with a reason and a notice (named by the service's name, where the others name its DNS name). */
export function expireOverrides(overrides: Overrides, now: EpochMs, serviceName: string): Phase<Overrides> {
  const expired = (o: Override | undefined): o is Override => o !== undefined && now >= endOf(o);
  const note = (what: string, o: Override) => {
    const message = `${what} set by ${o.by} (${o.reason}) expired; back to policy`;
    return told({ code: 'OVERRIDE_EXPIRED', message }, 'info', serviceName);
  };
  const notes = [
    ...(expired(overrides.freeze) ? [note('freeze', overrides.freeze)] : []),
    ...(expired(overrides.pin) ? [note('pin', overrides.pin)] : []),
    ...Object.entries(overrides.drains ?? {})
      .filter(([, drain]) => expired(drain))
      .map(([id, drain]) => note(`maintenance drain of ${id}`, drain)),
  ];
  const drains = Object.fromEntries(Object.entries(overrides.drains ?? {}).filter(([, drain]) => !expired(drain)));
  const next: Overrides = {
    ...(overrides.freeze && !expired(overrides.freeze) ? { freeze: overrides.freeze } : {}),
    ...(overrides.pin && !expired(overrides.pin) ? { pin: overrides.pin } : {}),
    ...(Object.keys(drains).length > 0 ? { drains } : {}),
  };
  return phase(next, ...notes);
}

/**
 * Overrides not yet told (set or changed by the CLI, or written into the table by hand) are told
 * once, with the end the engine gives them: their `until`, at most 7 days after they were set.
 * A `setAt` in the future (only a hand-written item can have one) counts from now, so no date
 * written into the table stretches an override beyond 7 days.
 */
export function announceOverrides(overrides: Overrides, dnsName: string, now: EpochMs): Phase<Overrides> {
  const fresh = (o: Override | undefined): o is Override => o !== undefined && o.announced !== true;
  const settle = <T extends Override>(o: T): T => {
    const setAt = Math.min(o.setAt, now);
    return { ...o, setAt, until: endOf({ ...o, setAt }), announced: true };
  };
  const note = (what: string, o: Override, endpoint?: string) => {
    const end = settle(o).until!;
    const capped = o.until === null || o.until > end ? ' (capped: an override lasts at most 7 days)' : '';
    const message = `${what} set by ${o.by} until ${new Date(end).toISOString()}${capped}: ${o.reason}`;
    return told({ code: 'OVERRIDE_SET', message, ...(endpoint !== undefined ? { endpoint } : {}) }, 'warning', dnsName);
  };
  const drains = Object.entries(overrides.drains ?? {});
  const notes = [
    ...(fresh(overrides.freeze) ? [note('freeze', overrides.freeze)] : []),
    ...(fresh(overrides.pin) ? [note('pin', overrides.pin)] : []),
    ...drains.filter(([, d]) => fresh(d)).map(([id, d]) => note(d.guard ? `drill of ${id}` : `maintenance drain of ${id}`, d, id)),
  ];
  if (notes.length === 0) return phase(overrides);
  const next: Overrides = {
    ...(overrides.freeze ? { freeze: settle(overrides.freeze) } : {}),
    ...(overrides.pin ? { pin: settle(overrides.pin) } : {}),
    ...(drains.length > 0 ? { drains: Object.fromEntries(drains.map(([id, d]) => [id, settle(d)])) } : {}),
  };
  return phase(next, ...notes);
}

/** A drill ends the moment its guard alarm fires: the practice must not become the incident. */
function abortDrills(ev: Evaluation, overrides: Overrides): Phase<OverridesInForce> {
  const firing = (drain: DrainOverride) => drain.guard !== undefined && ev.guardAlarms[guardKey(drain.guard)] === 'ALARM';
  const aborted = Object.entries(overrides.drains ?? {}).filter(([, drain]) => firing(drain));
  if (aborted.length === 0) return phase({ overrides, abortedDrills: [] });
  const drains = Object.fromEntries(Object.entries(overrides.drains!).filter(([, drain]) => !firing(drain)));
  const { drains: _all, ...rest } = overrides;
  const notes = aborted.map(([id, drill]) => {
    const message = `drill of ${id} aborted: guard alarm ${drill.guard!.name} (${drill.guard!.region}) is in ALARM; ${id} comes back at once`;
    return told({ code: 'DRILL_ABORTED', endpoint: id, message }, 'critical', ev.service.dnsName);
  });
  const next = Object.keys(drains).length > 0 ? { ...rest, drains } : rest;
  return phase({ overrides: next, abortedDrills: aborted.map(([id]) => id) }, ...notes);
}

/** Weights set outside steer53 become a pin for a while, when policy says adopt and no operator holds the service. */
function adoptDrift(ev: Evaluation, overrides: Overrides): Phase<Overrides> {
  const operatorHolds = overrides.freeze !== undefined || (overrides.pin !== undefined && overrides.pin.by !== DRIFT_ACTOR);
  if (!ev.drifted || ev.policy.drift.action !== 'adopt' || operatorHolds) return phase(overrides);
  const until = ev.now + ev.policy.drift.adoptSeconds * 1000;
  const weights: Weights = { ...ev.current };
  // Told by its own reason (DRIFT_ADOPTED), so already announced.
  const pin = { by: DRIFT_ACTOR, reason: 'Route 53 weights changed outside steer53', setAt: ev.now, until, weights, announced: true };
  const message = `adopted the weights set outside steer53 (${formatWeights(ev.current, ev.ids)}) as a pin until ${new Date(until).toISOString()}; policy resumes then`;
  return phase({ ...overrides, pin }, told({ code: 'DRIFT_ADOPTED', message }, 'warning', ev.service.dnsName));
}

/** ` until <ISO time>`: every override ends, at the latest 7 days after it was set. */
export function untilText(o: Override): string {
  return ` until ${new Date(endOf(o)).toISOString()}`;
}
