/** Port: the time. The engine never reads a clock; the use cases ask this port, once per step. */
import type { EpochMs } from '../core/types.js';

export interface Clock {
  now(): EpochMs;
}
