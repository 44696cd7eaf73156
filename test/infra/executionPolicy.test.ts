/**
 * The CloudFormation execution policy (lib/executionPolicy.ts) against every template the
 * deployment shapes synthesize: it knows every resource type they hold (and no type they never
 * hold), it scopes what it grants to the names CloudFormation and the templates give, it fits in
 * a managed policy, and docs/deploy.md shows exactly what `npm run execution-policy` prints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../functions/config/loadConfig.js';
import { resolveAppOptions } from '../../lib/appOptions.js';
import {
  executionPolicy,
  explainPermissions,
  ManagedPolicyMaxCharacters,
  ResourceTypePermissions,
  stacksFor,
  type TargetTemplate,
} from '../../lib/executionPolicy.js';
import { addSteer53Stacks } from '../../lib/steer53Stacks.js';
import exampleConfig from '../../steer53.config.js';
import { synthesizeShapes, type DeploymentShape } from './deploymentShapes.js';
import { controllerAccount, newApp } from './fixtures.js';

type Json = Record<string, any>;
type Statement = { Sid: string; Action: string[]; Resource: string | string[]; Condition?: Json };

let shapes: DeploymentShape[];
const templateOf = (file: string): TargetTemplate['template'] => JSON.parse(readFileSync(file, 'utf8'));

/** The policy of each account a shape deploys into, with the templates it covers. */
function policiesOf(shape: DeploymentShape) {
  const accounts = [...new Set(shape.stacks.map((s) => s.account ?? controllerAccount))];
  return accounts.map((account) => {
    const templates = shape.stacks
      .filter((s) => (s.account ?? controllerAccount) === account)
      .map((s) => ({ stackName: s.stackName, template: templateOf(s.templateFile) }));
    return { account, templates, policy: executionPolicy({ account, templates }) as { Statement: Statement[] } };
  });
}

beforeAll(() => {
  shapes = synthesizeShapes();
});

