import { describe, expect, it } from 'vitest';
import { staticController } from '../../sim/controllers/baselines.js';
import { CALIBRATION, REFERENCE_SERVICE_SECONDS, WaitModel, erlangC, prefillMs } from '../../sim/latencyModel.js';
import { resolveScenario } from '../../sim/scenario.js';
import { runWorld } from '../../sim/world.js';
import { SOURCE, endpoint } from './fixtures.js';

/** Median over minutes 2.. of the true per-minute p99 in one region held at utilisation rho. */
async function p99At(rho: number): Promise<{ p99: number; failed: number }> {
  const scenario = await resolveScenario(
    {
      name: 'knee',
      duration: '15m',
      seed: 3,
      // The Azure conversation mix is the reference request, so utilisation = meanRps / warmRps.
      demand: { sources: [{ curve: { kind: 'constant' }, meanRps: 100 * rho }] },
      regions: [{ name: 'a', warmRps: 100 }],
      service: { name: 'knee', dnsName: 'knee.example.com', hostedZoneId: 'Z0123456789EXAMPLE', endpoints: [endpoint('a', 'us-east-1', 100, 100)] },
    },
    SOURCE,
  );
  const run = await runWorld(scenario, staticController);
  const values = Array.from(run.series.p99[0]!.subarray(2)).sort((x, y) => x - y);
  const failed = run.series.failed[0]!.reduce((a, b) => a + b, 0) / run.totalRequests;
  return { p99: values[Math.floor(values.length / 2)]!, failed };
}

describe('Latency model: a queueing knee', () => {
  it('is calibrated to the public figures: ~50 ms to first token for a 1k-token prompt, ~5.2 s per request, 1.8× prefill in a full batch', () => {
    expect(prefillMs(1000)).toBeCloseTo(50, 0); // OCI Llama 3.3 70B: TTFT 0.05 s at 1 concurrent request
    expect(REFERENCE_SERVICE_SECONDS).toBeGreaterThan(5.19 * 0.9); // request latency 5.19 s at 1 concurrent request
    expect(REFERENCE_SERVICE_SECONDS).toBeLessThan(5.19 * 1.1);
    expect(1 + CALIBRATION.batchSlowdown).toBeCloseTo(0.09 / 0.05, 1); // TTFT 0.05 s → 0.09 s at 16 concurrent
  });

  it.each([
    [1, 0.5, 0.5],
    [2, 0.5, 1 / 3],
    [1, 0, 0],
  ])('Erlang C with %i servers at utilisation %f is %f', (servers, rho, expected) => {
    expect(erlangC(servers, rho)).toBeCloseTo(expected, 10);
  });

  it('makes a queue hardly form with hundreds of slots until they are nearly all busy', () => {
    const wait = new WaitModel(500);
    expect(wait.probabilityOfWait(0.7)).toBeLessThan(1e-6);
    expect(wait.probabilityOfWait(0.97)).toBeGreaterThan(0.2);
  });

  it('is flat until saturation, then steep, then overloaded', async () => {
    const [low, half, busy, knee, over] = await Promise.all([0.2, 0.5, 0.7, 0.98, 1.15].map(p99At));
    // Flat: from 20% to 70% busy, p99 grows only with batch slowdown.
    expect(half!.p99 / low!.p99).toBeLessThan(1.5);
    expect(busy!.p99 / low!.p99).toBeLessThan(1.8);
    // Steep: near saturation, queueing multiplies it.
    expect(knee!.p99).toBeGreaterThan(2 * busy!.p99);
    // Past saturation: a backlog builds until clients time out.
    expect(over!.p99).toBeGreaterThan(10_000);
    expect(over!.failed).toBeGreaterThan(0.01);
    expect(low!.failed).toBe(0);
  });

  it('never makes latency fall as load rises (median per-minute p99)', async () => {
    const levels = [0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.05];
    const results = await Promise.all(levels.map(p99At));
    for (let i = 1; i < results.length; i++) expect(results[i]!.p99).toBeGreaterThanOrEqual(results[i - 1]!.p99 * 0.97);
  });
});
