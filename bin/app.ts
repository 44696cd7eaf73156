#!/usr/bin/env -S npx tsx
/**
 * The steer53 CDK app: `npx cdk synth` / `npx cdk deploy`. Reads the policy config (default
 * `steer53.config.ts`, or `-c config=path`), validates it with the same schema the handlers use
 * (a bad config fails synth with the config's own error list), and adds the controller stack plus
 * one alarm-forwarder stack per other region the config's alarms live in.
 *
 * Context (all optional): config, region, account, name, notifyEmails (comma-separated),
 * notifyHttpsUrls, deploymentAccounts, deploymentPrincipals. Nothing here looks anything up in
 * AWS, so synth works offline and without credentials. Set CDK_VALIDATION=true to also run CDK's
 * CloudFormation template validation.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../functions/config/loadConfig.js';
import { ValidationError } from '../functions/core/errors.js';
import { addSteer53Stacks } from '../lib/steer53Stacks.js';

function list(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function main(): Promise<void> {
  // CDK's built-in CloudFormation schema validation (a WebAssembly linter) doubles synth time,
  // about 5 s of CPU; the construct's templates are validated with it in the test suite
  // (test/infra/steer53Stacks.test.ts). Opt in here with CDK_VALIDATION=true; findings then fail
  // synth (@aws-cdk/core:validateAgainstDefaultRules in cdk.json).
  const app = new App({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true' });
  const context = (key: string): unknown => app.node.tryGetContext(key);
  const configPath = String(context('config') ?? 'steer53.config.ts');
  const config = await loadConfigFile(configPath);

  const region = String(context('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1');
  const account = (context('account') as string | undefined) ?? process.env.CDK_DEFAULT_ACCOUNT;
  const deploymentAccounts = list(context('deploymentAccounts'));
  const deploymentPrincipals = list(context('deploymentPrincipals'));

  addSteer53Stacks(app, {
    config,
    region,
    ...(account ? { account } : {}),
    ...(context('name') ? { name: String(context('name')) } : {}),
    notifications: { emails: list(context('notifyEmails')) ?? [], httpsUrls: list(context('notifyHttpsUrls')) ?? [] },
    ...(deploymentAccounts || deploymentPrincipals
      ? { deploymentEventPublishers: { accountIds: deploymentAccounts ?? [], principalArns: deploymentPrincipals ?? [] } }
      : {}),
  });

  // cdk-nag runs as a policy validation plugin (cdk-nag v3): any unacknowledged finding fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

main().catch((error: unknown) => {
  if (error instanceof ValidationError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
