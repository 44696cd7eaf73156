/**
 * cfn-lint over every template the deployment shapes synthesize: no error, no warning, no
 * informational finding, and no rule ignored. A finding names its rule, template and line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { cfnLint, cfnLintVersion, describeFindings } from './cfnLint.js';
import { synthesizeShapes, type DeploymentShape } from './deploymentShapes.js';
import { newApp } from './fixtures.js';

let shapes: DeploymentShape[];

beforeAll(() => {
  shapes = synthesizeShapes();
});

describe('cfn-lint', () => {
  it('is installed (1.x)', () => {
    expect(cfnLintVersion()).toMatch(/^cfn-lint 1\.\d+\.\d+$/);
  });

  it('finds nothing in any template of any deployment shape', () => {
    const stacks = shapes.flatMap((shape) => shape.stacks);
    expect(stacks.length).toBeGreaterThanOrEqual(6);
    // Environment-agnostic stacks deploy anywhere: lint them against every region the shapes name.
    const regions = [...new Set(stacks.map((s) => s.region ?? 'us-east-1'))].sort();
    expect(
      describeFindings(
        cfnLint(
          stacks.map((s) => s.templateFile),
          regions,
        ),
      ),
    ).toEqual([]);
  });

  it('reports an IAM action that does not exist, as it did dynamodb:TransactWriteItems', () => {
    const app = newApp({ bundle: false });
    const stack = new Stack(app, 'Careless');
    new iam.ManagedPolicy(stack, 'Policy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['dynamodb:TransactWriteItems'],
          resources: [stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: 't' })],
        }),
      ],
    });
    const file = join(app.synth().directory, 'Careless.template.json');
    const findings = cfnLint([file], ['us-east-1']);
    expect(findings.map((f) => [f.rule, f.level])).toEqual([['W3037', 'Warning']]);
    expect(findings[0]!.message).toContain("'transactwriteitems' is not one of");
  });

  it('reports a DependsOn that a GetAtt already implies (W3005)', () => {
    const app = newApp({ bundle: false });
    const dir = app.synth().directory;
    const file = join(dir, 'redundant.template.json');
    writeFileSync(
      file,
      JSON.stringify({
        Resources: {
          Topic: { Type: 'AWS::SNS::Topic' },
          Sub: {
            Type: 'AWS::SNS::Subscription',
            DependsOn: ['Topic'],
            Properties: { TopicArn: { Ref: 'Topic' }, Protocol: 'email', Endpoint: 'a@example.com' },
          },
        },
      }),
    );
    expect(cfnLint([file], ['us-east-1']).map((f) => f.rule)).toEqual(['W3005']);
  });
});
