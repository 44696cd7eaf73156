/**
 * Weights and other records keyed by names that come from outside (SetIdentifiers, signal
 * names). A Route 53 SetIdentifier may well be "constructor" or "toString": `weights['toString']`
 * must be undefined, not a function, and a key "__proto__" must be a plain key.
 */
import type { Weights } from '../core/types.js';

/** The record's own value for the key; never one inherited from Object.prototype. */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The weights after the changes, built from entries so that any SetIdentifier is a plain key. */
export function weightsAfter(before: Weights, changes: readonly { readonly setIdentifier: string; readonly to: number }[]): Weights {
  return Object.fromEntries([
    ...Object.entries(before).filter(([id]) => !changes.some((c) => c.setIdentifier === id)),
    ...changes.map((c) => [c.setIdentifier, c.to] as const),
  ]);
}
