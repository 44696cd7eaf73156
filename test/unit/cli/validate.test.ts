import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runValidate } from '../../../bin/commands/validate.js';
import { editableRawConfig } from '../app/runtimeFixtures.js';

function validate(raw: unknown): string[] {
  const path = join(mkdtempSync(join(tmpdir(), 'steer53-validate-')), 'config.json');
  writeFileSync(path, JSON.stringify(raw));
  const lines: string[] = [];
  return runValidate(path, (line) => void lines.push(line)).then(() => lines) as never;
}

describe('Command: steer53 validate', () => {
  it('says when a service takes deployment events from its controller’s account only (deny by default)', async () => {
    const lines = await validate(editableRawConfig());
    expect(lines).toContain(
      "  deployment events accepted from: the controller's account only (no deploymentPublishers: events from other accounts are refused)",
    );
    expect(lines).toContain("events: refused when older than 3600 s or more than 300 s ahead of the controller's clock");
  });

  it('lists the publishers a service allows', async () => {
    const raw = editableRawConfig();
    raw.services[0]!.deploymentPublishers = { accounts: ['555555555555'], principalArns: ['arn:aws:iam::555555555555:role/deploy'] };
    expect(await validate(raw)).toContain(
      "  deployment events accepted from: the controller's account, 555555555555; principals (bus policy): arn:aws:iam::555555555555:role/deploy",
    );
  });

  it('names the account of a principal listed alone (only that principal of it may put events)', async () => {
    const raw = editableRawConfig();
    raw.services[0]!.deploymentPublishers = { principalArns: ['arn:aws:iam::666666666666:role/release'] };
    expect(await validate(raw)).toContain(
      "  deployment events accepted from: the controller's account, 666666666666; principals (bus policy): arn:aws:iam::666666666666:role/release",
    );
  });
});
