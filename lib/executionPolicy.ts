/**
 * The CloudFormation execution policy of a steer53 deployment, derived from its synthesized
 * templates: for each resource type they hold, the calls CloudFormation's resource handler makes
 * to create, read (it reads back what it made, tags included), update and delete it, on resources
 * named the way CloudFormation names them (`<stack>-<logical id>-<suffix>`) or the way the
 * templates name them (alarms, dashboards, the bus, hosted zones).
 *
 * The actions come from each type's CloudFormation registry schema (`handlers.*.permissions`),
 * less those for features these templates never use, each left out with its reason
 * (`ResourceTypePermissions[type].notNeeded`). A template with a resource type that has no entry
 * here fails `executionPolicy()` with a sentence naming it, so the policy cannot fall behind the
 * stacks silently (test/infra/executionPolicy.test.ts synthesizes every deployment shape).
 *
 *   npx cdk synth -q && npm run -s execution-policy -- --account 111111111111 > steer53-cfn-exec.json
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Steer53Error } from '../functions/core/errors.js';

/** IAM's limit for a customer managed policy, whitespace not counted. */
export const ManagedPolicyMaxCharacters = 6144;

/** What the policy is for: the templates deploying into one account. */
export interface PolicyTarget {
  readonly account: string;
  readonly partition?: string;
  /** The CDK bootstrap qualifier. @default 'hnb659fds' */
  readonly qualifier?: string;
  readonly templates: readonly TargetTemplate[];
}

export interface TargetTemplate {
  readonly stackName: string;
  readonly template: { readonly Resources?: Readonly<Record<string, { Type: string; Properties?: Record<string, unknown> }>>; readonly Parameters?: object };
}

/** Names the templates give (or CloudFormation derives), from which resources are scoped. */
interface Names {
  /** An ARN in this account, any region: `arn:<partition>:<service>:*:<account>:<resource>`. */
  readonly arn: (service: string, resource: string) => string;
  /** An ARN without region (IAM, CloudWatch dashboards): `arn:<partition>:<service>::<account>:<resource>`. */
  readonly global: (service: string, resource: string) => string;
  /** An ARN without region or account (S3, Route 53): `arn:<partition>:<service>:::<resource>`. */
  readonly bare: (service: string, resource: string) => string;
  readonly account: string;
  readonly qualifier: string;
  /** `<first word of a stack name>-*`: CloudFormation-generated names start with the stack's. */
  readonly generated: readonly string[];
  readonly alarms: readonly string[];
  readonly dashboards: readonly string[];
  readonly buses: readonly string[];
  readonly zones: readonly string[];
}

/** One statement of the policy: what it is for, the actions, on which resources. */
interface Scope {
  readonly sid: string;
  readonly resources: (n: Names) => string[];
  readonly conditions?: (n: Names) => Record<string, Record<string, string | string[]>>;
}

