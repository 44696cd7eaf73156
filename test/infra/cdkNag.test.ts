/**
 * cdk-nag AwsSolutions checks over every stack of a deployment: zero unacknowledged findings.
 * Each acknowledgement in lib/ carries its reason; this test fails on any new finding.
 */
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import { controllerAccount, newApp, richConfig } from './fixtures.js';
import exampleConfig from '../../steer53.config.js';
import { validateConfig } from '../../functions/config/loadConfig.js';

function findings(app: ReturnType<typeof newApp>): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`)).sort();
}

function richApp() {
  const app = newApp({ bundle: false });
  const stacks = addSteer53Stacks(app, {
    config: richConfig,
    region: 'us-east-1',
    account: controllerAccount,
    notifications: { emails: ['oncall@example.com'] },
    deploymentEventPublishers: { principalArns: ['arn:aws:iam::111111111111:role/release-pipeline'] },
    nativeDeploymentSources: [{ service: 'chat', setIdentifier: 'euw1', sageMakerEndpointNames: ['chat-euw1'] }],
    managedRecords: [{ service: 'chat', setIdentifier: 'use1', values: ['192.0.2.10'] }],
    staticStability: { healthChecks: [{ service: 'chat', setIdentifier: 'use1', alarmName: 'chat-use1-5xx' }] },
  });
  return { app, stacks };
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the controller and forwarder stacks of a full deployment', () => {
    const { app, stacks } = richApp();
    expect(stacks.forwarders.length).toBeGreaterThan(0);
    expect(findings(app)).toEqual([]);
  });

  it('finds nothing unacknowledged for the example config, environment-agnostic as in a first synth', () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, { config: validateConfig(exampleConfig, 'steer53.config.ts'), region: 'eu-west-1' });
    expect(findings(app)).toEqual([]);
  });

  it('reports a finding that is not acknowledged', () => {
    const { app, stacks } = richApp();
    // A queue without encryption or TLS enforcement: the check must catch it.
    new sqs.Queue(stacks.controller, 'CarelessQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(findings(app)).toEqual(
      expect.arrayContaining([
        'AwsSolutions-SQS2 at Steer53/CarelessQueue/Resource',
        'AwsSolutions-SQS3 at Steer53/CarelessQueue/Resource',
        'AwsSolutions-SQS4 at Steer53/CarelessQueue/Resource',
      ]),
    );
  });
});
