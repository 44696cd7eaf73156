import { describe, expect, it } from 'vitest';
import { resolveScenario } from '../../sim/scenario.js';
import { runWorld, type ControllerFactory } from '../../sim/world.js';
import { BOTH_READERS, SOURCE, smallScenario, threeRegions } from './fixtures.js';

// Three regions, nothing wrong, and the schedule firing on the minute (an EventBridge rate rule
// fires at whatever second it was created): every scheduled read is exactly 60 s after the minute
// it judges ends, when CloudWatch has published a part of it with probability 18% and a region
// shows no datapoint at all 45% of the time.
const onTheMinute = smallScenario({
  duration: '30m',
  demand: { sources: [{ curve: { kind: 'constant' }, meanRps: 60 }] },
  ...threeRegions(),
  cloudwatch: { evaluationOffsetSeconds: 0 },
});

describe('A minute not yet published', () => {
  it.each<[string, ControllerFactory]>(BOTH_READERS)('is not judged: steer53 neither fails static nor holds on it, through %s', async (_name, controller) => {
    const run = await runWorld(await resolveScenario(onTheMinute, SOURCE), controller);
    const after = run.evaluations.filter((e) => e.t >= 5 * 60);
    expect(after.length).toBeGreaterThan(20);
    expect(after.filter((e) => e.reasons.some((r) => /^FAIL_STATIC(:|$)/.test(r)) || e.mode === 'fail-static')).toEqual([]);
    expect(after.filter((e) => e.reasons.some((r) => r.includes('ALL_UNKNOWN_HOLD')))).toEqual([]);
    expect(run.writes).toEqual([]);
  });
});
