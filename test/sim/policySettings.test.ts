import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { runHeldOut } from '../../sim/heldOutBench.js';
import { parsePolicySettings, settingsText, withPolicySettings } from '../../sim/policySettings.js';
import { loadScenario } from '../../sim/scenario.js';
import { collectingIo } from './fixtures.js';

const problemsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  }
  throw new Error('expected a ValidationError');
};

describe('Function: parsePolicySettings', () => {
  it('reads path=value, the value as JSON where it parses and as text otherwise', () => {
    const settings = parsePolicySettings(['detection.breachesToDegrade=4', 'recovery.steps=[0.2,0.5,1]', 'safety.failStaticAction=baseline'], 'cmd');
    expect(settings).toEqual([
      { path: ['detection', 'breachesToDegrade'], value: 4, text: 'detection.breachesToDegrade=4' },
      { path: ['recovery', 'steps'], value: [0.2, 0.5, 1], text: 'recovery.steps=[0.2,0.5,1]' },
      { path: ['safety', 'failStaticAction'], value: 'baseline', text: 'safety.failStaticAction=baseline' },
    ]);
    expect(settingsText(settings)).toBe('detection.breachesToDegrade=4 recovery.steps=[0.2,0.5,1] safety.failStaticAction=baseline');
    expect(settingsText([])).toBeUndefined();
  });

  it('rejects a setting without a value, a path that is not one, and a path set twice, naming each', () => {
    const problems = problemsOf(() =>
      parsePolicySettings(['detection.breachesToDegrade', 'dwell..minSeconds=9', 'window=', 'dwell.minSeconds=900', 'dwell.minSeconds=600'], 'npm run bench'),
    );
    expect(problems).toEqual([
      { path: '--policy detection.breachesToDegrade', message: expect.stringContaining('must be path=value') },
      { path: '--policy dwell..minSeconds=9', message: expect.stringContaining('must be path=value') },
      { path: '--policy window=', message: expect.stringContaining('must be path=value') },
      { path: '--policy dwell.minSeconds=600', message: 'sets dwell.minSeconds a second time' },
    ]);
  });
});

describe('Function: withPolicySettings', () => {
  it('changes the settings given and nothing else, and leaves the service it was given as it was', async () => {
    const { service } = await loadScenario('noisy-near-threshold');
    const changed = withPolicySettings(service, parsePolicySettings(['detection.breachesToDegrade=4', 'dwell.minSeconds=900'], 'cmd'), 'here');
    expect(changed.policy.detection).toEqual({ ...service.policy.detection, breachesToDegrade: 4 });
    expect(changed.policy.dwell).toEqual({ ...service.policy.dwell, minSeconds: 900 });
    expect({ ...changed.policy, detection: service.policy.detection, dwell: service.policy.dwell }).toEqual(service.policy);
    expect(changed.endpoints).toEqual(service.endpoints);
    expect(service.policy.detection.breachesToDegrade).toBe(3);
    expect(withPolicySettings(service, [], 'here')).toBe(service);
  });

  it('rejects what the config would: an unknown setting, a value of the wrong type, a rule the values break', async () => {
    const { service } = await loadScenario('noisy-near-threshold');
    const reject = (...texts: string[]) => problemsOf(() => withPolicySettings(service, parsePolicySettings(texts, 'cmd'), 'scenario x'));
    expect(reject('detection.breachesToDegrad=4')).toEqual([
      { path: '--policy detection.breachesToDegrad=4: policy.detection.breachesToDegrad', message: 'unknown setting (check the spelling)' },
    ]);
    expect(reject('detection.breachesToDegrade=four')[0]!.path).toBe('--policy detection.breachesToDegrade=four: policy.detection.breachesToDegrade');
    expect(reject('detection.breachesToDegrade=6')).toEqual([
      { path: '--policy detection.breachesToDegrade=6: policy.detection.breachesToDegrade', message: 'must be at most window (5)' },
    ]);
  });

  it('reaches the scenario a run loads', async () => {
    const scenario = await loadScenario('noisy-near-threshold', { policySettings: parsePolicySettings(['detection.breachesToDegrade=4'], 'cmd') });
    expect(scenario.service.policy.detection.breachesToDegrade).toBe(4);
  });
});

describe('--policy on npm run bench:held-out', () => {
  it('npm run bench:held-out runs the worlds with the setting, and its document says which', async () => {
    const args = ['--family', '2', '--worlds', '1', '--kinds', 'gray', '--json'];
    const shipped = collectingIo();
    const changed = collectingIo();
    expect(await runHeldOut(args, shipped)).toBe(0);
    // Back to the whole baseline in one step once recovered, not in four.
    expect(await runHeldOut([...args, '--policy', 'recovery.steps=[1]'], changed)).toBe(0);
    const before = JSON.parse(shipped.stdout[0]!);
    const after = JSON.parse(changed.stdout[0]!);
    expect(before.policy).toBeUndefined();
    expect(after.policy).toBe('recovery.steps=[1]');
    expect(changed.stderr[0]).toContain(', policy recovery.steps=[1]');
    // The baselines do not read steer53's policy; steer53's recovery takes fewer changes.
    expect(after.rows[0].misses.static).toBe(before.rows[0].misses.static);
    expect(after.rows[0].dnsChanges).toBeLessThan(before.rows[0].dnsChanges);
  }, 60_000);
});
