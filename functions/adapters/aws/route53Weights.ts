/**
 * Route 53 adapter of the DNS weights port. Reads weighted records (paging through
 * ListResourceRecordSets: one record set for an evaluation, or every managed record set of a
 * hosted zone in one listing for a tick) and writes weights as UPSERTs of the whole record as
 * Route 53 holds it, with only `Weight` changed: UPSERT replaces the record, so TTL, values or
 * alias target, health check id and every other field must be sent back as they are. Records not
 * named in a write are never touched. A read also tells each record's health check id, so the
 * controller reads the status of any record's health check, its own or one the user attached.
 */
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import {
  assertInZone,
  recordSetKey,
  type DnsWeights,
  type RecordSetRef,
  type RecordSetWeights,
  type WeightWrite,
  type WeightWriteResult,
} from '../../ports/dnsWeights.js';
import { RecordNotFoundError } from '../../ports/errors.js';
import { AwsCallError, Route53RetriesExhaustedError, awsErrorName, isTransientAwsError } from './errors.js';
import { changeBatches } from './route53ChangeBatches.js';

/** ChangeBatch.Comment is at most 256 characters. */
const MAX_COMMENT_LENGTH = 256;

export interface Route53WeightsOptions {
  /**
   * Route 53 client (global; its endpoint is in us-east-1). The client retries `Throttling` and
   * `PriorRequestNotComplete` itself: give it `retryStrategy: new BoundedRetryStrategy(Route53RetryPolicy)`,
   * and pace it (`pacedClient`) so that it seldom has to.
   */
  readonly client: Route53Client;
}

/**
 * Route 53 throttles per account (a token bucket of 50 requests refilled at 10 a second, and a
 * separate one for record changes: "Throttling for Amazon Route 53 API requests") and refuses a
 * zone change while the last one is propagating: when the client's retries could not get
 * through, trying again later may.
 */
