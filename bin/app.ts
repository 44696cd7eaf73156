#!/usr/bin/env -S npx tsx
/**
 * The steer53 CDK app: `npx cdk synth` / `npx cdk deploy --all`. Reads the policy config (default
 * `steer53.config.ts`, or `-c config=path`) and validates it with the same schema the handlers use
 * (a bad config fails synth with the config's own error list); reads the optional infrastructure
 * file (`steer53.infra.ts`, or `-c infra=path`); and adds the controller stack plus one forwarder
 * stack per other region (and account) the config's alarms and deployment events live in.
 *
 * Context (all optional): config, infra, region, account, name, notifyEmails and notifyHttpsUrls
 * (comma-separated), deploymentAccounts, deploymentPrincipals. Nothing here looks anything up in
 * AWS, so synth works offline and without credentials. Set CDK_VALIDATION=true to also run CDK's
 * CloudFormation template validation.
 */
import { existsSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../functions/config/loadConfig.js';
import { Steer53Error } from '../functions/core/errors.js';
import { DefaultInfrastructureFile, loadInfrastructureFile, resolveAppOptions } from '../lib/appOptions.js';
import { addSteer53Stacks } from '../lib/steer53Stacks.js';

async function main(): Promise<void> {
  // CDK's built-in CloudFormation schema validation (a WebAssembly linter) doubles synth time,
  // about 5 s of CPU; the construct's templates are validated with it in the test suite
  // (test/infra/steer53Stacks.test.ts). Opt in here with CDK_VALIDATION=true; findings then fail
  // synth (@aws-cdk/core:validateAgainstDefaultRules in cdk.json).
  const app = new App({ builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true' });
  const context = (key: string): unknown => app.node.tryGetContext(key);

  const config = await loadConfigFile(String(context('config') ?? 'steer53.config.ts'));
  const infraPath = context('infra') ? String(context('infra')) : existsSync(DefaultInfrastructureFile) ? DefaultInfrastructureFile : undefined;
  const infrastructure = infraPath ? await loadInfrastructureFile(infraPath) : {};
  addSteer53Stacks(app, resolveAppOptions({ config, context, env: process.env, infrastructure }));

  // cdk-nag runs as a policy validation plugin (cdk-nag v3): any unacknowledged finding fails synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

main().catch((error: unknown) => {
  // Our own errors (a bad config, bad props) are sentences for a person: no stack trace.
  const message = error instanceof Steer53Error ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
});
