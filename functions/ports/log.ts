/**
 * Port: structured logging for the use cases. Powertools' Logger satisfies it as it is; tests and
 * the simulator can pass a collecting or silent one.
 */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A log that drops everything (the simulator's default). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