describe('The CloudFormation execution policy', () => {
  it('knows every resource type of every template, and no type that no template holds', () => {
    const types = new Set(shapes.flatMap((shape) => shape.stacks.flatMap((s) => Object.values(templateOf(s.templateFile).Resources ?? {}).map((r) => r.Type))));
    expect([...types].sort()).toEqual(Object.keys(ResourceTypePermissions).sort());
    for (const shape of shapes) expect(() => policiesOf(shape), shape.name).not.toThrow();
  });

  it('refuses a template with a resource type it does not know, naming it', () => {
    const templates = [{ stackName: 'Steer53', template: { Resources: { Bucket: { Type: 'AWS::S3::Bucket' }, Queue: { Type: 'AWS::SQS::Queue' } } } }];
    expect(() => executionPolicy({ account: controllerAccount, templates })).toThrow(
      "No execution permissions are known for AWS::S3::Bucket: add what CloudFormation's handler calls for it to ResourceTypePermissions in lib/executionPolicy.ts.",
    );
  });

  it('grants every action a resource type needs, on resources named as the templates and CloudFormation name them', () => {
    for (const shape of shapes) {
      for (const { templates, policy } of policiesOf(shape)) {
        const granted = new Set(policy.Statement.flatMap((s) => s.Action));
        const resources = templates.flatMap((t) => Object.values(t.template.Resources ?? {}));
        for (const type of new Set(resources.map((r) => r.Type)))
          for (const grant of ResourceTypePermissions[type]!.grants)
            for (const action of grant.actions) expect(granted, `${shape.name}: ${type}`).toContain(action);
        const allResources = policy.Statement.flatMap((s) => [s.Resource].flat());
        const matches = (arn: string) =>
          allResources.some((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(arn));
        for (const r of resources) {
          const p = r.Properties ?? {};
          if (r.Type === 'AWS::CloudWatch::Alarm')
            expect(matches(`arn:aws:cloudwatch:us-east-1:${policiesOf(shape)[0]!.account}:alarm:${p.AlarmName}`), String(p.AlarmName)).toBe(true);
          if (r.Type === 'AWS::Route53::RecordSet') expect(allResources).toContain(`arn:aws:route53:::hostedzone/${p.HostedZoneId}`);
        }
        // CloudFormation names what the stacks create `<stack name>-<logical id>-<suffix>`.
        for (const t of templates)
          expect(matches(`arn:aws:sqs:eu-west-1:${policiesOf(shape)[0]!.account}:${t.stackName}-SomeQueue-ABC123`), t.stackName).toBe(true);
      }
    }
  });

  it('uses "*" only for creating keys, for reads that have no resource-level permission, and for the mappings of its own functions', () => {
    for (const shape of shapes)
      for (const { policy } of policiesOf(shape)) {
        // The mappings' statement is narrowed by its condition (the function), checked below.
        const anywhere = policy.Statement.filter((s) => [s.Resource].flat().includes('*') && s.Sid !== 'FunctionMappings').flatMap((s) => s.Action);
        expect(anywhere.sort(), shape.name).toEqual(expect.arrayContaining(['kms:CreateKey']));
        expect(
          anywhere.filter((a) => a !== 'kms:CreateKey').every((a) => ['cloudwatch:DescribeAlarms', 'kms:ListAliases'].includes(a)),
          shape.name,
        ).toBe(true);
      }
  });

  it('passes roles only to Lambda and EventBridge, and lets DynamoDB alone use a key on its behalf', () => {
    const full = policiesOf(shapes[0]!)[0]!.policy.Statement;
    const bySid = (sid: string) => full.find((s) => s.Sid === sid)!;
    expect(bySid('PassRolesToLambdaAndRules').Condition).toEqual({ StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'events.amazonaws.com'] } });
    expect(full.filter((s) => [s.Action].flat().includes('iam:PassRole'))).toHaveLength(1);
    // Event source mappings only of the stacks' own functions: CreateEventSourceMapping has no resource type, its function is its condition key.
    expect(bySid('FunctionMappings').Condition).toEqual({ ArnLike: { 'lambda:FunctionArn': [`arn:aws:lambda:*:${controllerAccount}:function:Steer53-*`] } });
    expect(bySid('TableEncryptionThroughDynamoDB').Condition).toEqual({ StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } });
    expect(bySid('FunctionCode').Resource).toBe(`arn:aws:s3:::cdk-hnb659fds-assets-${controllerAccount}-*/*`);
    expect(bySid('CdkBootstrapVersion').Resource).toBe(`arn:aws:ssm:*:${controllerAccount}:parameter/cdk-bootstrap/hnb659fds/version`);
  });

  it("fits in one managed policy for each account of the full deployment (IAM's 6,144 characters)", () => {
    for (const { account, policy } of policiesOf(shapes[0]!)) expect(JSON.stringify(policy).length, account).toBeLessThanOrEqual(ManagedPolicyMaxCharacters);
  });

  it('reads the stacks of one account from a cloud assembly, and asks for the account when it cannot tell', () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, fullDeploymentOfExample());
    const dir = app.synth().directory;
    expect(stacksFor(dir, undefined).templates.map((t) => t.stackName)).toEqual(['Steer53', 'Steer53-forwarder-ap-northeast-1', 'Steer53-forwarder-eu-west-1']);
    const agnostic = newApp({ bundle: false });
    addSteer53Stacks(agnostic, { config: validateConfig(exampleConfig, 'steer53.config.ts'), region: 'us-east-1' });
    expect(() => stacksFor(agnostic.synth().directory, undefined)).toThrow(
      'Give --account: the app deploys into an account it does not name (some stacks are environment-agnostic).',
    );
    expect(() => stacksFor(dir, '999999999999')).toThrow(`No stack of ${dir} deploys into account 999999999999 (it has 111111111111).`);
  });

  it('is what docs/deploy.md shows for the example config (npm run -s execution-policy after npx cdk synth -c account=111111111111)', () => {
    const app = newApp({ bundle: false });
    addSteer53Stacks(app, fullDeploymentOfExample());
    const { account, templates } = stacksFor(app.synth().directory, undefined);
    const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
    const block = /<!-- execution-policy:begin -->\n```json\n([\s\S]*?)```\n<!-- execution-policy:end -->/.exec(docs);
    expect(block, 'docs/deploy.md has the execution policy between its markers').not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(executionPolicy({ account, templates }));
  });

  it('lists every action and why in docs/deploy.md, for every resource type it knows (npm run -s execution-policy -- --explain)', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
    const table = /<!-- execution-policy-explain:begin -->\n([\s\S]*?)\n<!-- execution-policy-explain:end -->/.exec(docs);
    expect(table, 'docs/deploy.md has the table between its markers').not.toBeNull();
    expect(table![1]).toBe(explainPermissions(Object.keys(ResourceTypePermissions)));
  });
});

/** What bin/app.ts builds from the example config with `-c account=111111111111` and nothing else. */
function fullDeploymentOfExample() {
  const context: Record<string, string> = { account: controllerAccount, region: 'us-east-1' };
  return resolveAppOptions({ config: validateConfig(exampleConfig, 'steer53.config.ts'), context: (key) => context[key], env: {}, infrastructure: {} });
}
