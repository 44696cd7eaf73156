import { describe, expect, it } from 'vitest';
import { runControllers, runScenario } from '../../sim/run.js';
import { resolveScenario } from '../../sim/scenario.js';
import { SOURCE, smallScenario } from './fixtures.js';

async function outcome(seed: number) {
  const scenario = await resolveScenario(
    smallScenario({ seed, incidents: [{ kind: 'gray-failure', region: 'b', start: '12m', duration: '15m', latencyFactor: 5, capacityFactor: 0.4 }] }),
    SOURCE,
  );
  const result = await runScenario(scenario);
  return { metrics: result.metrics, p99: Array.from(result.runs.steer53.series.p99[1]!), writes: result.runs.steer53.writes };
}

describe('Simulator: determinism', () => {
  it('gives the same numbers, series and DNS changes for the same scenario and seed', async () => {
    const first = await outcome(11);
    const second = await outcome(11);
    expect(second).toEqual(first);
  });

  it('gives the named controllers alone the same figures as a run of every controller', async () => {
    const scenario = await resolveScenario(smallScenario({ seed: 11, incidents: [{ kind: 'outage', region: 'b', start: '12m', duration: '15m' }] }), SOURCE);
    const some = await runControllers(scenario, ['steer53', 'oracle']);
    expect(Object.keys(some.metrics).sort()).toEqual(['oracle', 'steer53']);
    const all = await runScenario(scenario);
    expect(some.metrics).toEqual({ steer53: all.metrics.steer53, oracle: all.metrics.oracle });
  });

  it('gives different noise for a different seed', async () => {
    const a = await outcome(11);
    const b = await outcome(12);
    expect(b.p99).not.toEqual(a.p99);
  });

  it('shows every controller the same world: static and steer53 agree until steer53 first changes a weight', async () => {
    const scenario = await resolveScenario(smallScenario({ incidents: [{ kind: 'outage', region: 'b', start: '12m', duration: '15m' }] }), SOURCE);
    const result = await runScenario(scenario);
    const firstWrite = result.runs.steer53.writes[0];
    expect(firstWrite).toBeDefined();
    const minutes = Math.floor(firstWrite!.t / 60);
    for (let r = 0; r < 2; r++) {
      expect(Array.from(result.runs.steer53.series.p99[r]!.subarray(0, minutes))).toEqual(Array.from(result.runs.static.series.p99[r]!.subarray(0, minutes)));
    }
  });
});
