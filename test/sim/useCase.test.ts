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
      expect(viaUseCase.writes.map((w) => [w.t, w.after])).toEqual(viaEngine.writes.map((w) => [w.t, w.after]));
      expect(viaUseCase.evaluations.map((e) => e.statuses)).toEqual(viaEngine.evaluations.map((e) => e.statuses));
    },
  );
});
