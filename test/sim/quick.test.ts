import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { resolveScenario } from '../../sim/scenario.js';
import { CONTROLLER_NAMES } from '../../sim/world.js';
import { SOURCE, smallScenario } from './fixtures.js';

// `npm run bench -- --quick` judges counts (flaps, DNS changes, safety violations) on a shortened
// run against the full run's bounds. That is sound only if the shortened run is the full run's
// beginning: every draw keyed by step, no controller seeing past the end.
describe('Simulator: a shortened scenario is the beginning of the full one', () => {
  it('writes the same weights and sees the same minutes, under every controller, up to the cut', async () => {
    const raw = smallScenario({
      duration: '60m',
      incidents: [{ kind: 'outage', region: 'b', start: '12m', duration: '15m' }],
    });
    const full = await runScenario(await resolveScenario(raw, SOURCE));
    const cut = await runScenario(await resolveScenario(raw, SOURCE, { durationSeconds: 40 * 60 }));
    expect(full.runs.steer53.writes.length).toBeGreaterThan(0);
    for (const name of CONTROLLER_NAMES) {
      const beforeCut = (t: number) => t < 38 * 60;
      expect(
        cut.runs[name].writes.filter((w) => beforeCut(w.t)),
        name,
      ).toEqual(full.runs[name].writes.filter((w) => beforeCut(w.t)));
      for (const series of ['requests', 'missed', 'failed', 'p99'] as const) {
        for (let r = 0; r < 2; r++) {
          expect(Array.from(cut.runs[name].series[series][r]!.subarray(0, 38)), `${name} ${series}`).toEqual(
            Array.from(full.runs[name].series[series][r]!.subarray(0, 38)),
          );
        }
      }
    }
  });
});
