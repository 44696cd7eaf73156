/**
 * Drill schedules: cron expressions in UTC, read with croner (no dependencies, pure). Five fields
 * only (minute hour day-of-month month day-of-week), so a seconds field cannot shift every other
 * field by one without anyone noticing. The phase of a decision that starts the drills that are due.
 */
import { Cron } from 'croner';
import { phase, told, type Evaluation, type Phase, type Said } from './phase.js';
import { guardKey, type AlarmState, type EpochMs, type Overrides } from './types.js';

function cronOf(schedule: string): Cron {
  return new Cron(schedule, { timezone: 'UTC', paused: true });
}

/** A five-field cron expression croner can read. */
export function isCron(schedule: string): boolean {
  if (schedule.trim().split(/\s+/).length !== 5) return false;
  try {
    cronOf(schedule);
    return true;
  } catch {
    return false;
  }
}

/**
 * The latest time the schedule names in (now − withinMs, now], or null: a drill matters only
 * while its window is open, so only that far back is looked at. croner gives the next run strictly
 * after a reference, so this bisects for the last reference whose next run is still at or before
 * now (about a dozen lookups for a day's window, whatever the schedule).
 */
export function latestStart(schedule: string, now: EpochMs, withinMs: number): EpochMs | null {
  const cron = cronOf(schedule);
  const runsBy = (reference: EpochMs): boolean => (cron.nextRun(new Date(reference))?.getTime() ?? Number.POSITIVE_INFINITY) <= now;
  let lo = now - withinMs;
  if (!runsBy(lo)) return null;
  // runsBy(lo) and not runsBy(hi): every run in (lo, now] lies in (lo, hi], and runs are a minute apart at least.
  let hi = now;
  while (hi - lo > 60_000) {
    const mid = Math.floor((lo + hi) / 2);
    if (runsBy(mid)) lo = mid;
    else hi = mid;
  }
  return cron.nextRun(new Date(lo))?.getTime() ?? null;
}

/**
 * Scheduled drills that are due start now, one try per scheduled time, and only on a fully
 * healthy service: a drill is practice, never a load on a service already under strain.
 */
export function startDrills(ev: Evaluation, overrides: Overrides): Phase<{ overrides: Overrides; drillStarts: Record<string, EpochMs> }> {
  const { service, now } = ev;
  let next = overrides;
  const drillStarts: Record<string, EpochMs> = { ...ev.previous.drillStarts };
  const notes: Partial<Said>[] = [];
  for (const drill of service.drills) {
    const start = latestStart(drill.schedule, now, drill.durationMinutes * 60_000);
    const id = drill.endpoint;
    if (start === null || now >= start + drill.durationMinutes * 60_000 || drillStarts[id] === start) continue;
    drillStarts[id] = start;
    const until = start + drill.durationMinutes * 60_000;
    const blocker = drillBlocker(ev, id, next, ev.guardAlarms[guardKey(drill.guardAlarm)]);
    if (blocker) {
      const message = `scheduled drill of ${id} (${drill.schedule} UTC) skipped: ${blocker}`;
      notes.push(told({ code: 'DRILL_SKIPPED', endpoint: id, message }, 'warning', service.dnsName));
      continue;
    }
    // Told by its own reason (DRILL_STARTED), so already announced.
    const drain = { by: 'drill schedule', reason: `scheduled drill (${drill.schedule} UTC)`, setAt: now, until, guard: drill.guardAlarm, announced: true };
    next = { ...next, drains: { ...(next.drains ?? {}), [id]: drain } };
    const message = `drill: ${id} drained until ${new Date(until).toISOString()}, aborted at once if ${drill.guardAlarm.name} (${drill.guardAlarm.region}) goes to ALARM`;
    notes.push(told({ code: 'DRILL_STARTED', endpoint: id, message }, 'info', service.dnsName));
  }
  return phase({ overrides: next, drillStarts }, ...notes);
}

/** Why a scheduled drill must not start now, or undefined. */
function drillBlocker(ev: Evaluation, id: string, overrides: Overrides, guard: AlarmState | undefined): string | undefined {
  const endpoints = ev.priorEndpoints;
  if (guard === 'ALARM') return 'its guard alarm is in ALARM';
  const unwell = ev.ids.filter((other) => endpoints[other]!.status !== 'healthy');
  if (unwell.length > 0) return `not every endpoint is healthy (${unwell.map((other) => `${other} ${endpoints[other]!.status}`).join(', ')})`;
  if (ev.previous.failStaticSince !== null) return 'the service is failing static';
  if (overrides.freeze) return `the service is frozen by ${overrides.freeze.by}`;
  if (overrides.pin) return `the weights are pinned by ${overrides.pin.by}`;
  if (overrides.drains?.[id]) return `${id} is already drained by ${overrides.drains[id]!.by}`;
  const rollouts = Object.keys(ev.previous.rollouts);
  if (rollouts.length > 0) return `a rollout is in progress (${rollouts.join(', ')})`;
  return undefined;
}
