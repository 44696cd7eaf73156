/**
 * Route 53 in memory: weighted records by zone, name and type (and the health check on each, if
 * any), a log of every change written, and a way to edit weights "in the console" (drift) or make
 * writes fail (faults). Used by the simulator and the tests.
 */
import type { Weights } from '../../core/types.js';
import {
  assertInZone,
  recordSetKey,
  type DnsWeights,
  type RecordSetRef,
  type RecordSetWeights,
  type WeightWrite,
  type WeightWriteResult,
} from '../../ports/dnsWeights.js';
import type { Clock } from '../../ports/clock.js';
import { RecordNotFoundError } from '../../ports/errors.js';

export interface DnsChangeLogEntry {
  /** The change id returned for the write. */
  readonly changeId: string;
  /** Clock time of the write, when the store has a clock. */
  readonly at: number | null;
  readonly comment: string;
  readonly record: RecordSetRef;
  /** Weights of the written records before and after. */
  readonly from: Weights;
  readonly to: Weights;
}

function keyOf(record: RecordSetRef): string {
  return `${record.hostedZoneId}|${record.dnsName.toLowerCase().replace(/\.$/, '')}|${record.recordType}`;
}

export class InMemoryDnsWeights implements DnsWeights {
  readonly #records = new Map<string, Map<string, number>>();
  /** Health check id by SetIdentifier, by record set: the records' `HealthCheckId`. */
  readonly #healthChecks = new Map<string, Map<string, string>>();
  readonly #log: DnsChangeLogEntry[] = [];
  readonly #clock: Clock | undefined;
  #failures: Error[] = [];
  #nextChangeId = 1;
  /** Calls made, for tests that count them. */
  readCalls = 0;
  zoneReadCalls = 0;
  writeCalls = 0;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock;
  }

  /** Creates (or replaces) the weighted records of a record set, with no health check on any of them. */
  defineRecordSet(record: RecordSetRef, weights: Weights): void {
    this.#records.set(keyOf(record), new Map(Object.entries(weights)));
    this.#healthChecks.delete(keyOf(record));
  }

  /**
   * Attaches a Route 53 health check to one record of a record set (its `HealthCheckId`), or
   * detaches it (undefined); reads then tell it in `healthChecks`. The record must exist.
   */
  attachHealthCheck(record: RecordSetRef, setIdentifier: string, healthCheckId: string | undefined): void {
    this.#recordSet(record, [setIdentifier]);
    const key = keyOf(record);
    const checks = this.#healthChecks.get(key) ?? new Map<string, string>();
    if (healthCheckId === undefined) checks.delete(setIdentifier);
    else checks.set(setIdentifier, healthCheckId);
    this.#healthChecks.set(key, checks);
  }

  /** Sets weights as a person would in the console: no change log entry, so the controller sees drift. */
  editWeights(record: RecordSetRef, weights: Weights): void {
    const records = this.#recordSet(record, Object.keys(weights));
    for (const [id, weight] of Object.entries(weights)) records.set(id, weight);
  }

  /** What Route 53 holds now. */
  weightsOf(record: RecordSetRef): Weights {
    return Object.fromEntries(this.#records.get(keyOf(record)) ?? []);
  }

  /** Every write, oldest first. */
  get changeLog(): readonly DnsChangeLogEntry[] {
    return this.#log;
  }

  /** The next `writeWeights` calls throw these errors, one per call, in order. */
  failNextWrites(...errors: Error[]): void {
    this.#failures.push(...errors);
  }

  /** The health check id of each record that has one, by SetIdentifier. */
  healthChecksOf(record: RecordSetRef): Readonly<Record<string, string>> {
    return Object.fromEntries(this.#healthChecks.get(keyOf(record)) ?? []);
  }

  async readWeights(record: RecordSetRef): Promise<RecordSetWeights> {
    this.readCalls += 1;
    return this.#read(record);
  }

  async readZone(hostedZoneId: string, records: readonly RecordSetRef[]): Promise<ReadonlyMap<string, RecordSetWeights>> {
    assertInZone(hostedZoneId, records);
    this.zoneReadCalls += 1;
    return new Map(records.map((record) => [recordSetKey(record), this.#read(record)]));
  }

  /** A read's answer, as the Route 53 adapter gives it: `healthChecks` only when some record has one. */
  #read(record: RecordSetRef): RecordSetWeights {
    const healthChecks = this.healthChecksOf(record);
    return { weights: this.weightsOf(record), ...(Object.keys(healthChecks).length > 0 ? { healthChecks } : {}) };
  }

  async writeWeights(writes: readonly WeightWrite[], comment: string): Promise<WeightWriteResult> {
    this.writeCalls += 1;
    const failure = this.#failures.shift();
    if (failure) throw failure;
    // Check every record first: a batch is all or nothing, as in Route 53.
    for (const write of writes) this.#recordSet(write.record, Object.keys(write.weights));
    // Like the Route 53 adapter, records already at their weight are not written, and a zone
    // with nothing to change gets no change at all.
    const effective = writes
      .map((write) => {
        const records = this.#recordSet(write.record, Object.keys(write.weights));
        const weights = Object.fromEntries(Object.entries(write.weights).filter(([id, weight]) => records.get(id) !== weight));
        return { record: write.record, weights };
      })
      .filter((write) => Object.keys(write.weights).length > 0);
    const zoneChangeIds = new Map<string, string>();
    for (const write of effective) {
      const zone = write.record.hostedZoneId;
      if (!zoneChangeIds.has(zone)) zoneChangeIds.set(zone, `/change/C${String(this.#nextChangeId++).padStart(6, '0')}`);
      const records = this.#recordSet(write.record, Object.keys(write.weights));
      const from: Record<string, number> = {};
      for (const [id, weight] of Object.entries(write.weights)) {
        from[id] = records.get(id)!;
        records.set(id, weight);
      }
      this.#log.push({ changeId: zoneChangeIds.get(zone)!, at: this.#clock?.now() ?? null, comment, record: write.record, from, to: { ...write.weights } });
    }
    return { changeIds: [...zoneChangeIds.values()] };
  }

  #recordSet(record: RecordSetRef, setIdentifiers: readonly string[]): Map<string, number> {
    const records = this.#records.get(keyOf(record));
    const missing = setIdentifiers.filter((id) => !records?.has(id));
    if (!records || missing.length > 0)
      throw new RecordNotFoundError(record.hostedZoneId, record.dnsName, record.recordType, missing.length > 0 ? missing : setIdentifiers);
    return records;
  }
}
