/**
 * Route 53 adapter of the DNS weights port. Reads a service's weighted records (paging through
 * ListResourceRecordSets) and writes weights as UPSERTs of the whole record as Route 53 holds it,
 * with only `Weight` changed: UPSERT replaces the record, so TTL, values or alias target, health
 * check id and every other field must be sent back as they are. Records not named in a write are
 * never touched.
 */
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { DnsWeights, RecordSetRef, RecordSetWeights, WeightWrite, WeightWriteResult } from '../../ports/dnsWeights.js';
import { RecordNotFoundError } from '../../ports/errors.js';
import { AwsCallError, Route53RetriesExhaustedError, awsErrorName, isTransientAwsError } from './errors.js';

/** A change batch holds at most 1,000 changes (Route 53 quota "elements in a ChangeResourceRecordSets request"). */
export const MAX_CHANGES_PER_BATCH = 1000;
/** And at most 1,000 ResourceRecord values, where an UPSERT counts each value twice. */
const MAX_RECORD_VALUES_PER_BATCH = 1000;
/** ChangeBatch.Comment is at most 256 characters. */
const MAX_COMMENT_LENGTH = 256;

export interface Route53WeightsOptions {
  /**
   * Route 53 client (global; its endpoint is in us-east-1). The client retries `Throttling` and
   * `PriorRequestNotComplete` itself: give it `retryStrategy: new BoundedRetryStrategy(Route53RetryPolicy)`.
   */
  readonly client: Route53Client;
}

/**
 * Route 53 throttles per account (about 5 requests/s) and refuses a zone change while the last one
 * is propagating: when the client's retries could not get through, trying again later may.
 */
function isRoute53Retryable(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'Throttling' || name === 'ThrottlingException' || name === 'PriorRequestNotComplete' || isTransientAwsError(error);
}

/** Route 53 returns names fully qualified and escapes some characters (`*` as `\052`). */
export function normaliseDnsName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
    .toLowerCase()
    .replace(/\.$/, '');
}

export class Route53Weights implements DnsWeights {
  readonly #client: Route53Client;
  /** Snapshots this adapter handed out, with the record set they are of: only those are trusted back. */
  readonly #snapshots = new WeakMap<object, string>();

  constructor(options: Route53WeightsOptions) {
    this.#client = options.client;
  }

  async readWeights(record: RecordSetRef): Promise<RecordSetWeights> {
    const sets = await this.#listWeightedRecords(record);
    const snapshot = Object.freeze(structuredClone(sets));
    this.#snapshots.set(snapshot, recordKey(record));
    return { weights: Object.fromEntries(sets.map((set) => [set.SetIdentifier!, set.Weight!])), snapshot };
  }

  async writeWeights(writes: readonly WeightWrite[], comment: string): Promise<WeightWriteResult> {
    const byZone = new Map<string, WeightWrite[]>();
    for (const write of writes) {
      const zone = write.record.hostedZoneId;
      byZone.set(zone, [...(byZone.get(zone) ?? []), write]);
    }
    const changeIds: string[] = [];
    for (const [zone, zoneWrites] of byZone) {
      const changes: Change[] = [];
      for (const write of zoneWrites) changes.push(...(await this.#upsertsFor(write)));
      for (const batch of batches(changes)) {
        changeIds.push(await this.#change(zone, batch, comment));
      }
    }
    return { changeIds };
  }

  /** UPSERTs for the named records whose weight differs, each a copy of the record as listed. */
  async #upsertsFor(write: WeightWrite): Promise<Change[]> {
    const { record, weights } = write;
    const basedOn = write.basedOn;
    const snapshot =
      typeof basedOn === 'object' && basedOn !== null && this.#snapshots.get(basedOn) === recordKey(record)
        ? (basedOn as readonly ResourceRecordSet[])
        : undefined;
    const existing = new Map((snapshot ?? (await this.#listWeightedRecords(record))).map((set) => [set.SetIdentifier!, set]));
    const missing = Object.keys(weights).filter((id) => !existing.has(id));
    if (missing.length > 0) throw new RecordNotFoundError(record.hostedZoneId, record.dnsName, record.recordType, missing);
    const changes: Change[] = [];
    for (const [id, weight] of Object.entries(weights)) {
      const set = existing.get(id)!;
      if (set.Weight === weight) continue; // already as wanted (a repaired write that had landed)
      changes.push({ Action: 'UPSERT', ResourceRecordSet: { ...structuredClone(set), Weight: weight } });
    }
    return changes;
  }

  async #change(zone: string, changes: Change[], comment: string): Promise<string> {
    const context = { operation: 'route53:ChangeResourceRecordSets', target: `hosted zone ${zone}` };
    const response = await this.#call(context, () =>
      this.#client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: { Comment: comment.slice(0, MAX_COMMENT_LENGTH), Changes: changes },
        }),
      ),
    );
    return response.ChangeInfo?.Id ?? '';
  }

  /** The weighted records of the name and type, in Route 53's order. */
  async #listWeightedRecords(record: RecordSetRef): Promise<ResourceRecordSet[]> {
    const name = normaliseDnsName(record.dnsName);
    const context = { operation: 'route53:ListResourceRecordSets', target: `hosted zone ${record.hostedZoneId}` };
    const found: ResourceRecordSet[] = [];
    let start: { name: string; type: string; identifier?: string } | undefined = { name: `${name}.`, type: record.recordType };
    while (start) {
      const page = await this.#call(context, () =>
        this.#client.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: record.hostedZoneId,
            StartRecordName: start!.name,
            StartRecordType: start!.type as never,
            ...(start!.identifier ? { StartRecordIdentifier: start!.identifier } : {}),
          }),
        ),
      );
      let passed = false;
      for (const set of page.ResourceRecordSets ?? []) {
        // The listing starts at our name and type and runs on in sort order: stop once past it.
        if (normaliseDnsName(set.Name ?? '') !== name || set.Type !== record.recordType) {
          passed = true;
          break;
        }
        if (set.SetIdentifier !== undefined && set.Weight !== undefined) found.push(set);
      }
      start =
        !passed && page.IsTruncated && page.NextRecordName && page.NextRecordType
          ? { name: page.NextRecordName, type: page.NextRecordType, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) }
          : undefined;
    }
    return found;
  }

  /** One call, its SDK error translated; the client has retried what its retry strategy allows. */
  async #call<T>(context: { operation: string; target: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isRoute53Retryable(error)) throw new Route53RetriesExhaustedError(context, error, attemptsOf(error));
      throw new AwsCallError(context, error, false);
    }
  }
}

/** How many attempts the SDK made (it sets `$metadata.attempts` on the error it throws). */
function attemptsOf(error: unknown): number {
  const attempts = (error as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts >= 1 ? attempts : 1;
}

function recordKey(record: RecordSetRef): string {
  return `${record.hostedZoneId}|${normaliseDnsName(record.dnsName)}|${record.recordType}`;
}

/** Splits changes into batches within both Route 53 limits. */
function batches(changes: readonly Change[]): Change[][] {
  const out: Change[][] = [];
  let current: Change[] = [];
  let values = 0;
  for (const change of changes) {
    // An alias record has no ResourceRecords; count it as one value.
    const cost = 2 * Math.max(1, change.ResourceRecordSet?.ResourceRecords?.length ?? 0);
    if (current.length > 0 && (current.length + 1 > MAX_CHANGES_PER_BATCH || values + cost > MAX_RECORD_VALUES_PER_BATCH)) {
      out.push(current);
      current = [];
      values = 0;
    }
    current.push(change);
    values += cost;
  }
  if (current.length > 0) out.push(current);
  return out;
}
