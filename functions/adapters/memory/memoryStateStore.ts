/**
 * The state store in memory, with the same contract as the DynamoDB one: versioned conditional
 * writes (a stale version throws `StateVersionConflictError`), items kept in the stored layout and
 * read through its schema (ports/stateItem.ts), and audit entries keyed by time and id. Values are
 * copied in and out, so callers can never change stored state by reference.
 */
import type { AuditEntry, AuditQuery, StateStore, StateWrite, StoredServiceState } from '../../ports/stateStore.js';
import { StateVersionConflictError } from '../../ports/errors.js';
import { readStateItem, toStateItem } from '../../ports/stateItem.js';

export class InMemoryStateStore implements StateStore {
  /** Each service's item, as DynamoDB would hold it (without its keys). */
  readonly #items = new Map<string, Readonly<Record<string, unknown>>>();
  readonly #audit = new Map<string, Map<string, AuditEntry>>();
  #saveFailures: Error[] = [];
  /** Successful saves, for tests. */
  saves = 0;
  /** Batch loads, for tests that count them. */
  batchLoads = 0;

  async load(service: string): Promise<StoredServiceState> {
    const item = this.#items.get(service);
    return item
      ? readStateItem(service, structuredClone(item))
      : { service, version: 0, state: undefined, pending: null, driftSignature: null, blockedSignature: null, updatedAt: null };
  }

  async loadMany(services: readonly string[]): Promise<ReadonlyMap<string, StoredServiceState | Error>> {
    this.batchLoads += 1;
    const out = new Map<string, StoredServiceState | Error>();
    for (const service of services) out.set(service, await this.load(service).catch((error: unknown) => error as Error));
    return out;
  }

  /** Puts a state as if saved before (a test's or the simulator's starting state). */
  seed(stored: StoredServiceState & { readonly state: NonNullable<StoredServiceState['state']>; readonly updatedAt: number }): void {
    this.#items.set(stored.service, structuredClone(toStateItem(stored.service, stored.version, stored)));
  }

  /** Puts a stored item as it is: one an older (or newer) steer53 wrote, or a broken one. */
  seedItem(item: Readonly<Record<string, unknown>> & { readonly service: string }): void {
    this.#items.set(item.service, structuredClone(item));
  }

  async save(service: string, expectedVersion: number, write: StateWrite): Promise<number> {
    const failure = this.#saveFailures.shift();
    if (failure) throw failure;
    const current = (this.#items.get(service)?.version as number | undefined) ?? 0;
    if (current !== expectedVersion) throw new StateVersionConflictError(service, expectedVersion);
    const version = expectedVersion + 1;
    this.#items.set(service, structuredClone(toStateItem(service, version, write)));
    this.saves += 1;
    return version;
  }

  /** The next saves throw these errors, one per call (a DynamoDB outage, a crash mid-apply). */
  failNextSaves(...errors: Error[]): void {
    this.#saveFailures.push(...errors);
  }

  async putAudit(entry: AuditEntry): Promise<void> {
    let entries = this.#audit.get(entry.service);
    if (!entries) {
      entries = new Map();
      this.#audit.set(entry.service, entries);
    }
    entries.set(`${new Date(entry.at).toISOString()}#${entry.id}`, structuredClone(entry));
  }

  async listAudit(service: string, query: AuditQuery = {}): Promise<AuditEntry[]> {
    const entries = [...(this.#audit.get(service) ?? new Map<string, AuditEntry>())]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .map(([, entry]) => structuredClone(entry));
    return entries.slice(0, query.limit ?? 50);
  }
}
