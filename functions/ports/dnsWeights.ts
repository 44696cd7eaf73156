/**
 * Port: the weights of a service's Route 53 weighted records. Reading gives what Route 53 holds
 * now; writing changes only the weights of the named records and keeps every other field.
 */
import { Steer53Error } from '../core/errors.js';
import type { Weights } from '../core/types.js';

/** One service's record set: a name and type in a hosted zone, served by weighted records. */
export interface RecordSetRef {
  readonly hostedZoneId: string;
  readonly dnsName: string;
  readonly recordType: string;
}

export interface RecordSetWeights {
  /** Weights by SetIdentifier, for every weighted record of the name and type. */
  readonly weights: Weights;
  /**
   * The Route 53 health check on each weighted record that has one (`HealthCheckId`), by
   * SetIdentifier; a record without a health check is absent. Read with the weights, so the
   * checks of records the user manages are known as well as the construct's own. A plain object
   * built from entries: a SetIdentifier such as "__proto__" is a key like any other (read it with
   * `ownValue`). @default no record has a health check
   */
  readonly healthChecks?: Readonly<Record<string, string>>;
  /**
   * The records as read, opaque to the caller: handed back with a write made in the same
   * evaluation, it spares the adapter a second read (Route 53 throttles every API call).
   */
  readonly snapshot?: unknown;
}

/** The weights to write to one record set, by SetIdentifier; records not named are not touched. */
export interface WeightWrite {
  readonly record: RecordSetRef;
  readonly weights: Weights;
  /** `snapshot` of a `readWeights` of this record set moments ago. @default the adapter reads again */
  readonly basedOn?: unknown;
}

export interface WeightWriteResult {
  /** Route 53 change ids (one per ChangeResourceRecordSets call), for the audit log. */
  readonly changeIds: readonly string[];
}

/** The key of a record set in a `readZone` answer: zone, name (lowercase, no trailing dot) and type. */
export function recordSetKey(record: RecordSetRef): string {
  return `${record.hostedZoneId}|${record.dnsName.toLowerCase().replace(/\.$/, '')}|${record.recordType}`;
}

/** Record sets of other zones given to `readZone`: a caller's bug, refused before any call. */
export function assertInZone(hostedZoneId: string, records: readonly RecordSetRef[]): void {
  const strays = records.filter((record) => record.hostedZoneId !== hostedZoneId);
  if (strays.length > 0) {
    throw new Steer53Error(
      `readZone(${hostedZoneId}) was given record sets of other zones: ${strays.map((r) => `${r.dnsName} ${r.recordType} (${r.hostedZoneId})`).join(', ')}`,
    );
  }
}

export interface DnsWeights {
  readWeights(record: RecordSetRef): Promise<RecordSetWeights>;
  /**
   * Reads many record sets of one hosted zone at once (a tick reads each zone once, for all its
   * services), by `recordSetKey`. A record set the zone does not hold has no weights (`{}`).
   */
  readZone(hostedZoneId: string, records: readonly RecordSetRef[]): Promise<ReadonlyMap<string, RecordSetWeights>>;
  /**
   * Writes all the given weights, grouping them by hosted zone (one change batch per zone).
   * `comment` is stored with the change (Route 53 keeps it in the change's history), so a write
   * can be traced back to the decision that made it.
   */
  writeWeights(writes: readonly WeightWrite[], comment: string): Promise<WeightWriteResult>;
}