export function isRoute53Retryable(error: unknown): boolean {
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

/**
 * The order ListResourceRecordSets lists in: names with their labels reversed
 * (`com.example.chat`), then type. Used only to choose where a listing starts; which records a
 * listing holds is read from the listing itself, so an ordering Route 53 does differently (escapes,
 * unusual characters) costs a call, never a record.
 */
export function listingOrder(a: { name: string; type: string }, b: { name: string; type: string }): number {
  const la = normaliseDnsName(a.name).split('.').reverse();
  const lb = normaliseDnsName(b.name).split('.').reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i += 1) {
    if (la[i]! !== lb[i]!) return la[i]! < lb[i]! ? -1 : 1;
  }
  if (la.length !== lb.length) return la.length - lb.length;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/** Where a ListResourceRecordSets page starts. */
interface ListStart {
  readonly name: string;
  readonly type: string;
  readonly identifier?: string;
}

export class Route53Weights implements DnsWeights {
  readonly #client: Route53Client;
  /** Snapshots this adapter handed out, with the record set they are of: only those are trusted back. */
  readonly #snapshots = new WeakMap<object, string>();

  constructor(options: Route53WeightsOptions) {
    this.#client = options.client;
  }

  async readWeights(record: RecordSetRef): Promise<RecordSetWeights> {
    return (await this.readZone(record.hostedZoneId, [record])).get(recordSetKey(record))!;
  }

  /**
   * One listing of the zone for all the record sets asked: it starts at the first of them (in the
   * listing's order), pages on while the next page continues one of them, and otherwise jumps to
   * the next one not yet read, so the records of other names in the zone are seldom listed.
   */
  async readZone(hostedZoneId: string, records: readonly RecordSetRef[]): Promise<ReadonlyMap<string, RecordSetWeights>> {
    assertInZone(hostedZoneId, records);
    const found = await this.#listZone(hostedZoneId, records);
    const out = new Map<string, RecordSetWeights>();
    for (const record of records) {
      const sets = found.get(nameTypeKey(record.dnsName, record.recordType)) ?? [];
      const snapshot = Object.freeze(structuredClone(sets));
      this.#snapshots.set(snapshot, recordSetKey(record));
      // Entries, not assignments: a SetIdentifier "__proto__" must be a plain key.
      const weights = Object.fromEntries(sets.map((set) => [set.SetIdentifier!, set.Weight!]));
      const checked = sets.flatMap((set) => (set.HealthCheckId ? [[set.SetIdentifier!, set.HealthCheckId] as const] : []));
      out.set(recordSetKey(record), { weights, ...(checked.length > 0 ? { healthChecks: Object.fromEntries(checked) } : {}), snapshot });
    }
    return out;
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
      for (const batch of changeBatches(zone, changes)) {
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
      typeof basedOn === 'object' && basedOn !== null && this.#snapshots.get(basedOn) === recordSetKey(record)
        ? (basedOn as readonly ResourceRecordSet[])
        : undefined;
    const listed = snapshot ?? (await this.#listZone(record.hostedZoneId, [record])).get(nameTypeKey(record.dnsName, record.recordType)) ?? [];
    const existing = new Map(listed.map((set) => [set.SetIdentifier!, set]));
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

  /**
   * The weighted records of each asked name and type, by `nameTypeKey`. A record set is read when
   * its run in the listing is seen whole: from a listing started at it, or from its first record
   * to the first record after it in one listing (records of one name and type are contiguous).
   */
  async #listZone(hostedZoneId: string, records: readonly RecordSetRef[]): Promise<Map<string, ResourceRecordSet[]>> {
    const asked = new Map(records.map((r) => [nameTypeKey(r.dnsName, r.recordType), { name: `${normaliseDnsName(r.dnsName)}.`, type: r.recordType }]));
    const found = new Map([...asked.keys()].map((key) => [key, [] as ResourceRecordSet[]]));
    const order = [...asked.entries()].sort(([, a], [, b]) => listingOrder(a, b)).map(([key]) => key);
    const pending = new Set(order);
    let cursor: ListStart | undefined;
    // The name and type whose records the listing is in, when the last page ended.
    let run: string | undefined;
    while (pending.size > 0) {
      if (!cursor) {
        const next = order.find((key) => pending.has(key))!;
        cursor = asked.get(next)!;
        run = next; // the listing starts at it: its records, if any, come first
      }
      const page = await this.#listPage(hostedZoneId, cursor);
      for (const set of page.ResourceRecordSets ?? []) {
        const key = nameTypeKey(set.Name ?? '', set.Type ?? '');
        if (key !== run) {
          if (run !== undefined) pending.delete(run);
          run = key;
        }
        if (pending.has(key) && set.SetIdentifier !== undefined && set.Weight !== undefined) found.get(key)!.push(set);
      }
      const next = page.IsTruncated && page.NextRecordName && page.NextRecordType ? nameTypeKey(page.NextRecordName, page.NextRecordType) : undefined;
      if (run !== undefined && next !== run) pending.delete(run);
      // Page on only while the next page continues an asked record set; else jump to the next one.
      cursor =
        next !== undefined && pending.has(next)
          ? { name: page.NextRecordName!, type: page.NextRecordType!, ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}) }
          : undefined;
      run = cursor ? next : undefined;
    }
    return found;
  }

  #listPage(hostedZoneId: string, start: ListStart): Promise<ListResourceRecordSetsCommandOutput> {
    const context = { operation: 'route53:ListResourceRecordSets', target: `hosted zone ${hostedZoneId}` };
    return this.#call(context, () =>
      this.#client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: start.type as never,
          ...(start.identifier ? { StartRecordIdentifier: start.identifier } : {}),
        }),
      ),
    );
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
export function attemptsOf(error: unknown): number {
  const attempts = (error as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts >= 1 ? attempts : 1;
}

/** A name and type within one zone, as the listing and the port name them. */
function nameTypeKey(name: string, type: string): string {
  return `${normaliseDnsName(name)}|${type}`;
}
