import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientDns, sharesOf, staleShare } from '../../sim/dns.js';
import { scenarioSchema } from '../../sim/scenarioSchema.js';

const defaults = scenarioSchema.shape.dns.parse({});
const ttl20 = { ttlSeconds: 20, staleFraction: defaults.staleFraction, staleTailSeconds: defaults.staleTailSeconds };

describe('DNS as clients live it', () => {
  it('is calibrated to the measured stale tail: with a 20 s TTL, 90% moved within 60 s, 2% still stale after 15 minutes', () => {
    expect(1 - staleShare(ttl20, 60)).toBeCloseTo(0.9, 2);
    expect(staleShare(ttl20, 900)).toBeCloseTo(0.02, 3);
  });

  it('moves nobody before an answer is visible and everybody eventually', () => {
    expect(staleShare(ttl20, 0)).toBe(1);
    expect(staleShare(ttl20, -5)).toBe(1);
    expect(staleShare(ttl20, 6 * 3600)).toBeLessThan(1e-6);
  });

  it('is never instant: most TTL-honouring resolvers refresh within the TTL, the tail keeps the old answer', () => {
    const ttl60 = { ...ttl20, ttlSeconds: 60 };
    expect(staleShare(ttl60, 30)).toBeGreaterThan(0.5);
    expect(staleShare(ttl60, 120)).toBeGreaterThan(0.08);
  });

  it('sends traffic by the new weights only after propagation, then as caches expire', () => {
    const dns = new ClientDns(ttl20, sharesOf([100, 100]));
    dns.publish(160, sharesOf([0, 100])); // written at t=100, visible after 60 s of propagation
    const out = new Float64Array(2);
    expect(Array.from(dns.sharesAt(150, out))).toEqual([0.5, 0.5]);
    dns.sharesAt(160 + 60, out);
    expect(out[0]).toBeCloseTo(0.05, 2); // 10% still stale, half of them on the old record
    dns.sharesAt(160 + 900, out);
    expect(out[0]).toBeCloseTo(0.01, 3);
  });

  it('splits evenly when every weight is 0, as Route 53 does', () => {
    expect(Array.from(sharesOf([0, 0, 0, 0]))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('always hands out all of the traffic, whatever the sequence of answers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 })), { maxLength: 20 }),
        fc.integer({ min: 0, max: 20000 }),
        (answers, probe) => {
          const dns = new ClientDns(ttl20, sharesOf([100, 100, 50]));
          let t = 0;
          const out = new Float64Array(3);
          for (const [gap, weights] of answers) {
            t += gap;
            dns.publish(t, sharesOf(weights));
            dns.sharesAt(t, out);
          }
          dns.sharesAt(t + probe, out);
          const total = out[0]! + out[1]! + out[2]!;
          return Math.abs(total - 1) < 1e-6 && out.every((s) => s >= -1e-12);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