const Scopes = {
  alarms: { sid: 'Alarms', resources: (n) => n.alarms.map((name) => n.arn('cloudwatch', `alarm:${name}`)) },
  dashboards: { sid: 'Dashboards', resources: (n) => n.dashboards.map((name) => n.global('cloudwatch', `dashboard/${name}`)) },
  tables: { sid: 'Tables', resources: (n) => n.generated.map((p) => n.arn('dynamodb', `table/${p}`)) },
  tableKeys: {
    sid: 'TableEncryptionThroughDynamoDB',
    resources: (n) => [n.arn('kms', 'key/*')],
    conditions: () => ({ StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } }),
  },
  buses: { sid: 'EventBuses', resources: (n) => n.buses.map((name) => n.arn('events', `event-bus/${name}`)) },
  rules: {
    sid: 'Rules',
    resources: (n) => n.generated.flatMap((p) => [n.arn('events', `rule/${p}`), ...n.buses.map((bus) => n.arn('events', `rule/${bus}/${p}`))]),
  },
  roles: { sid: 'Roles', resources: (n) => n.generated.map((p) => n.global('iam', `role/${p}`)) },
  /** One statement for both services (the functions' roles, a forwarder's rule roles): an IAM managed policy holds 6,144 characters. */
  passRole: {
    sid: 'PassRolesToLambdaAndRules',
    resources: (n) => n.generated.map((p) => n.global('iam', `role/${p}`)),
    conditions: () => ({ StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'events.amazonaws.com'] } }),
  },
  createKey: { sid: 'CreateKeys', resources: () => ['*'] },
  keys: { sid: 'Keys', resources: (n) => [n.arn('kms', 'key/*')] },
  /** The functions, and their event source mappings (whose ids are generated: any mapping of the account). */
  functions: { sid: 'Functions', resources: (n) => [...n.generated.map((p) => n.arn('lambda', `function:${p}`)), n.arn('lambda', 'event-source-mapping:*')] },
  /** CreateEventSourceMapping has no resource type; the mapping's function is its condition key (as for update and delete). */
  mappingsOfFunctions: {
    sid: 'FunctionMappings',
    resources: () => ['*'],
    conditions: (n) => ({ ArnLike: { 'lambda:FunctionArn': n.generated.map((p) => n.arn('lambda', `function:${p}`)) } }),
  },
  code: { sid: 'FunctionCode', resources: (n) => [n.bare('s3', `cdk-${n.qualifier}-assets-${n.account}-*/*`)] },
  logGroups: { sid: 'LogGroups', resources: (n) => n.generated.map((p) => n.arn('logs', `log-group:${p}`)) },
  listLogGroups: { sid: 'ListLogGroups', resources: (n) => [n.arn('logs', 'log-group:*')] },
  topics: { sid: 'Topics', resources: (n) => n.generated.map((p) => n.arn('sns', p)) },
  queues: { sid: 'Queues', resources: (n) => n.generated.map((p) => n.arn('sqs', p)) },
  healthChecks: { sid: 'HealthChecks', resources: (n) => [n.bare('route53', 'healthcheck/*')] },
  zones: { sid: 'Records', resources: (n) => n.zones.map((zone) => n.bare('route53', `hostedzone/${zone}`)) },
  changes: { sid: 'RecordChanges', resources: (n) => [n.bare('route53', 'change/*')] },
  anywhere: { sid: 'ReadsWithoutResourceScope', resources: () => ['*'] },
  bootstrapVersion: { sid: 'CdkBootstrapVersion', resources: (n) => [n.arn('ssm', `parameter/cdk-bootstrap/${n.qualifier}/version`)] },
} satisfies Record<string, Scope>;
type ScopeName = keyof typeof Scopes;

/** The actions one resource type needs, on which scope, and why. */
export interface TypePermissions {
  readonly grants: ReadonlyArray<{ readonly scope: ScopeName; readonly actions: readonly string[]; readonly why: string }>;
  /** Actions its handler schema lists that these templates never need, and why. */
  readonly notNeeded?: string;
}

