import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextList, loadInfrastructureFile, resolveAppOptions, type InfrastructureOptions } from '../../lib/appOptions.js';
import { minimalConfig } from './fixtures.js';

const noContext = () => undefined;
const contextOf = (values: Record<string, unknown>) => (key: string) => values[key];

describe('resolveAppOptions', () => {
  it('defaults to the CLI environment, then us-east-1, with no subscriptions', () => {
    expect(resolveAppOptions({ config: minimalConfig, context: noContext, env: {}, infrastructure: {} })).toEqual({
      config: minimalConfig,
      region: 'us-east-1',
      notifications: { emails: [], httpsUrls: [] },
    });
    expect(
      resolveAppOptions({
        config: minimalConfig,
        context: noContext,
        env: { CDK_DEFAULT_REGION: 'eu-west-1', CDK_DEFAULT_ACCOUNT: '111111111111' },
        infrastructure: {},
      }),
    ).toMatchObject({
      region: 'eu-west-1',
      account: '111111111111',
    });
  });

  it('takes the infrastructure file over the environment, and context over both', () => {
    const infrastructure: InfrastructureOptions = {
      region: 'eu-central-1',
      name: 'steer53-file',
      notifications: { emails: ['file@example.com'], httpsUrls: ['https://file.example.com'] },
      deploymentEventPublishers: { principalArns: ['arn:aws:iam::111111111111:role/file'] },
      managedRecords: [{ service: 'solo', setIdentifier: 'one', values: ['192.0.2.1'] }],
    };
    const fromFile = resolveAppOptions({ config: minimalConfig, context: noContext, env: { CDK_DEFAULT_REGION: 'eu-west-1' }, infrastructure });
    expect(fromFile).toMatchObject({
      region: 'eu-central-1',
      name: 'steer53-file',
      notifications: { emails: ['file@example.com'], httpsUrls: ['https://file.example.com'] },
      deploymentEventPublishers: { accountIds: [], principalArns: ['arn:aws:iam::111111111111:role/file'] },
      managedRecords: infrastructure.managedRecords,
    });
    const fromContext = resolveAppOptions({
      config: minimalConfig,
      context: contextOf({ region: 'ap-south-1', name: 'ctx', notifyEmails: 'a@example.com, b@example.com', deploymentAccounts: '222222222222' }),
      env: {},
      infrastructure,
    });
    expect(fromContext).toMatchObject({
      region: 'ap-south-1',
      name: 'ctx',
      notifications: { emails: ['a@example.com', 'b@example.com'], httpsUrls: ['https://file.example.com'] },
      deploymentEventPublishers: { accountIds: ['222222222222'], principalArns: ['arn:aws:iam::111111111111:role/file'] },
    });
  });
});

describe('contextList', () => {
  it.each<[unknown, string[] | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['a, b,,c ', ['a', 'b', 'c']],
    [
      ['x', 'y'],
      ['x', 'y'],
    ],
  ])('reads %j as %j', (value, list) => {
    expect(contextList(value)).toEqual(list);
  });
});

describe('loadInfrastructureFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer53-infra-'));

  it('reads the default export of a module', async () => {
    const path = join(dir, 'good.mjs');
    writeFileSync(path, "export default { name: 'from-file', notifications: { emails: ['oncall@example.com'] } };\n");
    await expect(loadInfrastructureFile(path)).resolves.toEqual({ name: 'from-file', notifications: { emails: ['oncall@example.com'] } });
  });

  it('says what to write when there is no default export', async () => {
    const path = join(dir, 'bad.mjs');
    writeFileSync(path, 'export const options = {};\n');
    await expect(loadInfrastructureFile(path)).rejects.toThrow(
      `The infrastructure file ${path} needs a default export: export default defineInfrastructure({ ... }).`,
    );
  });

  it('names a missing file', async () => {
    await expect(loadInfrastructureFile(join(dir, 'missing.ts'))).rejects.toThrow(`The infrastructure file ${join(dir, 'missing.ts')} does not exist.`);
  });
});
