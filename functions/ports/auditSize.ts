/**
 * An audit entry always fits one DynamoDB item (400 KB, attribute names included): free text is
 * clipped, and when the entry is still too large its bulkiest parts (the whole decision, then the
 * detail) are left out. Whatever was cut is named in `truncated`, so a reader knows the entry is
 * not whole. Both state stores write entries through it, so the simulator and the tests see what
 * DynamoDB would hold.
 */
import type { AuditEntry } from './stateStore.js';

/** What an entry may take, leaving room for the keys, `expiresAt` and DynamoDB's own overhead. */
export const MAX_AUDIT_BYTES = 350_000;
/** Longest free text kept in an entry (summary, actor, each string of the detail). */
export const MAX_AUDIT_TEXT = 1000;

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

const CUT = '…[truncated]';

function clip(text: string): string {
  return text.length <= MAX_AUDIT_TEXT ? text : `${text.slice(0, MAX_AUDIT_TEXT - CUT.length)}${CUT}`;
}

/** Every string in a JSON value clipped; numbers, booleans and structure kept. */
function clipped(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return clip(value);
  if (depth > 8 || typeof value !== 'object' || value === null) return depth > 8 ? '[truncated: too deep]' : value;
  if (Array.isArray(value)) return value.map((v) => clipped(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [clip(k), clipped(v, depth + 1)]));
}

/** Whether a JSON value holds a string (or key) longer than MAX_AUDIT_TEXT, or nests too deep; no copy made. */
function hasLongText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.length > MAX_AUDIT_TEXT;
  if (typeof value !== 'object' || value === null) return false;
  if (depth > 8) return true;
  if (Array.isArray(value)) return value.some((v) => hasLongText(v, depth + 1));
  return Object.entries(value).some(([k, v]) => k.length > MAX_AUDIT_TEXT || hasLongText(v, depth + 1));
}

/** The entry as it is stored: within MAX_AUDIT_BYTES, with what was cut named. Whole entries (nearly all) cost one serialisation. */
export function boundedAudit(entry: AuditEntry): AuditEntry {
  const cut: string[] = [];
  const text = { summary: clip(entry.summary), actor: clip(entry.actor) };
  if (text.summary !== entry.summary) cut.push('summary');
  if (text.actor !== entry.actor) cut.push('actor');
  let out: AuditEntry = cut.length > 0 ? { ...entry, ...text } : entry;
  if (entry.detail !== undefined && hasLongText(entry.detail)) {
    out = { ...out, detail: clipped(entry.detail) as Readonly<Record<string, unknown>> };
    cut.push('detail text');
  }
  for (const part of ['decision', 'detail', 'reasons'] as const) {
    if (bytes(out) <= MAX_AUDIT_BYTES) break;
    if (out[part] === undefined) continue;
    const { [part]: _dropped, ...rest } = out;
    out = rest;
    cut.push(part);
  }
  return cut.length > 0 ? { ...out, truncated: [...(entry.truncated ?? []), ...cut] } : out;
}
