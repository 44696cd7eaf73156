import { Cron } from 'croner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCron, latestStart } from '../../../functions/core/drills.js';

const MINUTE = 60_000;
const base = Date.UTC(2026, 11, 1, 0, 0, 0);

/** Every minute of the window, one by one: slow, obviously right. */
function latestByScan(schedule: string, now: number, withinMs: number): number | null {
  const cron = new Cron(schedule, { timezone: 'UTC', paused: true });
  let latest: number | null = null;
  for (let run = cron.nextRun(new Date(now - withinMs)); run !== null && run.getTime() <= now; run = cron.nextRun(run)) latest = run.getTime();
  return latest;
}

describe('latestStart', () => {
  it('names the scheduled time inside the window, or nothing', () => {
    const tuesday10 = Date.UTC(2026, 11, 8, 10, 0, 0);
    expect(latestStart('0 10 * * 2', tuesday10, 15 * MINUTE)).toBe(tuesday10);
    expect(latestStart('0 10 * * 2', tuesday10 + 14 * MINUTE + 59_999, 15 * MINUTE)).toBe(tuesday10);
    expect(latestStart('0 10 * * 2', tuesday10 + 15 * MINUTE, 15 * MINUTE)).toBeNull();
    expect(latestStart('0 10 * * 2', tuesday10 - 1, 15 * MINUTE)).toBeNull();
  });

  it('agrees with a minute-by-minute scan for any schedule, time and window', () => {
    const schedules = ['* * * * *', '*/7 * * * *', '0 10 * * 2', '30 */3 * * *', '15 9-17 * * 1-5', '0 0 1 * *', '59 23 * * *'];
    fc.assert(
      fc.property(
        fc.constantFrom(...schedules),
        fc.integer({ min: 0, max: 60 * 24 * 40 * 60 }),
        fc.integer({ min: 1, max: 24 * 60 }),
        (schedule, offsetSeconds, windowMinutes) => {
          const now = base + offsetSeconds * 1000;
          expect(latestStart(schedule, now, windowMinutes * MINUTE)).toBe(latestByScan(schedule, now, windowMinutes * MINUTE));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads five-field expressions only', () => {
    expect(isCron('0 10 * * 2')).toBe(true);
    expect(isCron('0 0 10 * * 2')).toBe(false);
    expect(isCron('not a cron')).toBe(false);
  });
});
