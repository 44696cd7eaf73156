/** A clock set from outside: the simulator moves it through simulated time, tests pin it. */
import type { EpochMs } from '../../core/types.js';
import type { Clock } from '../../ports/clock.js';

export class ManualClock implements Clock {
  #now: EpochMs;

  constructor(start: EpochMs) {
    this.#now = start;
  }

  now(): EpochMs {
    return this.#now;
  }

  set(time: EpochMs): void {
    this.#now = time;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
