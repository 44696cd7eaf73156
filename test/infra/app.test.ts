/**
 * bin/app.ts as `cdk synth` runs it (a child process with the CLI's environment variables), with
 * no AWS credentials: a bad config fails with the config's own error list; the example config
 * synthesizes every stack with cdk-nag passing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'steer53-app-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) };
  const result = spawnSync(join(root, 'node_modules/.bin/tsx'), ['bin/app.ts'], { cwd: root, env, encoding: 'utf8' });
  return { ...result, outdir };
}

describe('bin/app.ts', () => {
  it("fails with the config's own error list when the config is invalid", () => {
    const dir = mkdtempSync(join(tmpdir(), 'steer53-config-'));
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        services: [
          {
            name: 'chat',
            dnsName: 'chat.example.com',
            hostedZoneId: 'nope',
            endpoints: [{ setIdentifier: 'a', region: 'us-east-1', baselineWeight: 300, signals: [] }],
          },
        ],
      }),
    );
    const result = synth({ config: path });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path} is not valid:`);
    expect(result.stderr).toContain('services[0].hostedZoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
    expect(result.stderr).toContain('services[0].endpoints[0].baselineWeight: must be 0–255');
    expect(result.stderr).toContain('services[0].endpoints[0].signals: needs at least one signal');
    expect(existsSync(join(result.outdir, 'Steer53.template.json'))).toBe(false);
  }, 60_000);

  it('synthesizes the example config offline, with cdk-nag passing, into a controller and its forwarders', () => {
    const result = synth({ region: 'us-east-1', notifyEmails: 'oncall@example.com' });
    expect(result.stderr).not.toMatch(/AwsSolutions-|Docker/);
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(result.outdir, 'manifest.json'), 'utf8'));
    const stacks = Object.keys(manifest.artifacts)
      .filter((k) => manifest.artifacts[k].type === 'aws:cloudformation:stack')
      .sort();
    expect(stacks).toEqual(['Steer53', 'Steer53-forwarder-ap-northeast-1', 'Steer53-forwarder-eu-west-1']);
    expect(manifest.artifacts.Steer53.environment).toBe('aws://unknown-account/us-east-1');
  }, 120_000); // a whole `cdk synth` in a child process: seconds alone, longer on a busy machine
});
