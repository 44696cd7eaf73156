import { describe, expect, it } from 'vitest';
import { resolveScenario } from '../../sim/scenario.js';
import { runWorld, type ControllerFactory } from '../../sim/world.js';
import { BOTH_READERS, SOURCE, smallScenario, threeRegions } from './fixtures.js';

// Three regions, nothing wrong, and a service nobody calls for six minutes (a bursty service's
// quiet spell, as the Azure code trace has many): no region has a latency to report, while each
// region's request counter still publishes, at 0.
const quiet = smallScenario({
  duration: '30m',
  demand: { sources: [{ curve: { kind: 'constant' }, meanRps: 60, shapes: [{ kind: 'surge', start: '10m', factor: 0, hold: '6m', before: 1, after: 1 }] }] },
  ...threeRegions(),
});

describe('A quiet minute', () => {
  it.each<[string, ControllerFactory]>(BOTH_READERS)(
    'is judged unknown, held, and not taken for broken observations (no fail static), through %s',
    async (_name, controller) => {
      const run = await runWorld(await resolveScenario(quiet, SOURCE), controller);
      expect(run.series.requests.every((region) => region.slice(10, 16).every((n) => n === 0))).toBe(true);
      const quietOnes = run.evaluations.filter((e) => e.t >= 12 * 60 && e.t < 17 * 60);
      expect(quietOnes.length).toBeGreaterThanOrEqual(4);
      // Every region held for want of data: the quiet minutes were judged, and judged unknown.
      expect(quietOnes.filter((e) => ['a', 'b', 'c'].every((id) => e.reasons.includes(`${id}:UNKNOWN_HOLD`))).length).toBeGreaterThanOrEqual(3);
      expect(run.evaluations.filter((e) => e.reasons.some((r) => /^FAIL_STATIC(:|$)/.test(r)) || e.mode === 'fail-static')).toEqual([]);
      expect(run.writes).toEqual([]);
    },
  );
});
