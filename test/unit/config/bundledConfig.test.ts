/**
 * The structure check of the config the Lambda functions read (functions/config/bundledConfig.ts)
 * must accept every config the config schema outputs: a config it refused would stop every
 * handler at cold start. Checked here against every config the project ships or tests with.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBundledConfig } from '../../../functions/config/bundledConfig.js';
import { loadConfigFile } from '../../../functions/config/loadConfig.js';
import type { Config } from '../../../functions/core/config.js';
import { loadScenario } from '../../../sim/scenario.js';
import { minimalConfig, richConfig } from '../../infra/fixtures.js';

/** The config as the construct writes it: JSON of the schema's output. */
const asBundled = (config: Config): unknown => JSON.parse(JSON.stringify(config));

const root = join(import.meta.dirname, '..', '..', '..');
const scenarioFiles = readdirSync(join(root, 'scenarios')).filter((f) => f.endsWith('.yaml'));
const policyFiles = readdirSync(join(root, 'scenarios', 'policies')).filter((f) => f.endsWith('.yaml'));

describe('Function: checkBundledConfig', () => {
  it.each<[string, () => Promise<Config>]>([
    ['the example steer53.config.ts', () => loadConfigFile(join(root, 'steer53.config.ts'))],
    ['the infra tests’ full config', async () => richConfig],
    ['the infra tests’ minimal config', async () => minimalConfig],
    ...policyFiles.map((file): [string, () => Promise<Config>] => [`policy ${file}`, () => loadConfigFile(join(root, 'scenarios', 'policies', file))]),
    ...scenarioFiles.map((file): [string, () => Promise<Config>] => [
      `the service of scenario ${file}`,
      async () => ({
        version: 1,
        events: { maxAgeSeconds: 3600, clockSkewSeconds: 300 },
        services: [(await loadScenario(join(root, 'scenarios', file))).service],
      }),
    ]),
  ])('accepts %s as the CDK app bundles it, unchanged', async (_name, load) => {
    const bundled = asBundled(await load());
    const checked = checkBundledConfig(bundled);
    expect(checked).toEqual({ ok: true, value: bundled });
  });

  it('lists every problem with its path', () => {
    const bundled = asBundled(richConfig) as { services: { name: unknown; endpoints: { role: unknown }[] }[] };
    bundled.services[0]!.name = 7;
    bundled.services[0]!.endpoints[0]!.role = 'primary';
    const checked = checkBundledConfig(bundled);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.problems).toEqual([
      { path: 'services[0].name', message: 'Invalid input: expected string, received number' },
      { path: 'services[0].endpoints[0].role', message: 'Invalid option: expected one of "active"|"standby"|"overflow"' },
    ]);
  });
});
