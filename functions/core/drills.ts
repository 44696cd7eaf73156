/**
 * Drill schedules: cron expressions in UTC, read with croner (no dependencies, pure). Five fields
 * only (minute hour day-of-month month day-of-week), so a seconds field cannot shift every other
 * field by one without anyone noticing.
 */
import { Cron } from 'croner';
import type { EpochMs } from './types.js';

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

/** The latest time the schedule names at or before `now`; null when it has never fired. */
export function latestStart(schedule: string, now: EpochMs): EpochMs | null {
  // croner lists runs strictly before its reference: ask from a millisecond after now.
  const [latest] = cronOf(schedule).previousRuns(1, new Date(now + 1));
  return latest ? latest.getTime() : null;
}
