/**
 * ListResourceRecordSets as Route 53 answers it, over a zone's records held in memory: records in
 * DNS order (name with its labels reversed, then type, then SetIdentifier), a page of at most
 * `MaxItems` (Route 53's maximum and default: 300) from the first record at or after the start
 * name, type and identifier, and the Next* fields of the record after the page when there is one.
 * (Route 53 API reference, ListResourceRecordSets.)
 *
 * The names are compared here as whole reversed strings, not label by label as steer53's adapter
 * orders them: the adapter must read right whichever order Route 53 really uses.
 */
import type { ListResourceRecordSetsCommandInput, ListResourceRecordSetsCommandOutput, ResourceRecordSet } from '@aws-sdk/client-route-53';

/** Route 53's largest page. */
export const MAX_ITEMS_PER_PAGE = 300;

function order(name: string, type: string, identifier = ''): string {
  return `${name.toLowerCase().replace(/\.$/, '').split('.').reverse().join('.')}\u0000${type}\u0000${identifier}`;
}

/** Sorts records as the listing returns them. */
export function sortRecords(records: readonly ResourceRecordSet[]): ResourceRecordSet[] {
  return [...records].sort((a, b) => {
    const ka = order(a.Name!, a.Type!, a.SetIdentifier);
    const kb = order(b.Name!, b.Type!, b.SetIdentifier);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** One page of the (sorted) records, as ListResourceRecordSets answers `input`. */
export function listPage(
  sorted: readonly ResourceRecordSet[],
  input: Pick<ListResourceRecordSetsCommandInput, 'StartRecordName' | 'StartRecordType' | 'StartRecordIdentifier' | 'MaxItems'>,
): Omit<ListResourceRecordSetsCommandOutput, '$metadata'> {
  const maxItems = Math.min(MAX_ITEMS_PER_PAGE, input.MaxItems ?? MAX_ITEMS_PER_PAGE);
  const start = input.StartRecordName ? order(input.StartRecordName, input.StartRecordType ?? '', input.StartRecordIdentifier ?? '') : '';
  const from = sorted.findIndex((r) => order(r.Name!, r.Type!, r.SetIdentifier) >= start);
  const rest = from < 0 ? [] : sorted.slice(from);
  const page = rest.slice(0, maxItems);
  const next = rest[maxItems];
  return {
    ResourceRecordSets: structuredClone(page),
    IsTruncated: next !== undefined,
    MaxItems: maxItems,
    ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type, ...(next.SetIdentifier ? { NextRecordIdentifier: next.SetIdentifier } : {}) } : {}),
  };
}
