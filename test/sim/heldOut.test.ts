import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../../functions/core/errors.js';
import { HELD_OUT_KINDS, heldOutWorld } from '../../sim/heldOut.js';
import { flapCauseLines, type HeldOutRow, kindTable, LOSS_RATIO, lossLines, parseKinds, runHeldOut } from '../../sim/heldOutBench.js';
import { failStaticEpisodes } from '../../sim/summary.js';
import { resolveScenario, SCENARIO_DIR } from '../../sim/scenario.js';
import { collectingIo } from './fixtures.js';

const source = (name: string) => join(SCENARIO_DIR, `${name}.yaml`);

describe('Function: heldOutWorld', () => {
  it('is a pure function of its family and index', () => {
    expect(heldOutWorld(1, 17)).toEqual(heldOutWorld(1, 17));
    expect(heldOutWorld(1, 17).raw).not.toEqual(heldOutWorld(1, 24).raw);
    expect(heldOutWorld(1, 17).raw).not.toEqual(heldOutWorld(2, 17).raw);
  });

  it('gives each kind its turn, in the order given', () => {
    expect(Array.from({ length: 14 }, (_, i) => heldOutWorld(3, i).kind)).toEqual([...HELD_OUT_KINDS, ...HELD_OUT_KINDS]);
    expect(Array.from({ length: 4 }, (_, i) => heldOutWorld(3, i, ['relapse', 'outage']).kind)).toEqual(['relapse', 'outage', 'relapse', 'outage']);
    expect(() => heldOutWorld(3, 0, [])).toThrow(/at least one kind/);
  });

  it('draws within the families the docs state', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (family, index) => {
        const { raw, kind } = heldOutWorld(family, index);
        const regions = raw.regions!;
        expect(regions.length).toBeGreaterThanOrEqual(2);
        expect(regions.length).toBeLessThanOrEqual(5);
        expect(new Set(regions.map((r) => r.name)).size).toBe(regions.length);
        const capacity = regions.reduce((sum, r) => sum + r.warmRps!, 0);
        for (const r of regions) expect(r.warmRps! >= 20 && r.warmRps! <= 120).toBe(true);
        const source = raw.demand!.sources[0]!;
        const load = source.meanRps! / capacity;
        const [low, high] = source.trace!.file.includes('_code') ? [0.15, 0.3] : [0.3, 0.55];
        expect(load).toBeGreaterThanOrEqual(low - 0.01);
        expect(load).toBeLessThanOrEqual(high + 0.01);
        const incidents = raw.incidents ?? [];
        const expected = { calm: 0, outage: 1, gray: 1, 'capacity-loss': 1, errors: 1, surge: 0, relapse: 2 }[kind];
        expect(incidents).toHaveLength(expected);
        expect(source.shapes?.length ?? 0).toBe(kind === 'surge' ? 1 : 0);
        for (const incident of incidents) {
          if (incident.kind === 'gray-failure') expect(incident.latencyFactor! >= 1.5 && incident.latencyFactor! <= 5).toBe(true);
          if (incident.kind === 'errors') expect(incident.errorRate >= 0.05 && incident.errorRate <= 1).toBe(true);
          if (incident.kind === 'capacity-loss') expect(incident.capacityFactor >= 0.25 && incident.capacityFactor <= 0.7).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('draws worlds every one of which is a valid scenario, its policy written for its regions', async () => {
    for (let index = 0; index < 21; index++) {
      const world = heldOutWorld(4, index);
      const scenario = await resolveScenario(world.raw, source(world.raw.name));
      expect(scenario.endpoints).toEqual(world.raw.regions!.map((r) => r.name));
      expect(scenario.service.endpoints.map((e) => e.capacity?.warmRps)).toEqual(world.raw.regions!.map((r) => r.warmRps));
      expect(scenario.hasIncident).toBe(world.kind !== 'calm');
    }
  });
});

function row(index: number, kind: HeldOutRow['kind'], ratio: number, benefit: number | null = 0.9): HeldOutRow {
  return {
    index,
    kind,
    summary: `world ${index}`,
    benefit,
    misses: { steer53: 100 * ratio, static: 300, bestRoute53: 100, oracle: 50 },
    bestRoute53: 'route53-health-check',
    ratio,
    flaps: index % 2,
    flapCauses: index % 2 === 1 ? { RECOVERY_FAILED: 1 } : {},
    dnsChanges: 4,
    safetyViolations: 0,
    failStatics: index,
  };
}

describe('Function: kindTable and lossLines', () => {
  const rows = [row(0, 'calm', 1, null), row(1, 'outage', 0.8, 0.95), row(8, 'outage', 1.3, 0.7), row(2, 'gray', 1.01, 0.85)];

  it('summarises each kind and all worlds: benefit where the oracle gains, ratio mean and worst, losses', () => {
    const table = kindTable(rows).split('\n');
    expect(table[2]).toBe('| calm | 1 | – | 1.00× / 1.00× | 0 | 0 | 4.0 | 0 | 0 |');
    expect(table[3]).toBe('| outage | 2 | 83% / 70% (2) | 1.05× / 1.30× | 1 | 1 | 4.0 | 0 | 9 |');
    expect(table[4]).toBe('| gray | 1 | 85% / 85% (1) | 1.01× / 1.01× | 0 | 0 | 4.0 | 0 | 2 |');
    expect(table[5]).toBe('| all | 4 | 83% / 70% (3) | 1.03× / 1.30× | 1 | 1 | 4.0 | 0 | 11 |');
    // Rows read from a document written before fail statics were counted have none to sum.
    const { failStatics: _, ...older } = row(3, 'gray', 1);
    expect(kindTable([older]).split('\n')[2]).toBe('| gray | 1 | 90% / 90% (1) | 1.00× / 1.00× | 0 | 1 | 4.0 | 0 | – |');
  });

  it('counts fail-static episodes as runs of consecutive evaluations in fail static', () => {
    const modes = ['normal', 'fail-static', 'fail-static', 'normal', undefined, 'fail-static', 'pinned', 'fail-static'];
    expect(failStaticEpisodes(modes.map((mode, i) => ({ t: 60 * i, statuses: [], reasons: [], ...(mode === undefined ? {} : { mode }) })))).toBe(3);
    expect(failStaticEpisodes([])).toBe(0);
  });

  it(`names the worlds lost by more than ${LOSS_RATIO}×, worst first, with the command to run one again`, () => {
    const lines = lossLines([...rows, row(9, 'errors', 1.8)], 5);
    expect(lines[0]).toContain('--family 5 --world N --yaml');
    expect(lines.slice(4).map((l) => l.split(' | ')[0])).toEqual(['| 9', '| 8']);
    expect(lossLines([row(1, 'outage', 0.5)], 5)).toEqual([expect.stringMatching(/missed no more than the best Route 53 baseline/)]);
    expect(lossLines([row(1, 'outage', 2), row(2, 'outage', 3)], 5, 1).at(-1)).toMatch(/and 1 more/);
  });
});

describe('Function: flapCauseLines', () => {
  it('sums the flaps of each kind by the reason code of the reversing write, most first, then all worlds', () => {
    const flapping = (index: number, kind: HeldOutRow['kind'], flapCauses: Record<string, number>): HeldOutRow => ({
      ...row(index, kind, 1),
      flaps: Object.values(flapCauses).reduce((a, b) => a + b, 0),
      flapCauses,
    });
    const lines = flapCauseLines([
      flapping(0, 'calm', {}),
      flapping(1, 'gray', { DRAINED: 1, RECOVERY_FAILED: 2 }),
      flapping(2, 'gray', { M_OF_N_BREACH: 1, RECOVERY_FAILED: 1 }),
      flapping(3, 'relapse', { M_OF_N_BREACH: 2 }),
    ]);
    expect(lines.slice(2)).toEqual([
      '| kind | flaps | by cause |',
      '|---|---:|---|',
      '| gray | 5 | RECOVERY_FAILED 3, DRAINED 1, M_OF_N_BREACH 1 |',
      '| relapse | 2 | M_OF_N_BREACH 2 |',
      '| all | 7 | M_OF_N_BREACH 3, RECOVERY_FAILED 3, DRAINED 1 |',
      '',
    ]);
  });

  it('says nothing where steer53 did not flap', () => {
    expect(flapCauseLines([row(0, 'calm', 1), row(2, 'gray', 0.5)])).toEqual([]);
  });
});

describe('Function: parseKinds', () => {
  it('reads kinds in the order given', () => {
    expect(parseKinds('relapse, outage')).toEqual(['relapse', 'outage']);
  });

  it.each([
    ['outages', '"outages" is not a kind'],
    ['outage,outage', '"outage" is given twice'],
    ['', '"" is not a kind'],
  ])('refuses %j', (text, message) => {
    expect(() => parseKinds(text)).toThrow(ValidationError);
    expect(() => parseKinds(text)).toThrow(message);
  });
});

describe('Command: npm run bench:held-out', () => {
  it.each([
    [['--worlds', '0'], '--worlds: must be at least 1'],
    [['--worlds', 'ten'], '--worlds: "ten" is not a whole number'],
    [['--worlds', '501'], '--worlds: "501" is not a whole number from 0 to 500'],
    [['--family', '-1'], 'family'],
    [['--world', '3'], '--world: --world N and --yaml go together'],
    [['--yaml'], '--yaml: --world N and --yaml go together'],
    [['--world', '3', '--yaml', '--json'], '--json: prints the benchmark'],
    [['--kinds', 'calm,storm'], '--kinds: "storm" is not a kind'],
    [['--seeds', '1-5'], "Unknown option '--seeds'"],
    [['--policy', 'dwell.minSeconds'], '--policy dwell.minSeconds: must be path=value'],
    [['--worlds', '1', '--policy', 'detection.window=2'], 'policy.detection.breachesToDegrade: must be at most window (2)'],
    [['--world', '3', '--yaml', '--policy', 'dwell.minSeconds=900'], '--policy: changes the policy a run uses'],
  ])('exits 2 on %j, naming the option, with the usage line', async (args, message) => {
    const io = collectingIo();
    expect(await runHeldOut(args, io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stderr.join('\n')).toContain('usage: npm run bench:held-out');
    expect(io.stdout).toEqual([]);
  });

  it('prints one world as a scenario file that runs from anywhere (trace paths absolute)', async () => {
    const io = collectingIo();
    expect(await runHeldOut(['--family', '1', '--world', '18', '--yaml'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text.split('\n')[0]).toBe(`# ${heldOutWorld(1, 18).summary}`);
    const raw = parseYaml(text);
    expect(raw.demand.sources[0].trace.file).toBe(join(SCENARIO_DIR, 'traces', 'azure-llm-2023-AzureLLMInferenceTrace_conv.csv'));
    const scenario = await resolveScenario(raw, '/tmp/elsewhere/world.yaml');
    expect(scenario.spec.name).toBe('held-out-1-18');
  });

  it('runs the worlds and prints the table and the losses; --json prints one document with every world', async () => {
    const io = collectingIo();
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage', '--json'], io)).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const document = JSON.parse(io.stdout[0]!);
    expect(document).toMatchObject({ family: 2, kinds: ['outage'], lossRatio: LOSS_RATIO });
    expect(document.rows).toHaveLength(1);
    const [only] = document.rows as HeldOutRow[];
    expect(only).toMatchObject({ index: 0, kind: 'outage', summary: heldOutWorld(2, 0, ['outage']).summary });
    // A region hard down: the fixed split misses the most, the oracle the least.
    expect(only!.misses.static).toBeGreaterThan(only!.misses.oracle);
    expect(only!.misses.steer53).toBeLessThan(only!.misses.static);
    expect(only!.ratio).toBeCloseTo(only!.misses.steer53 / only!.misses.bestRoute53, 9);

    const text = collectingIo();
    expect(kindTable(document.rows)).toContain('| outage | 1 |');
    expect(await runHeldOut(['--family', '2', '--worlds', '1', '--kinds', 'outage'], text)).toBe(0);
    expect(text.stdout.join('\n')).toContain(kindTable(document.rows));
  }, 30_000);
});
