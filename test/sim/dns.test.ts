import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientDns, sharesOf, type DnsParams } from '../../sim/dns.js';
import { scenarioSchema } from '../../sim/scenarioSchema.js';

const defaults = scenarioSchema.shape.dns.parse({}) as DnsParams;
const ttl20: DnsParams = { ...defaults, ttlSeconds: 20 };

/** Share of clients still on endpoint 0 at `after` seconds past a write at t=1000 that moved all traffic to endpoint 1. */
function staleAfter(params: DnsParams, after: number, seed: number): number {
  const dns = new ClientDns(params, [100, 0], seed);
  const out = new Float64Array(2);
  dns.sharesAt(1000, out);
  dns.publish(1000, [0, 100]);
  return dns.sharesAt(1000 + after, out)[0]!;
}

describe('Class: ClientDns (a population of resolvers)', () => {
  it('reproduces the measured stale tail on average: with a 20 s TTL, ~90% moved within 60 s, ~2% stale after 15 minutes', () => {
    const seeds = Array.from({ length: 30 }, (_, i) => i + 1);
    const at60 = seeds.reduce((sum, seed) => sum + staleAfter(ttl20, 60 + ttl20.propagationSeconds, seed), 0) / seeds.length;
    const at900 = seeds.reduce((sum, seed) => sum + staleAfter(ttl20, 900, seed), 0) / seeds.length;
    expect(at60).toBeGreaterThan(0.04);
    expect(at60).toBeLessThan(0.16);
    expect(at900).toBeGreaterThan(0.005);
    expect(at900).toBeLessThan(0.05);
  });

  it('moves nobody before the write, and is lumpy: a few big resolvers move whole slices of traffic', () => {
    const few = { ...defaults, resolvers: 20 };
    const dns = new ClientDns(few, [90, 10], 5);
    const out = new Float64Array(2);
    const seen: number[] = [];
    for (let t = 0; t < 3600; t += 60) seen.push(dns.sharesAt(t, out)[1]!);
    // The configured split is 90:10; what clients do wanders far from it with 20 resolvers.
    expect(Math.max(...seen) - Math.min(...seen)).toBeGreaterThan(0.15);
  });

  it('follows the weights closely with many resolvers', () => {
    const dns = new ClientDns({ ...defaults, resolvers: 20_000, sizeAlpha: 3 }, [90, 10], 5);
    const out = new Float64Array(2);
    expect(dns.sharesAt(600, out)[1]!).toBeGreaterThan(0.07);
    expect(out[1]!).toBeLessThan(0.13);
  });

  it('gives two runs with the same writes the same clients (common random numbers)', () => {
    const a = new ClientDns(defaults, [100, 100, 50], 9);
    const b = new ClientDns(defaults, [100, 100, 50], 9);
    a.publish(100, [0, 100, 50]);
    b.publish(100, [0, 100, 50]);
    expect(Array.from(a.sharesAt(400, new Float64Array(3)))).toEqual(Array.from(b.sharesAt(400, new Float64Array(3))));
  });

  it('splits evenly when every weight is 0, as Route 53 does', () => {
    expect(Array.from(sharesOf([0, 0, 0, 0]))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('always hands out all of the traffic, whatever the sequence of answers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 })), { maxLength: 20 }),
        fc.integer({ min: 0, max: 20000 }),
        fc.integer({ min: 0, max: 1000 }),
        (answers, probe, seed) => {
          const dns = new ClientDns({ ...defaults, resolvers: 200 }, [100, 100, 50], seed);
          let t = 0;
          const out = new Float64Array(3);
          for (const [gap, weights] of answers) {
            t += gap;
            dns.publish(t, weights);
            dns.sharesAt(t, out);
          }
          dns.sharesAt(t + probe, out);
          const total = out[0]! + out[1]! + out[2]!;
          return Math.abs(total - 1) < 1e-6 && out.every((s) => s >= 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
