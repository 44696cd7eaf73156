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

export interface OverridesInForce {
  readonly overrides: Overrides;
  /** Drills ended by their guard alarm in this evaluation: their endpoints come back at once. */
  readonly abortedDrills: readonly string[];
}

/** The overrides this evaluation decides under, and what became of the last evaluation's. */
export function applyOverrides(ev: Evaluation): Phase<OverridesInForce> {
  const reconciled = ev.drifted ? reconcile(ev) : {};
  const expired = expireOverrides(ev.previous.overrides, ev.now, ev.service.name);
  const aborted = abortDrills(ev, expired.value);
  const adopted = adoptDrift(ev, aborted.value.overrides);
  return phase({ overrides: adopted.value, abortedDrills: aborted.value.abortedDrills }, reconciled, expired, aborted, adopted);
}

function reconcile(ev: Evaluation) {
  const last = ev.previous.appliedWeights!;
  const message = `Route 53 holds ${formatWeights(ev.current, ev.ids)}, not the ${formatWeights(last, ev.ids)} last written; deciding from what Route 53 holds`;
  return { reasons: [{ code: 'WEIGHTS_RECONCILED' as const, message }] };
}

/** Drops the overrides whose time is up, each with a reason and a notice (named by the service's name, where the others name its DNS name). */
export function expireOverrides(overrides: Overrides, now: EpochMs, serviceName: string): Phase<Overrides> {
  const expired = (o: Override | undefined): o is Override => o !== undefined && o.until !== null && now >= o.until;
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
  const pin = { by: DRIFT_ACTOR, reason: 'Route 53 weights changed outside steer53', setAt: ev.now, until, weights };
  const message = `adopted the weights set outside steer53 (${formatWeights(ev.current, ev.ids)}) as a pin until ${new Date(until).toISOString()}; policy resumes then`;
  return phase({ ...overrides, pin }, told({ code: 'DRIFT_ADOPTED', message }, 'warning', ev.service.dnsName));
}

/** ` until <ISO time>`, or nothing for an override without an end. */
export function untilText(o: Override): string {
  return o.until === null ? '' : ` until ${new Date(o.until).toISOString()}`;
}
