import { describe, expect, it } from 'vitest';
import { boundedAudit, MAX_AUDIT_BYTES } from '../../../functions/ports/auditSize.js';
import type { AuditEntry } from '../../../functions/ports/stateStore.js';

const entry: AuditEntry = {
  service: 'chat',
  id: 'a-1',
  at: 0,
  kind: 'deployment',
  status: 'applied',
  actor: 'pipeline run-7',
  summary: 'chat.example.com: deployed',
};
const size = (e: AuditEntry) => Buffer.byteLength(JSON.stringify(e), 'utf8');

describe('Function: boundedAudit', () => {
  it('leaves an entry that fits as it is, without a truncated mark', () => {
    expect(boundedAudit({ ...entry, detail: { eventId: 'e-1' } })).toEqual({ ...entry, detail: { eventId: 'e-1' } });
  });

  it('clips free text (a 200,000-character event id in the detail, a long summary) and says so', () => {
    const out = boundedAudit({ ...entry, summary: 's'.repeat(5000), detail: { eventId: 'x'.repeat(200_000), applied: true } });
    expect(out.summary).toHaveLength(1000);
    expect(out.summary.endsWith('…[truncated]')).toBe(true);
    expect((out.detail!.eventId as string).length).toBe(1000);
    expect(out.detail!.applied).toBe(true);
    expect(out.truncated).toEqual(['summary', 'detail text']);
  });

  it('leaves out the decision, then the detail, when clipping is not enough, naming what it dropped', () => {
    const huge = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`endpoint-${i}`, 'x'.repeat(30)]));
    const out = boundedAudit({ ...entry, decision: { verdicts: huge } as never, detail: huge });
    expect(out.decision).toBeUndefined();
    expect(out.detail).toBeUndefined();
    expect(out.truncated).toEqual(['decision', 'detail']);
    expect(size(out)).toBeLessThanOrEqual(MAX_AUDIT_BYTES);
  });
});
