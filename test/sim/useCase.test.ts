import { describe, expect, it } from 'vitest';
import { steer53Controller } from '../../sim/controllers/steer53.js';
import { steer53RuntimeController } from '../../sim/controllers/steer53Runtime.js';
import { loadScenario } from '../../sim/scenario.js';
import { runWorld } from '../../sim/world.js';

describe('steer53 in the simulator', () => {
  it.each(['region-outage', 'relapse-during-recovery', 'capacity-constrained-failover'])(
    'decides the same through evaluateService and the in-memory ports as through the engine alone (%s)',
    async (name) => {
      const scenario = await loadScenario(name, { durationSeconds: 100 * 60 });
      const viaUseCase = await runWorld(scenario, steer53RuntimeController);
      const viaEngine = await runWorld(scenario, steer53Controller);
      expect(viaUseCase.writes.length).toBeGreaterThan(0);
      // The same writes at the same times, with the same shares: the use case writes the engine's
      // weights at the scale that changes the fewest records, and keeps every share exactly.
      const shares = (weights: readonly number[]) => weights.map((w) => w / weights.reduce((a, b) => a + b, 0));
      expect(viaUseCase.writes.map((w) => [w.t, shares(w.after)])).toEqual(viaEngine.writes.map((w) => [w.t, shares(w.after)]));
      const recordsChanged = (writes: typeof viaEngine.writes) => writes.reduce((sum, w) => sum + w.after.filter((x, r) => x !== w.before[r]).length, 0);
      expect(recordsChanged(viaUseCase.writes)).toBeLessThanOrEqual(recordsChanged(viaEngine.writes));
      expect(viaUseCase.evaluations.map((e) => e.statuses)).toEqual(viaEngine.evaluations.map((e) => e.statuses));
    },
  );
});
