import { describe, expect, it } from 'vitest';
import { runSimulate } from '../../sim/cli.js';
import { collectingIo } from './fixtures.js';
import { runScenario } from '../../sim/run.js';
import { DEFAULT_SCENARIOS, loadScenario } from '../../sim/scenario.js';
import { CONTROLLER_NAMES } from '../../sim/world.js';
import { ValidationError } from '../../functions/core/errors.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('Scenario smoke test (shortened to 50 minutes)', () => {
  it.each(DEFAULT_SCENARIOS)('runs %s under every controller with sane metrics', async (name) => {
    const scenario = await loadScenario(name, { durationSeconds: 50 * 60 });
    const result = await runScenario(scenario);
    for (const controller of CONTROLLER_NAMES) {
      const m = result.metrics[controller];
      expect(m.sloMissFraction).toBeGreaterThanOrEqual(0);
      expect(m.sloMissFraction).toBeLessThanOrEqual(1);
      expect(m.flaps).toBeLessThanOrEqual(m.dnsChanges);
      expect(result.runs[controller].totalRequests).toBeGreaterThan(0);
    }
    expect(result.metrics.static.dnsChanges).toBe(0);
    expect(result.metrics.static.safetyViolations).toBe(0);
    // The oracle (a strong heuristic, not a bound: its forecast is a closed-form approximation of
    // a world simulated request by request) never does worse than leaving the weights alone by
    // more than half a percent of the requests.
    expect(result.metrics.oracle.sloMissFraction).toBeLessThanOrEqual(result.metrics.static.sloMissFraction + 0.005);
  });
});

describe('steer53 simulate', () => {
  it('prints exactly one JSON document in the benchmark shape with --json, and writes the report', async () => {
    const io = collectingIo();
    const out = mkdtempSync(join(tmpdir(), 'steer53-sim-'));
    const code = await runSimulate(['--scenario', 'region-outage', '--duration', '45m', '--json', '--out', out], io);
    expect(code).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const doc = JSON.parse(io.stdout[0]!);
    expect(Object.keys(doc)).toEqual(['seeds', 'quick', 'scenarios', 'expectations']);
    expect(doc.seeds).toBeNull();
    expect(doc.scenarios[0].name).toBe('region-outage');
    expect(doc.scenarios[0].incident).toBe(true);
    expect(doc.scenarios[0].seeds).toEqual([101]);
    expect(Object.keys(doc.scenarios[0].controllers)).toEqual([...CONTROLLER_NAMES]);
    expect(Object.keys(doc.scenarios[0].controllers.steer53.mean)).toEqual([
      'sloMissFraction',
      'benefit',
      'dnsChanges',
      'flaps',
      'timeToMitigateS',
      'timeToBaselineS',
      'safetyViolations',
      'instanceHours',
      'extraInstanceHours',
    ]);
    // region-outage's regions do not scale: the configured replicas, nothing extra.
    expect(doc.scenarios[0].controllers.oracle.mean.extraInstanceHours).toBe(0);
    expect(doc.scenarios[0].controllers.oracle.mean.instanceHours).toBeGreaterThan(0);
    const html = readFileSync(join(out, 'steer53-report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // self-contained: no network
  });

  it('applies --seed and a --config policy in place of the scenario policy', async () => {
    const io = collectingIo();
    const code = await runSimulate(
      ['--scenario', 'gray-failure', '--duration', '20m', '--seed', '9', '--json', '--no-report', '--config', 'scenarios/policies/chat-3-regions.yaml'],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout[0]!).scenarios).toHaveLength(1);
  });

  it('applies --policy settings on top of the scenario policy, and refuses one the policy rejects', async () => {
    const args = ['--scenario', 'gray-failure', '--json', '--no-report'];
    const shipped = collectingIo();
    const changed = collectingIo();
    expect(await runSimulate(args, shipped)).toBe(0);
    expect(await runSimulate([...args, '--policy', 'recovery.steps=[1]'], changed)).toBe(0);
    const dns = (io: ReturnType<typeof collectingIo>) => JSON.parse(io.stdout[0]!).scenarios[0].controllers.steer53.mean.dnsChanges;
    // Back to the whole baseline in one step once recovered, not in four.
    expect(dns(changed)).toBeLessThan(dns(shipped));
    expect(JSON.parse(changed.stdout[0]!).policy).toBe('recovery.steps=[1]');
    expect(JSON.parse(shipped.stdout[0]!).policy).toBeUndefined();
    await expect(runSimulate([...args, '--policy', 'recovery.steps=[0.5]'], collectingIo())).rejects.toThrow(
      /--policy recovery\.steps=\[0\.5\]: policy\.recovery\.steps: must end at 1/,
    );
  });

  it('prints the decisions that mattered, with verdicts and reason codes, with --timeline', async () => {
    const io = collectingIo();
    await runSimulate(['--scenario', 'region-outage', '--duration', '60m', '--no-report', '--timeline'], io);
    expect(io.stdout[0]).toBe('== region-outage: steer53 timeline');
    const drain = io.stdout.findIndex((line) => /eu-west-1:drained/.test(line));
    expect(drain).toBeGreaterThan(0);
    // The outage begins at 40:00: its 10-second 5xx alarm drains it before any minute is published.
    expect(io.stdout[drain]).toMatch(/^ {2}40m\d\ds /);
    expect(io.stdout.slice(drain, drain + 6).join('\n')).toMatch(
      /error-rate 0% n=\d+ clear, error-alarm clear, ttft-fast clear, error-fast breach\)[\s\S]*reasons: .*FAIL_UNAMBIGUOUS/,
    );
  });

  it('refuses bad options with every problem, and changes nothing', async () => {
    const io = collectingIo();
    await expect(runSimulate(['--seed', '1.5', '--duration', 'soon'], io)).rejects.toThrow(ValidationError);
    await expect(runSimulate(['--seed', '1.5', '--duration', 'soon'], io)).rejects.toThrow(/--seed: must be an integer[\s\S]*--duration: must be a duration/);
    expect(io.stdout).toEqual([]);
  });
});