export const ResourceTypePermissions: Readonly<Record<string, TypePermissions>> = {
  'AWS::CloudWatch::Alarm': {
    grants: [
      {
        scope: 'alarms',
        actions: [
          'cloudwatch:PutMetricAlarm',
          'cloudwatch:DeleteAlarms',
          'cloudwatch:TagResource',
          'cloudwatch:UntagResource',
          'cloudwatch:ListTagsForResource',
        ],
        why: 'create, update and delete the named alarms; the handler tags them and reads their tags back',
      },
      { scope: 'anywhere', actions: ['cloudwatch:DescribeAlarms'], why: 'the handler reads each alarm back after every change (read-only)' },
    ],
  },
  'AWS::CloudWatch::Dashboard': {
    grants: [
      { scope: 'dashboards', actions: ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards'], why: 'one dashboard per service' },
    ],
  },
  'AWS::DynamoDB::Table': {
    grants: [
      {
        scope: 'tables',
        actions: [
          'dynamodb:CreateTable',
          'dynamodb:UpdateTable',
          'dynamodb:DeleteTable',
          'dynamodb:DescribeTable',
          'dynamodb:UpdateTimeToLive',
          'dynamodb:DescribeTimeToLive',
          'dynamodb:UpdateContinuousBackups',
          'dynamodb:DescribeContinuousBackups',
          'dynamodb:DescribeContributorInsights',
          'dynamodb:DescribeKinesisStreamingDestination',
          'dynamodb:GetResourcePolicy',
          'dynamodb:TagResource',
          'dynamodb:UntagResource',
          'dynamodb:ListTagsOfResource',
        ],
        why: 'the state table: TTL on expiresAt, point-in-time recovery, deletion protection; the read handler also reads contributor insights, Kinesis streaming and the resource policy',
      },
      {
        scope: 'tableKeys',
        actions: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:Decrypt', 'kms:Encrypt'],
        why: 'a table encrypted at rest under a KMS key (the AWS-managed one, or tableEncryptionKey): DynamoDB creates its grant on the caller’s behalf, only through DynamoDB',
      },
      { scope: 'anywhere', actions: ['kms:ListAliases'], why: 'DynamoDB resolves alias/aws/dynamodb (no resource-level permission)' },
    ],
    notNeeded:
      'Kinesis streaming, imports from S3, replicas and contributor insights (kinesis:*, s3:*, logs:*, iam:CreateServiceLinkedRole, Enable/Update* of those features): the table uses none',
  },
  'AWS::Events::EventBus': {
    grants: [
      {
        scope: 'buses',
        actions: [
          'events:CreateEventBus',
          'events:DeleteEventBus',
          'events:DescribeEventBus',
          'events:TagResource',
          'events:UntagResource',
          'events:ListTagsForResource',
        ],
        why: 'the controller’s bus, named after the controller',
      },
    ],
  },
  'AWS::Events::EventBusPolicy': {
    grants: [
      { scope: 'buses', actions: ['events:PutPermission', 'events:RemovePermission', 'events:DescribeEventBus'], why: 'who may put which events on the bus' },
    ],
  },
  'AWS::Events::Rule': {
    grants: [
      {
        scope: 'rules',
        actions: [
          'events:PutRule',
          'events:DescribeRule',
          'events:DeleteRule',
          'events:EnableRule',
          'events:DisableRule',
          'events:PutTargets',
          'events:RemoveTargets',
          'events:ListTargetsByRule',
          'events:TagResource',
          'events:UntagResource',
          'events:ListTagsForResource',
        ],
        why: 'rules on the default bus and on the controller’s bus, with their targets',
      },
      {
        scope: 'passRole',
        actions: ['iam:PassRole'],
        why: 'a forwarder’s rules put events on the controller’s bus through their own role (passed to EventBridge)',
      },
    ],
  },
  'AWS::IAM::Role': {
    grants: [
      {
        scope: 'roles',
        actions: [
          'iam:CreateRole',
          'iam:DeleteRole',
          'iam:GetRole',
          'iam:UpdateRole',
          'iam:UpdateRoleDescription',
          'iam:UpdateAssumeRolePolicy',
          'iam:TagRole',
          'iam:UntagRole',
          'iam:ListRolePolicies',
          'iam:ListAttachedRolePolicies',
          'iam:GetRolePolicy',
          'iam:PutRolePolicy',
          'iam:DeleteRolePolicy',
        ],
        why: 'one role per function and one per forwarder; the handler lists their policies when it reads them',
      },
    ],
    notNeeded: 'iam:AttachRolePolicy / DetachRolePolicy and permission boundaries: the roles have inline policies only, no managed policy, no boundary',
  },
  'AWS::IAM::Policy': {
    grants: [{ scope: 'roles', actions: ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy'], why: 'the policies inline on those roles' }],
    notNeeded: 'the User and Group variants: the policies are attached to roles only',
  },
  'AWS::KMS::Key': {
    grants: [
      { scope: 'createKey', actions: ['kms:CreateKey'], why: 'a key’s ARN exists only once it is created (no resource-level permission)' },
      {
        scope: 'keys',
        actions: [
          'kms:DescribeKey',
          'kms:GetKeyPolicy',
          'kms:PutKeyPolicy',
          'kms:GetKeyRotationStatus',
          'kms:EnableKeyRotation',
          'kms:DisableKeyRotation',
          'kms:UpdateKeyDescription',
          'kms:ListResourceTags',
          'kms:TagResource',
          'kms:UntagResource',
          'kms:ScheduleKeyDeletion',
        ],
        why: 'the rotating keys of the notification topics (key ARNs are random: every key of the account)',
      },
    ],
    notNeeded: 'kms:EnableKey / DisableKey: the keys are never disabled',
  },
  'AWS::Lambda::EventInvokeConfig': {
    grants: [
      {
        scope: 'functions',
        actions: [
          'lambda:PutFunctionEventInvokeConfig',
          'lambda:GetFunctionEventInvokeConfig',
          'lambda:UpdateFunctionEventInvokeConfig',
          'lambda:DeleteFunctionEventInvokeConfig',
        ],
        why: 'retries, event age and the failure destination of each function',
      },
    ],
  },
  'AWS::Lambda::Function': {
    grants: [
      {
        scope: 'functions',
        actions: [
          'lambda:CreateFunction',
          'lambda:GetFunction',
          'lambda:GetFunctionCodeSigningConfig',
          'lambda:GetRuntimeManagementConfig',
          'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration',
          'lambda:DeleteFunction',
          'lambda:TagResource',
          'lambda:UntagResource',
          'lambda:ListTags',
        ],
        why: 'the three handlers; the read handler also reads code signing and runtime management',
      },
      {
        scope: 'code',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        why: 'Lambda fetches the code from the CDK assets bucket with the caller’s permission',
      },
      { scope: 'passRole', actions: ['iam:PassRole'], why: 'each function runs as its own role (passed to Lambda)' },
    ],
    notNeeded:
      'VPC, EFS, layers, code signing, reserved concurrency and a customer-managed environment key (ec2:Describe*, elasticfilesystem:*, lambda:GetLayerVersion, Put/Delete code signing and concurrency, kms:*): the functions use none',
  },
  'AWS::Lambda::EventSourceMapping': {
    grants: [
      {
        scope: 'mappingsOfFunctions',
        actions: ['lambda:CreateEventSourceMapping', 'lambda:UpdateEventSourceMapping', 'lambda:DeleteEventSourceMapping'],
        why: 'the alarm queue feeding the alarm function, for the functions of these stacks only (lambda:FunctionArn)',
      },
      {
        scope: 'functions',
        actions: ['lambda:GetEventSourceMapping', 'lambda:ListTags', 'lambda:TagResource', 'lambda:UntagResource'],
        why: 'the handler reads the mapping back (its id is generated) and tags it',
      },
    ],
    notNeeded: 'a KMS key for filter criteria (kms:DescribeKey, kms:GenerateDataKey, kms:Decrypt): no filter is used',
  },
  'AWS::Lambda::Permission': {
    grants: [
      {
        scope: 'functions',
        actions: ['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'],
        why: 'EventBridge rules may invoke the functions',
      },
    ],
  },
  'AWS::Logs::LogGroup': {
    grants: [
      {
        scope: 'logGroups',
        actions: [
          'logs:CreateLogGroup',
          'logs:DeleteLogGroup',
          'logs:PutRetentionPolicy',
          'logs:DeleteRetentionPolicy',
          'logs:GetDataProtectionPolicy',
          'logs:DeleteDataProtectionPolicy',
          'logs:TagResource',
          'logs:UntagResource',
          'logs:ListTagsForResource',
        ],
        why: 'one log group per function, with its retention; the handler reads (and on delete removes) a data protection policy',
      },
      { scope: 'listLogGroups', actions: ['logs:DescribeLogGroups'], why: 'the handler finds a log group by listing (read-only)' },
    ],
    notNeeded:
      'log group KMS keys, data protection policies, deliveries and resource policies (AssociateKmsKey, PutDataProtectionPolicy, CreateLogDelivery, PutResourcePolicy, s3, firehose): none used',
  },
  'AWS::Route53::HealthCheck': {
    grants: [
      {
        scope: 'healthChecks',
        actions: [
          'route53:CreateHealthCheck',
          'route53:GetHealthCheck',
          'route53:UpdateHealthCheck',
          'route53:DeleteHealthCheck',
          'route53:ChangeTagsForResource',
          'route53:ListTagsForResource',
        ],
        why: 'static stability: health checks on CloudWatch alarms (Route 53 reads the alarm with cloudwatch:DescribeAlarms, granted above)',
      },
    ],
  },
  'AWS::Route53::RecordSet': {
    grants: [
      {
        scope: 'zones',
        actions: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:GetHostedZone'],
        why: 'the weighted records the construct manages, in their hosted zones only',
      },
      { scope: 'changes', actions: ['route53:GetChange'], why: 'CloudFormation waits for each change to be INSYNC' },
    ],
  },
  'AWS::SNS::Subscription': {
    grants: [
      {
        scope: 'topics',
        actions: ['sns:Subscribe', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes', 'sns:ListSubscriptionsByTopic'],
        why: 'email and HTTPS subscriptions with their dead-letter queue (a subscription ARN starts with its topic’s)',
      },
    ],
  },
  'AWS::SNS::Topic': {
    grants: [
      {
        scope: 'topics',
        actions: [
          'sns:CreateTopic',
          'sns:DeleteTopic',
          'sns:GetTopicAttributes',
          'sns:SetTopicAttributes',
          'sns:ListSubscriptionsByTopic',
          'sns:GetDataProtectionPolicy',
          'sns:TagResource',
          'sns:UntagResource',
          'sns:ListTagsForResource',
        ],
        why: 'the notification topic and each forwarder’s alarm topic; the read handler also reads the data protection policy',
      },
    ],
    notNeeded: 'sns:PutDataProtectionPolicy and delivery-status logging roles (iam:PassRole): none used',
  },
  'AWS::SNS::TopicPolicy': {
    grants: [{ scope: 'topics', actions: ['sns:SetTopicAttributes'], why: 'who may publish to the topics' }],
  },
  'AWS::SQS::Queue': {
    grants: [
      {
        scope: 'queues',
        actions: [
          'sqs:CreateQueue',
          'sqs:DeleteQueue',
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:SetQueueAttributes',
          'sqs:TagQueue',
          'sqs:UntagQueue',
          'sqs:ListQueueTags',
        ],
        why: 'the dead-letter queues',
      },
    ],
  },
  'AWS::SQS::QueuePolicy': {
    grants: [{ scope: 'queues', actions: ['sqs:SetQueueAttributes'], why: 'who may send to the dead-letter queues (TLS only)' }],
  },
};

/** Template parts that are not resources but still make CloudFormation call AWS. */
export const TemplatePermissions = {
  bootstrapVersion: {
    scope: 'bootstrapVersion' as const,
    actions: ['ssm:GetParameters'],
    why: 'the BootstrapVersion parameter CDK adds to every template is read from SSM when the stack is deployed',
  },
};

/** The policy document, one statement per scope, actions sorted. */
export function executionPolicy(target: PolicyTarget): { Version: '2012-10-17'; Statement: object[] } {
  const names = namesOf(target);
  const types = new Set(target.templates.flatMap((t) => Object.values(t.template.Resources ?? {}).map((r) => r.Type)));
  const unknown = [...types].filter((type) => ResourceTypePermissions[type] === undefined).sort();
  if (unknown.length > 0) {
    throw new Steer53Error(
      `No execution permissions are known for ${unknown.join(', ')}: add what CloudFormation's handler calls for it to ResourceTypePermissions in lib/executionPolicy.ts.`,
    );
  }
  const byScope = new Map<ScopeName, Set<string>>();
  const grant = (scope: ScopeName, actions: readonly string[]) => {
    const set = byScope.get(scope) ?? new Set<string>();
    for (const action of actions) set.add(action);
    byScope.set(scope, set);
  };
  for (const type of [...types].sort()) for (const g of ResourceTypePermissions[type]!.grants) grant(g.scope, g.actions);
  if (target.templates.some((t) => t.template.Parameters !== undefined && 'BootstrapVersion' in t.template.Parameters))
    grant(TemplatePermissions.bootstrapVersion.scope, TemplatePermissions.bootstrapVersion.actions);
  const statements = (Object.keys(Scopes) as ScopeName[]).flatMap((scope) => {
    const s: Scope = Scopes[scope];
    const actions = byScope.get(scope);
    const resources = s.resources(names);
    if (actions === undefined || resources.length === 0) return [];
    return [
      {
        Sid: s.sid,
        Effect: 'Allow',
        Action: [...actions].sort(),
        Resource: resources.length === 1 ? resources[0] : resources,
        ...(s.conditions ? { Condition: s.conditions(names) } : {}),
      },
    ];
  });
  return { Version: '2012-10-17', Statement: statements };
}

function namesOf(target: PolicyTarget): Names {
  const partition = target.partition ?? 'aws';
  const resources = target.templates.flatMap((t) => Object.values(t.template.Resources ?? {}));
  const property = (type: string, key: string) =>
    [...new Set(resources.filter((r) => r.Type === type).map((r) => r.Properties?.[key]))].filter((v): v is string => typeof v === 'string').sort();
  return {
    arn: (service, resource) => `arn:${partition}:${service}:*:${target.account}:${resource}`,
    global: (service, resource) => `arn:${partition}:${service}::${target.account}:${resource}`,
    bare: (service, resource) => `arn:${partition}:${service}:::${resource}`,
    account: target.account,
    qualifier: target.qualifier ?? 'hnb659fds',
    generated: [...new Set(target.templates.map((t) => `${t.stackName.split('-')[0]}-*`))].sort(),
    // Alarms and dashboards are named `<controller name>-…`: their prefixes keep the policy short
    // (an IAM managed policy holds at most 6,144 characters).
    alarms: prefixes(property('AWS::CloudWatch::Alarm', 'AlarmName')),
    dashboards: prefixes(property('AWS::CloudWatch::Dashboard', 'DashboardName')),
    buses: property('AWS::Events::EventBus', 'Name'),
    zones: property('AWS::Route53::RecordSet', 'HostedZoneId'),
  };
}

/** `steer53-alarm-dlq-not-empty`, `steer53-schedule-stopped` → `steer53-*`. */
function prefixes(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => (name.includes('-') ? `${name.split('-')[0]}-*` : name)))].sort();
}

/** Every action and why, per resource type, as a Markdown table (docs/deploy.md shows it). */
export function explainPermissions(types: Iterable<string>): string {
  const rows = [...new Set(types)].sort().flatMap((type) => {
    const entry = ResourceTypePermissions[type];
    if (!entry) return [`| \`${type}\` | (unknown) | |`];
    const granted = entry.grants.map((g) => `| \`${type}\` | ${g.actions.map((a) => `\`${a}\``).join(', ')} | ${g.why} |`);
    return entry.notNeeded ? [...granted, `| \`${type}\` | not granted | ${entry.notNeeded} |`] : granted;
  });
  const bootstrap = `| (every template) | ${TemplatePermissions.bootstrapVersion.actions.map((a) => `\`${a}\``).join(', ')} | ${TemplatePermissions.bootstrapVersion.why} |`;
  return ['| Resource type | Actions | Why |', '| --- | --- | --- |', ...rows, bootstrap].join('\n');
}

interface Manifest {
  artifacts?: Record<string, { type: string; environment?: string; properties?: { templateFile?: string; stackName?: string } }>;
}

/** The stacks of a cloud assembly that deploy into `account` (environment-agnostic ones included), with their templates. */
export function stacksFor(outdir: string, account: string | undefined): { account: string; templates: TargetTemplate[] } {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
  const stacks = Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => ({
      id,
      account: /^aws:\/\/(\d{12})\//.exec(a.environment ?? '')?.[1],
      file: a.properties?.templateFile,
      name: a.properties?.stackName ?? id,
    }));
  const accounts = [...new Set(stacks.map((s) => s.account).filter((a): a is string => a !== undefined))].sort();
  const target = account ?? (accounts.length === 1 && stacks.every((s) => s.account !== undefined) ? accounts[0] : undefined);
  if (target === undefined) {
    throw new Steer53Error(
      `Give --account: the app deploys into ${accounts.length > 0 ? `accounts ${accounts.join(', ')}` : 'an account it does not name'}${stacks.some((s) => s.account === undefined) ? ' (some stacks are environment-agnostic)' : ''}.`,
    );
  }
  const chosen = stacks.filter((s) => s.account === undefined || s.account === target);
  if (chosen.length === 0) throw new Steer53Error(`No stack of ${outdir} deploys into account ${target} (it has ${accounts.join(', ')}).`);
  return {
    account: target,
    templates: chosen.map((s) => ({ stackName: s.name, template: JSON.parse(readFileSync(join(outdir, s.file ?? `${s.id}.template.json`), 'utf8')) })),
  };
}
