import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorld } from '../../../bin/commands/world.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (line: string) => out.push(line), err: (line: string) => err.push(line), stdout: out, stderr: err };
}

const dir = mkdtempSync(join(tmpdir(), 'world-sweep-'));
const table = join(dir, 'table.csv');
writeFileSync(
  table,
  'concurrency,ttft_mean_ms,tpot_mean_ms,req_s,prompt_tokens,output_tokens\n1,50,17.13,0.19,480,300\n64,400,27.07,6.58,480,300\n256,4090,53.57,8.09,480,300\n',
);

describe('steer53 world sweep', () => {
  it.each([
    [['sweep', '--concurrency', '1,4'], '--calibration: is required'],
    [['sweep', '--calibration', table], '--concurrency: give exactly one of --concurrency or --rps'],
    [['sweep', '--calibration', table, '--concurrency', '1', '--rps', '2'], '--concurrency: give exactly one of --concurrency or --rps'],
    [['sweep', '--calibration', table, '--concurrency', '1,x,0'], '--concurrency: must be a comma-separated list of whole numbers > 0 (bad: "x", "0")'],
    [['sweep', '--calibration', table, '--concurrency', '1.5'], '--concurrency: must be a comma-separated list of whole numbers > 0 (bad: "1.5")'],
    [['sweep', '--calibration', table, '--rps=-1'], '--rps: must be a comma-separated list of numbers > 0 (bad: "-1")'],
    [['sweep', '--calibration', table, '--rps', '1', '--bogus'], "Unknown option '--bogus'"],
    [['sweeps', '--calibration', table, '--rps', '1'], '<subcommand>: must be sweep (got sweeps)'],
  ])('refuses %j with exit 2, naming the argument', async (args, message) => {
    const t = io();
    expect(await runWorld(args, t)).toBe(2);
    expect(t.stderr.join('\n')).toContain(message);
    expect(t.stdout).toEqual([]);
  });

  it('prints exactly one JSON document with --json, a point per load with the documented fields', async () => {
    const t = io();
    expect(await runWorld(['sweep', '--calibration', table, '--concurrency', '16,128', '--json'], t)).toBe(0);
    expect(t.stdout).toHaveLength(1);
    const doc = JSON.parse(t.stdout[0]!);
    expect(Object.keys(doc)).toEqual(['points']);
    expect(doc.points.map((p: { concurrency: number }) => p.concurrency)).toEqual([16, 128]);
    for (const point of doc.points) {
      expect(Object.keys(point)).toEqual(['concurrency', 'ttftP50Ms', 'ttftP95Ms', 'ttftP99Ms', 'reqPerS', 'gpuUtil', 'kvCache']);
      expect(point.ttftP99Ms).toBeGreaterThanOrEqual(point.ttftP50Ms);
    }
    expect(doc.points[1].ttftP50Ms).toBeGreaterThan(doc.points[0].ttftP50Ms);
  }, 120_000);

  it('shows the table beside the fitted world where the table has the point', async () => {
    const t = io();
    expect(await runWorld(['sweep', '--calibration', table, '--concurrency', '64'], t)).toBe(0);
    expect(t.stdout.join('\n')).toMatch(/\(400 [+-]\d+%\)/);
  }, 120_000);

  it('reports a table it cannot read as a problem of that file (and exits 1)', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'concurrency,ttft_p50\n1,50\n');
    await expect(runWorld(['sweep', '--calibration', bad, '--concurrency', '1'], io())).rejects.toThrow('unknown column "ttft_p50"');
  });
});
