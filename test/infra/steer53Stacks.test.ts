/**
 * The stacks of a full deployment, synthesized once for the whole file: the controller in
 * us-east-1 and the forwarders the config needs. Assertions cover what matters for safety and
 * operations: IAM scope, event routing, dead-letter queues, encryption, the schedule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeploymentDetailTypes } from '../../functions/events/deploymentEvent.js';
import { AlarmQueueDelivery, BundledConfigFile, BundledConfigPath, HandlerNames } from '../../lib/trafficController.js';
import { addSteer53Stacks, type Steer53Stacks } from '../../lib/steer53Stacks.js';
import { asArray, controllerAccount, fullDeployment, identityStatements, newApp, richConfig } from './fixtures.js';
import { AwsApiRates, shareOf } from '../../functions/adapters/aws/pacing.js';

let stacks: Steer53Stacks;
let controller: Template;
let forwarders: Map<string, Template>;
let outdir: string;

beforeAll(() => {
  const app = newApp();
  stacks = addSteer53Stacks(app, fullDeployment);
  const assembly = app.synth();
  outdir = assembly.directory;
  controller = Template.fromStack(stacks.controller);
  forwarders = new Map(stacks.forwarders.map((stack) => [stack.stackName, Template.fromStack(stack)]));
});

describe('Stacks', () => {
  it('adds one forwarder per other region and account the alarms and deployment events live in', () => {
    expect([...forwarders.keys()].sort()).toEqual(['Steer53-forwarder-ap-northeast-1-333333333333', 'Steer53-forwarder-eu-west-1']);
    const byName = Object.fromEntries(stacks.forwarders.map((s) => [s.stackName, s]));
    expect(byName['Steer53-forwarder-ap-northeast-1-333333333333']!.account).toBe('333333333333');
    expect(byName['Steer53-forwarder-eu-west-1']!.account).toBe(controllerAccount);
    expect(byName['Steer53-forwarder-eu-west-1']!.region).toBe('eu-west-1');
  });

  it("passes CDK's built-in CloudFormation template validation without a finding", () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('exports the bus, topic, table and health check ids for pipelines and operators', () => {
    const outputs = controller.toJSON().Outputs as Record<string, { Description: string; Value: unknown }>;
    const byDescription = Object.fromEntries(Object.values(outputs).map((o) => [o.Description, o.Value]));
    expect(byDescription).toEqual({
      'Put steer53 deployment events here': { 'Fn::GetAtt': [controller.getResourceId('AWS::Events::EventBus'), 'Arn'] },
      'Controller notifications': { Ref: controller.getResourceId('AWS::SNS::Topic') },
      'Controller state and audit log': { Ref: controller.getResourceId('AWS::DynamoDB::Table') },
      'Route 53 health check of chat/use1': { 'Fn::GetAtt': [expect.stringMatching(/^ControllerHealthCheck0/), 'HealthCheckId'] },
      'Route 53 health check of chat/euw1': { 'Fn::GetAtt': [expect.stringMatching(/^ControllerHealthCheck1/), 'HealthCheckId'] },
    });
  });

  it('names the bus after the controller and shows the controller in the topic name', () => {
    controller.hasResourceProperties('AWS::Events::EventBus', { Name: 'steer53' });
    controller.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'steer53 traffic controller' });
  });
});

describe('IAM', () => {
  it('grants ChangeResourceRecordSets only on the configured zones, for UPSERT of the managed names and types', () => {
    const writes = identityStatements(controller).filter(({ statement }) => asArray(statement.Action).some((a: string) => a.startsWith('route53:Change')));
    expect(writes.map(({ statement }) => statement.Sid).sort()).toEqual(['UpsertManagedRecordsZ0123456789CHAT', 'UpsertManagedRecordsZ0123456789EMBED']);
    const chat = writes.find(({ statement }) => statement.Sid === 'UpsertManagedRecordsZ0123456789CHAT')!.statement;
    expect(chat).toEqual({
      Sid: 'UpsertManagedRecordsZ0123456789CHAT',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789CHAT']] },
      Condition: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['chat.example.com'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
        Null: {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': 'false',
          'route53:ChangeResourceRecordSetsRecordTypes': 'false',
          'route53:ChangeResourceRecordSetsActions': 'false',
        },
      },
    });
    const embed = writes.find(({ statement }) => statement.Sid === 'UpsertManagedRecordsZ0123456789EMBED')!.statement;
    // A wildcard name is written with Route 53's octal escape for "*".
    expect(embed.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames']).toEqual(['\\052.embed.example.org']);
    expect(embed.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsRecordTypes']).toEqual(['CNAME']);
  });

  it('has no Route 53 write on a wildcard resource or action in any stack', () => {
    const all = [controller, ...forwarders.values()].flatMap((t) => identityStatements(t));
    for (const { policy, statement } of all) {
      const actions = asArray<string>(statement.Action);
      const writesRoute53 = actions.some((a) => a === '*' || a === 'route53:*' || /^route53:(Change|Create|Delete|Update)/.test(a));
      if (!writesRoute53) continue;
      expect(actions, policy).toEqual(['route53:ChangeResourceRecordSets']);
      for (const resource of asArray(statement.Resource)) expect(JSON.stringify(resource), policy).toMatch(/hostedzone\/Z[A-Z0-9]+"/);
      expect(statement.Condition?.['ForAllValues:StringEquals']?.['route53:ChangeResourceRecordSetsActions'], policy).toEqual(['UPSERT']);
    }
  });

  it('lists record sets only in the configured zones', () => {
    const reads = identityStatements(controller).filter(({ statement }) => asArray(statement.Action).includes('route53:ListResourceRecordSets'));
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0]!.statement.Resource)).toBe(
      JSON.stringify([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789CHAT']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789EMBED']] },
      ]),
    );
  });

  it("reads the configuration, the status and the checkers' last failures of any health check, in one read-only statement: the ids come from the records' HealthCheckId at run time", () => {
    const reads = identityStatements(controller).filter(({ statement }) => asArray(statement.Action).some((a: string) => a.includes('HealthCheck')));
    expect(reads.map(({ statement }) => statement)).toEqual([
      {
        Sid: 'ReadHealthCheckStatus',
        Effect: 'Allow',
        Action: ['route53:GetHealthCheck', 'route53:GetHealthCheckStatus', 'route53:GetHealthCheckLastFailureReason'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::healthcheck/*']] },
      },
    ]);
  });

  it('uses "*" only for the CloudWatch reads and X-Ray, which have no resource-level permissions', () => {
    const wildcard = identityStatements(controller).filter(({ statement }) => asArray(statement.Resource).includes('*'));
    const actions = [...new Set(wildcard.flatMap(({ statement }) => asArray<string>(statement.Action)))].sort();
    expect(actions).toEqual(['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('may assume only the metric-reader roles named in the config', () => {
    const assume = identityStatements(controller).filter(({ statement }) => asArray(statement.Action).includes('sts:AssumeRole'));
    expect(assume.map(({ statement }) => statement.Resource)).toEqual(['arn:aws:iam::222222222222:role/steer53-metrics-reader']);
  });

  it("scopes DynamoDB, SNS and EventBridge to the controller's own table, topic and bus", () => {
    const statements = identityStatements(controller).map(({ statement }) => statement);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    expect(bySid('StateTable').Resource).toEqual({ 'Fn::GetAtt': [controller.getResourceId('AWS::DynamoDB::Table'), 'Arn'] });
    expect(asArray(bySid('StateTable').Action)).not.toContain('dynamodb:Scan');
    expect(bySid('Notify').Resource).toEqual({ Ref: controller.getResourceId('AWS::SNS::Topic') });
    expect(bySid('PublishControllerEvents').Resource).toEqual({ 'Fn::GetAtt': [controller.getResourceId('AWS::Events::EventBus'), 'Arn'] });
  });

  it('gives each function its own role with no AWS-managed policy, logging only to its own log group', () => {
    const roles = controller.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] } },
    });
    expect(Object.keys(roles)).toHaveLength(3);
    for (const role of Object.values(roles)) expect((role as any).Properties.ManagedPolicyArns).toBeUndefined();
    const logStatements = identityStatements(controller).filter(({ statement }) => asArray(statement.Action).includes('logs:PutLogEvents'));
    expect(logStatements).toHaveLength(3);
    for (const { statement } of logStatements) expect(JSON.stringify(statement.Resource)).toMatch(/Logs[0-9A-F]{8}","Arn"/);
  });
});

describe('Functions', () => {
  it.each(HandlerNames)('builds the %s handler for nodejs24.x on arm64 with the contract environment', (name) => {
    const fns = controller.findResources('AWS::Lambda::Function', { Properties: { Description: `steer53: ${name} events` } });
    const fn = Object.values(fns)[0] as any;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
    expect(fn.Properties.Environment.Variables).toEqual({
      STEER53_CONFIG_PATH: BundledConfigPath,
      STEER53_TABLE_NAME: { Ref: controller.getResourceId('AWS::DynamoDB::Table') },
      STEER53_TOPIC_ARN: { Ref: controller.getResourceId('AWS::SNS::Topic') },
      STEER53_EVENT_BUS_NAME: { Ref: controller.getResourceId('AWS::Events::EventBus') },
      STEER53_ACCOUNT_ID: controllerAccount,
      POWERTOOLS_SERVICE_NAME: 'steer53',
      POWERTOOLS_METRICS_NAMESPACE: 'steer53',
      NODE_OPTIONS: '--enable-source-maps',
      // Its share of the account's API rates: the ticks' shards share 80%, alarm and deployment 10% each (the alarm queue's invocations split theirs).
      STEER53_API_RATES: JSON.stringify(shareOf(AwsApiRates, { schedule: 0.8, alarm: 0.1 / AlarmQueueDelivery.maxConcurrency, deployment: 0.1 }[name])),
    });
  });

  it.each<[string, number, number, number]>([
    // A tick is worth nothing once the next one has fired: never retried, stale after 2 minutes.
    ['schedule', 50, 120, 0],
    ['alarm', 30, 900, 2],
    ['deployment', 30, 3600, 2],
  ])('gives the %s handler %i s to run, its events %i s to live and %i retries', (name, timeout, maxEventAge, retries) => {
    const [id, fn] = Object.entries(controller.findResources('AWS::Lambda::Function', { Properties: { Description: `steer53: ${name} events` } }))[0] as [
      string,
      any,
    ];
    expect(fn.Properties).toMatchObject({ Timeout: timeout, MemorySize: 512 });
    controller.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      Qualifier: '$LATEST',
      MaximumEventAgeInSeconds: maxEventAge,
      MaximumRetryAttempts: retries,
    });
    // EventBridge retries delivery (8 times) within the same event age, into the delivery dead-letter queue.
    const targets = (Object.values(controller.findResources('AWS::Events::Rule')) as any[])
      .flatMap((r) => r.Properties.Targets)
      // Alarm events go to the alarm function's queue (its event source), the others to the function.
      .filter((t) => t.Arn?.['Fn::GetAtt']?.[0] === id || (name === 'alarm' && /^ControllerAlarmQueue/.test(t.Arn?.['Fn::GetAtt']?.[0] ?? '')));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: maxEventAge, MaximumRetryAttempts: 8 });
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^ControllerDeliveryDlq/), 'Arn'] } });
    }
  });

  it('logs each function to its own log group, kept a month and deleted with the stack', () => {
    const fns = Object.values(controller.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } })) as any[];
    const groups = controller.findResources('AWS::Logs::LogGroup');
    expect(new Set(fns.map((f) => f.Properties.LoggingConfig.LogGroup.Ref))).toEqual(new Set(Object.keys(groups)));
    expect(Object.keys(groups)).toHaveLength(3);
    for (const group of Object.values(groups) as any[]) expect(group).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });
  });

  it('lets only its rules invoke each function, through EventBridge', () => {
    const permissions = Object.values(controller.findResources('AWS::Lambda::Permission')) as any[];
    const ruleIds = new Set(Object.keys(controller.findResources('AWS::Events::Rule')));
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' });
      expect(ruleIds).toContain(permission.Properties.SourceArn['Fn::GetAtt'][0]);
    }
  });

  it('attaches the controller policy to the three function roles and to nothing else', () => {
    const policies = controller.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^ControllerControllerPolicy') } });
    const [policy] = Object.values(policies) as any[];
    expect(Object.keys(policies)).toHaveLength(1);
    expect(policy.Properties.Roles.map((r: { Ref: string }) => r.Ref)).toEqual([
      expect.stringMatching(/^ControllerAlarmRole/),
      expect.stringMatching(/^ControllerScheduleRole/),
      expect.stringMatching(/^ControllerDeploymentRole/),
    ]);
  });

  const assetDirOf = (name: string) => {
    const fn = Object.values(controller.findResources('AWS::Lambda::Function', { Properties: { Description: `steer53: ${name} events` } }))[0] as any;
    return join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
  };

  it.each<[string, number]>([
    // 300 KB until issues 12-14 (tail evidence, event screening, pacing and shards) added 12-16 KB
    // each: about 7-13 ms of import CPU against the ~210 ms the runtime's own AWS SDK takes (docs/deploy.md, Figures).
    // 320 KB until issue 15: its capacity adapters and the engine's handshake added 21 KB (the adapters' four SDK packages are loaded
    // on first use, not at cold start: docs/deploy.md, Capacity providers).
    // 340 KB until the records' health checks (GetHealthCheckStatus adapter, the use case reading
    // them one by one, the engine's restore) added about 1 KB: the alarm bundle measured 341.0 KB.
    // 342 KB until the adapter read each health check's configuration (GetHealthCheck, kept a few
    // minutes: disabled, inverted, a calculated check's children), 1.3 KB: the alarm bundle measured 342.3 KB.
    // 344 KB until weights were written at the scale that changes the fewest records (core/weights.ts,
    // `writtenWeights`, the use case's view of them, the engine's own weights kept on the item), about
    // 1 KB: the schedule bundle measured 344.8 KB, the deployment bundle 394.3 KB.
    // 345 KB until the alarm handler evaluated its batch as a tick does (onTick, zone by zone): the
    // schedule's code in the alarm bundle, with the queue's parsers; and the tick read the alarms of
    // the quiet services it skips. Measured: the alarm bundle 353.7 KB, the schedule bundle 346.3 KB.
    // 355 KB until a failed recovery step too small to flap waited out the dwell (core/hysteresis.ts,
    // the planner's view of it, state layout 7), 1.8 KB: the alarm bundle measured 355.6 KB, the
    // schedule bundle 348.4 KB, the deployment bundle 396.8 KB.
    // 357 KB until the canary was judged on its own statistic, read beside the latency signal
    // (core/canaryLatency.ts, the use case's query for it, state layout 8), 3 KB: the alarm bundle
    // measured 358.7 KB, the schedule bundle 351.5 KB, the deployment bundle 399.8 KB.
    // 360 KB until the deploy's drain kept what the others have no room for, controls off their
    // learned range were set aside and the pipeline's cuts went ahead under fail static, 1.2 KB: the
    // alarm bundle measured 359.9 KB, the schedule bundle 352.7 KB, the deployment bundle 401.1 KB.
    // 362 KB until a recovery step was judged on the service's demand too and an endpoint's excess
    // over its baseline gave way first (core/hysteresis.ts, core/weightPlanner.ts), 0.6 KB: the
    // alarm bundle measured 361.8 KB, the schedule bundle 354.6 KB, the deployment bundle 403.0 KB.
    // 363 KB until receivers were planned under a peer's learned headroom and a recovery on its way
    // down shed from where it was (core/learnedHeadroom.ts, core/hysteresis.ts), 0.8 KB: the alarm
    // bundle measured 363.6 KB, the schedule bundle 356.4 KB, the deployment bundle 404.7 KB.
    // 364 KB until receivers kept their way (core/receiversWay.ts), 1.7 KB: the alarm bundle
    // measured 365.3 KB, the schedule bundle 358.1 KB, the deployment bundle 406.5 KB.
    // 366 KB until an endpoint out of its healthy state was judged against its healthy peers' tail
    // (core/peerTails.ts, the notice's line for it), 1.6 KB: the alarm bundle measured 367.0 KB, the
    // schedule bundle 359.7 KB, the deployment bundle 408.1 KB.
    // 368 KB until a failed recovery step relapsing late went back at once and a quiet period was
    // told from a missing one (core/hysteresis.ts, the load's count of the judged period in
    // app/observe.ts), 0.9 KB: the alarm bundle measured 367.9 KB, the schedule bundle 360.7 KB, the
    // deployment bundle 409.0 KB.
    // 369 KB until the fail-static notice named what is bad, the burst room was planned at the mean
    // demand too and a thin breach held a further shed (core/endpointStates.ts,
    // core/weightPlanner.ts, core/hysteresis.ts), 1.1 KB: the alarm bundle measured 369.0 KB, the
    // schedule bundle 361.8 KB, the deployment bundle 410.2 KB.
    // 370 KB until a held failed recovery step kept what it carried, noise was told apart while
    // another endpoint was out, and fail static was told once it lasted (core/weightPlanner.ts,
    // core/endpointStates.ts, state layout 10), 1.5 KB: the alarm bundle measured 370.6 KB, the
    // schedule bundle 363.3 KB, the deployment bundle 411.7 KB.
    // 371 KB until an extreme breach at a load the endpoint was sized for drained it at once and a
    // drained endpoint was given no more than it carried (core/hysteresis.ts, core/weightPlanner.ts),
    // 0.4 KB: the alarm bundle measured 370.9 KB, the schedule bundle 363.7 KB, the deployment bundle 412.1 KB.
    // 372 KB until a recovery step was judged on its periods pooled (core/pooledTails.ts, its
    // reason and state layout 11), 2.0 KB: the alarm bundle measured 372.9 KB, the schedule bundle
    // 365.7 KB, the deployment bundle 414.1 KB.
    // 374 KB until a region drained for failing waited while its health checkers still saw failures
    // (GetHealthCheckLastFailureReason in the adapter, the use case's read, core/hysteresis.ts), 1.6 KB:
    // the alarm bundle measured 374.5 KB, the schedule bundle 367.3 KB, the deployment bundle 415.5 KB.
    // 375 KB until a region drained for failing was restored once its checkers stopped failing
    // (core/hysteresis.ts, its reason), 0.4 KB: the alarm bundle measured 374.9 KB, the schedule
    // bundle 367.7 KB, the deployment bundle 416.0 KB.
    // 376 KB until per-request error rates were judged on their count (core/verdicts.ts, the
    // SampleCount query) and a recovery step not yet written waited on a period past trip
    // (core/weightPlanner.ts, its reason), 1.3 KB: the alarm bundle measured 376.2 KB, the schedule
    // bundle 369.0 KB, the deployment bundle 417.4 KB.
    // 377 KB until a flickering health check held a region's restore (the checkers' second read)
    // and a health check's restore went out without its reversals (core/guards.ts, its reason),
    // 2.0 KB: the alarm bundle measured 378.2 KB, the schedule bundle 371.0 KB, the deployment bundle 419.4 KB.
    // 379 KB until a region failing most of its requests came after the receivers' burst room
    // (core/weightPlanner.ts) and a region whose checkers saw it fail was restored while its error
    // alarm lagged (core/hysteresis.ts, its reason, state layout 12), 1.4 KB: the alarm bundle
    // measured 379.6 KB, the schedule bundle 372.4 KB, the deployment bundle 420.8 KB.
    // 380 KB until receivers shared by warm capacity (core/weightPlanner.ts), a failing region past a
    // quarter of its requests came after the burst room, and an alarm with nothing to count was set
    // aside beside a counted clear percentile (core/verdicts.ts), 0.3 KB: the alarm bundle measured
    // 380.0 KB, the schedule bundle 372.8 KB, the deployment bundle 421.1 KB.
    // 381 KB until an error alarm in ALARM on a few requests was set aside (core/verdicts.ts,
    // core/endpointStates.ts, its reason), 1.1 KB: the alarm bundle measured 381.3 KB, the schedule
    // bundle 374.1 KB, the deployment bundle 422.5 KB.
    // 382 KB until a region failing more than a tenth of its requests came after the receivers' full
    // warm capacity and a cut of a failing region was written under the deadband (core/weightPlanner.ts,
    // core/guards.ts), 0.7 KB: the alarm bundle measured 382.0 KB, the schedule bundle 374.8 KB, the
    // deployment bundle 423.2 KB; 381.8 / 374.6 / 423.0 KB once the full warm room was the burst room
    // without its mean term.
    ['alarm', 383],
    ['schedule', 376],
    // Powertools idempotency and its JMESPath engine (38 KB) come on top; see docs/deploy.md.
    ['deployment', 424],
  ])('keeps the %s bundle within %i KB, with zod/mini alone and no config schema', (name, budgetKb) => {
    const code = readFileSync(join(assetDirOf(name), 'index.mjs'));
    expect(code.length).toBeLessThanOrEqual(budgetKb * 1024);
    const sources: string[] = JSON.parse(readFileSync(join(assetDirOf(name), 'index.mjs.map'), 'utf8')).sources;
    expect(sources.some((source) => source.includes('zod/v4/mini/'))).toBe(true);
    // What used to weigh: the whole zod namespace and its 40 locales, the config schema (checked
    // at synth; the bundle checks only the structure), Powertools' parser envelopes, all of semver.
    const unwanted =
      /zod\/v4\/classic\/|zod\/v4\/locales\/(?!en\.js)|functions\/core\/(config|presets|signals)\.ts|parser\/lib|semver\/(index|classes\/range)\.js/;
    expect(sources.filter((source) => unwanted.test(source))).toEqual([]);
  });

  it('ships a minified ESM bundle with its source map and the validated config, without the AWS SDK', () => {
    const fns = Object.values(controller.findResources('AWS::Lambda::Function')) as any[];
    const assetDirs = fns
      .filter((f) => f.Properties.Runtime === 'nodejs24.x')
      .map((f) => join(outdir, `asset.${String(f.Properties.Code.S3Key).replace(/\.zip$/, '')}`));
    expect(assetDirs).toHaveLength(3);
    for (const dir of assetDirs) {
      expect(existsSync(join(dir, 'index.mjs.map')), dir).toBe(true);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      // The SDK stays external (the runtime provides it): imported, not bundled.
      expect(code).toMatch(/from"@aws-sdk\/client-[a-z0-9-]+"/);
      expect(code.length / code.split('\n').length).toBeGreaterThan(500); // minified: a few very long lines
      const bundled = JSON.parse(readFileSync(join(dir, BundledConfigFile), 'utf8'));
      expect(bundled).toEqual(JSON.parse(JSON.stringify(richConfig)));
    }
  });
});

describe('Event routing', () => {
  const ruleOn = (template: Template, pattern: object) =>
    template.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.objectEquals(pattern) } });

  it('routes state changes of the local alarms in the config from the default bus to the alarm handler', () => {
    const rules = ruleOn(controller, {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ['chat-use1-5xx'] },
      account: [controllerAccount],
    });
    expect(Object.keys(rules)).toHaveLength(1);
    const rule = Object.values(rules)[0] as any;
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ControllerAlarmQueue/), 'Arn'] });
  });

  it('feeds the alarm handler from its queue in batches, at most two invocations at once, returning only the failed records', () => {
    const queueId = Object.keys(controller.findResources('AWS::SQS::Queue')).find((id) => id.startsWith('ControllerAlarmQueue'))!;
    const mappings = Object.values(controller.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: expect.stringMatching(/^ControllerAlarmFunction/) },
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Six times the function's 30 s; three receives, then the alarm function's dead-letter queue.
    const queue = controller.findResources('AWS::SQS::Queue')[queueId] as any;
    expect(queue.Properties.VisibilityTimeout).toBe(180);
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^ControllerAlarmFailureDlq/), 'Arn'] },
      maxReceiveCount: 3,
    });
    // Only the alarm rules may send to it (EventBridge, each rule by its ARN), and only over TLS.
    const policy = Object.values(controller.findResources('AWS::SQS::QueuePolicy')).find((p: any) => p.Properties.Queues[0].Ref === queueId) as any;
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows.map((st) => st.Condition.ArnEquals['aws:SourceArn']['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^ControllerForwardedAlarmsRule/),
      expect.stringMatching(/^ControllerLocalAlarmsRule/),
    ]);
    for (const st of allows) expect(st).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: expect.arrayContaining(['sqs:SendMessage']) });
    expect(statements.filter((st) => st.Effect === 'Deny').map((st) => st.Condition)).toEqual([{ Bool: { 'aws:SecureTransport': 'false' } }]);
  });

  it('routes forwarded alarms from the custom bus to the alarm handler', () => {
    const rules = ruleOn(controller, {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ['chat-apne1-5xx', 'chat-euw1-5xx'] },
      // The account in the ARN of the ap-northeast-1 alarm, the controller's for the one named only.
      account: [controllerAccount, '333333333333'],
    });
    expect(Object.values(rules).map((r: any) => r.Properties.EventBusName)).toEqual([{ Ref: controller.getResourceId('AWS::Events::EventBus') }]);
  });

  it('routes steer53 deployment events on the custom bus to the deployment handler', () => {
    // Every detail type of the deployment event schema (functions/events/deploymentEvent.ts), the contract's four included.
    const detailTypes = Object.values(DeploymentDetailTypes);
    expect(detailTypes).toEqual(expect.arrayContaining(['Deployment Started', 'Deployment Succeeded', 'Deployment Failed', 'Deployment Rolled Back']));
    const rules = ruleOn(controller, { source: ['steer53.deployment'], 'detail-type': detailTypes, account: [controllerAccount, '444444444444'] });
    const rule = Object.values(rules)[0] as any;
    expect(rule.Properties.EventBusName).toEqual({ Ref: controller.getResourceId('AWS::Events::EventBus') });
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ControllerDeploymentFunction/), 'Arn'] });
  });

  it('routes the mapped native deployment events of this region from the default bus', () => {
    expect(
      Object.keys(
        ruleOn(controller, {
          source: ['aws.ecs'],
          'detail-type': ['ECS Deployment State Change'],
          resources: ['arn:aws:ecs:us-east-1:111111111111:service/inference/chat'],
          account: [controllerAccount],
        }),
      ),
    ).toHaveLength(1);
    expect(
      Object.keys(
        ruleOn(controller, {
          source: ['aws.codedeploy'],
          'detail-type': ['CodeDeploy Deployment State-change Notification'],
          detail: { application: ['chat-app'], deploymentGroup: ['chat-use1'] },
          account: [controllerAccount],
        }),
      ),
    ).toHaveLength(1);
    expect(
      Object.keys(
        ruleOn(controller, {
          source: ['aws.codepipeline'],
          'detail-type': ['CodePipeline Pipeline Execution State Change'],
          detail: { pipeline: ['embed-release'] },
          account: [controllerAccount],
        }),
      ),
    ).toHaveLength(1);
  });

  it("routes native deployment events of other regions through that region's forwarder to the custom bus", () => {
    const sageMaker = { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint Deployment State Change'], detail: { EndpointName: ['chat-euw1'] } };
    const onController = Object.values(ruleOn(controller, { ...sageMaker, account: [controllerAccount] })) as any[];
    expect(onController.map((r) => r.Properties.EventBusName)).toEqual([{ Ref: controller.getResourceId('AWS::Events::EventBus') }]);
    expect(Object.keys(ruleOn(forwarders.get('Steer53-forwarder-eu-west-1')!, sageMaker))).toHaveLength(1);
  });

  it('forwards only the configured alarms of its region (and its own dead-letter alarm) to the controller bus', () => {
    const template = forwarders.get('Steer53-forwarder-eu-west-1')!;
    const rules = ruleOn(template, {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ['chat-euw1-5xx', 'steer53-forwarder-eu-west-1-dlq-not-empty'] },
    });
    const rule = Object.values(rules)[0] as any;
    expect(JSON.stringify(rule.Properties.Targets[0].Arn)).toContain(':events:us-east-1:111111111111:event-bus/steer53');
    expect(rule.Properties.Targets[0].DeadLetterConfig).toBeDefined();
  });

  it('evaluates every service once a minute', () => {
    controller.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  });
});

describe('Event bus policy', () => {
  const busPolicies = () => Object.values(controller.findResources('AWS::Events::EventBusPolicy')).map((p: any) => p.Properties.Statement);

  it('lets the listed accounts and principals put only steer53 deployment events', () => {
    const statements = busPolicies();
    const accounts = statements.find((s) => s.Sid === 'cdk-DeploymentEventsFromAccounts');
    expect(accounts.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444444444444:root']] } });
    expect(accounts.Condition).toEqual({ 'ForAllValues:StringEquals': { 'events:source': ['steer53.deployment'] } });
    const principals = statements.find((s) => s.Sid === 'cdk-DeploymentEventsFromPrincipals');
    expect(principals.Principal).toEqual({ AWS: 'arn:aws:iam::111111111111:role/release-pipeline' });
  });

  it("denies deployment events from every other principal, even in the controller's account", () => {
    const deny = busPolicies().find((s) => s.Sid === 'cdk-OnlyListedDeploymentPublishers');
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Condition: {
        'ForAnyValue:StringEquals': { 'events:source': ['steer53.deployment'] },
        ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/release-pipeline'] },
        StringNotEquals: { 'aws:PrincipalAccount': ['444444444444'] },
      },
    });
  });

  it('lets the forwarder account put only alarm and native deployment events', () => {
    const forwarded = busPolicies().find((s) => s.Sid === 'cdk-ForwardedEventsFromAccounts');
    expect(forwarded.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:root']] } });
    expect(forwarded.Condition['ForAllValues:StringEquals']['events:source']).toEqual([
      'aws.cloudwatch',
      'aws.ecs',
      'aws.codedeploy',
      'aws.sagemaker',
      'aws.codepipeline',
    ]);
  });
});

describe('Dead-letter queues and retries', () => {
  it('gives every rule target a dead-letter queue and a bounded event age, in every stack', () => {
    for (const template of [controller, ...forwarders.values()]) {
      const rules = Object.values(template.findResources('AWS::Events::Rule')) as any[];
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        for (const target of rule.Properties.Targets) {
          expect(target.DeadLetterConfig?.Arn, JSON.stringify(rule.Properties)).toBeDefined();
        }
      }
    }
    const lambdaTargets = (Object.values(controller.findResources('AWS::Events::Rule')) as any[])
      .flatMap((r) => r.Properties.Targets)
      .filter((t) => JSON.stringify(t.Arn).includes('Function'));
    for (const target of lambdaTargets) expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeLessThanOrEqual(3600);
  });

  it("sends every failed asynchronous invocation to its function's own dead-letter queue", () => {
    const configs = Object.values(controller.findResources('AWS::Lambda::EventInvokeConfig')) as any[];
    expect(configs).toHaveLength(3);
    const queues = new Set(configs.map((c) => JSON.stringify(c.Properties.DestinationConfig.OnFailure.Destination)));
    expect(queues.size).toBe(3);
    const bySchedule = configs.map((c) => c.Properties).sort((a, b) => a.MaximumRetryAttempts - b.MaximumRetryAttempts);
    expect(bySchedule.map((c) => c.MaximumRetryAttempts)).toEqual([0, 2, 2]); // a stale tick is never retried
  });

  it('alarms on every dead-letter queue and on handler errors, notifying the topic', () => {
    const topicRef = { Ref: controller.getResourceId('AWS::SNS::Topic') };
    const alarms = Object.values(controller.findResources('AWS::CloudWatch::Alarm')) as any[];
    const names = alarms.map((a) => a.Properties.AlarmName).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'steer53-alarm-dlq-not-empty',
        'steer53-schedule-dlq-not-empty',
        'steer53-deployment-dlq-not-empty',
        'steer53-delivery-dlq-not-empty',
        'steer53-alarm-handler-errors',
        'steer53-schedule-handler-errors',
        'steer53-deployment-handler-errors',
        'steer53-schedule-stopped',
      ]),
    );
    for (const alarm of alarms.filter((a) => !String(a.Properties.AlarmName).includes('-health-'))) expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
    const forwarderAlarm = forwarders.get('Steer53-forwarder-eu-west-1')!;
    forwarderAlarm.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steer53-forwarder-eu-west-1-dlq-not-empty',
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
  });

  it('alarms on one message in a dead-letter queue within a minute, on errors in 2 of 3 minutes, and notifies when each clears', () => {
    const topicRef = { Ref: controller.getResourceId('AWS::SNS::Topic') };
    const alarmsNamed = (pattern: RegExp) =>
      (Object.values(controller.findResources('AWS::CloudWatch::Alarm')) as any[]).filter((a) => pattern.test(a.Properties.AlarmName)).map((a) => a.Properties);
    const dlqAlarms = alarmsNamed(/-dlq-not-empty$/);
    expect(dlqAlarms).toHaveLength(5);
    for (const alarm of dlqAlarms) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        OKActions: [topicRef],
      });
    }
    const errorAlarms = alarmsNamed(/-handler-errors$/);
    expect(errorAlarms).toHaveLength(3);
    for (const alarm of errorAlarms) {
      expect(alarm).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
        OKActions: [topicRef],
      });
    }
    expect(alarmsNamed(/-schedule-stopped$/)[0]).toMatchObject({ OKActions: [topicRef], TreatMissingData: 'breaching', EvaluationPeriods: 5 });
  });

  it('keeps dead letters for the longest time SQS allows (14 days), in every stack', () => {
    for (const template of [controller, ...forwarders.values()]) {
      const queues = Object.values(template.findResources('AWS::SQS::Queue')) as any[];
      expect(queues.length).toBeGreaterThan(0);
      // Every queue but the alarm queue (the one with a dead-letter queue of its own) is a dead-letter queue.
      for (const queue of queues) expect(queue.Properties.MessageRetentionPeriod).toBe(queue.Properties.RedrivePolicy ? 3600 : 14 * 24 * 3600);
      expect(queues.filter((q) => q.Properties.RedrivePolicy).length).toBe(template === controller ? 1 : 0);
    }
  });

  it('turns forwarded forwarder alarms into notifications on the topic', () => {
    controller.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { alarmName: [{ prefix: 'steer53-forwarder-' }] } },
      Targets: [Match.objectLike({ Arn: { Ref: controller.getResourceId('AWS::SNS::Topic') }, DeadLetterConfig: Match.anyValue() })],
    });
  });
});

describe('Encryption', () => {
  it('encrypts the table, enables point-in-time recovery and the audit TTL', () => {
    controller.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
    controller.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('encrypts the topic with a rotating key that CloudWatch and EventBridge may use, and denies publishing without TLS', () => {
    controller.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [controller.getResourceId('AWS::KMS::Key'), 'Arn'] } });
    controller.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }),
          Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }),
        ]),
      },
    });
    controller.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('encrypts every queue and denies access without TLS, in every stack', () => {
    for (const template of [controller, ...forwarders.values()]) {
      const queues = template.findResources('AWS::SQS::Queue');
      expect(Object.keys(queues).length).toBeGreaterThan(0);
      for (const queue of Object.values(queues) as any[]) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[]) {
        expect(policy.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        );
      }
    }
  });
});

describe('Notifications', () => {
  it('subscribes the configured email address and HTTPS endpoint, keeping undeliverable notifications in a dead-letter queue', () => {
    const redrive = { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControllerNotificationDlq'), 'Arn'] } };
    controller.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', RedrivePolicy: redrive });
    controller.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://hooks.example.com/steer53', RedrivePolicy: redrive });
    controller.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'steer53-notification-dlq-not-empty' });
  });
});

describe('Static stability', () => {
  it('builds health checks on CloudWatch alarms that default to the last known status', () => {
    const checks = Object.values(controller.findResources('AWS::Route53::HealthCheck')) as any[];
    expect(checks).toHaveLength(2);
    for (const check of checks)
      expect(check.Properties.HealthCheckConfig).toMatchObject({ Type: 'CLOUDWATCH_METRIC', InsufficientDataHealthStatus: 'LastKnownStatus' });
    expect(checks.map((c) => c.Properties.HealthCheckConfig.AlarmIdentifier)).toContainEqual({ Name: 'chat-euw1-5xx', Region: 'eu-west-1' });
    // The alarm created for chat/use1 lives in the controller's region, and its check says so.
    expect(checks.map((c) => c.Properties.HealthCheckConfig.AlarmIdentifier)).toContainEqual({
      Name: { Ref: expect.stringMatching(/^ControllerHealthAlarm0/) },
      Region: 'us-east-1',
    });
    expect(checks.map((c) => c.Properties.HealthCheckTags)).toEqual([
      [{ Key: 'Name', Value: 'steer53 chat/use1' }],
      [{ Key: 'Name', Value: 'steer53 chat/euw1' }],
    ]);
    controller.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'steer53-health-chat-use1', Statistic: 'Sum', MetricName: 'Invocation5XXErrors' });
  });

  it('builds HTTPS health checks that request the endpoint itself, with SNI, and attaches them to its record', () => {
    const app = newApp({ bundle: false });
    const own = addSteer53Stacks(app, {
      config: richConfig,
      region: 'us-east-1',
      account: controllerAccount,
      managedRecords: [
        { service: 'chat', setIdentifier: 'use1', values: ['192.0.2.10'] },
        { service: 'chat', setIdentifier: 'euw1', values: ['192.0.2.20'] },
      ],
      staticStability: {
        healthChecks: [
          { service: 'chat', setIdentifier: 'use1', http: { fqdn: 'use1.chat.example.com' } },
          {
            service: 'chat',
            setIdentifier: 'euw1',
            http: { fqdn: 'euw1.chat.example.com', protocol: 'HTTP', path: '/ready', requestIntervalSeconds: 10, failureThreshold: 2 },
          },
        ],
      },
    });
    const template = Template.fromStack(own.controller);
    const configs = Object.values(template.findResources('AWS::Route53::HealthCheck')).map((c: any) => c.Properties.HealthCheckConfig);
    expect(configs).toEqual([
      {
        Type: 'HTTPS',
        FullyQualifiedDomainName: 'use1.chat.example.com',
        ResourcePath: '/health',
        Port: 443,
        RequestInterval: 30,
        FailureThreshold: 3,
        EnableSNI: true,
      },
      { Type: 'HTTP', FullyQualifiedDomainName: 'euw1.chat.example.com', ResourcePath: '/ready', Port: 80, RequestInterval: 10, FailureThreshold: 2 },
    ]);
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      SetIdentifier: 'use1',
      HealthCheckId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControllerHealthCheck0'), 'HealthCheckId'] },
    });
    // No alarm is made for an HTTP check, here or in a forwarder.
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmName)).not.toContainEqual(
      expect.stringContaining('-health-'),
    );
  });

  it('creates the managed weighted records at their baseline weight with their health checks attached', () => {
    controller.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'chat.example.com.',
      Type: 'A',
      SetIdentifier: 'use1',
      Weight: 100,
      TTL: '60',
      ResourceRecords: ['192.0.2.10'],
      HealthCheckId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControllerHealthCheck0'), 'HealthCheckId'] },
    });
    controller.hasResourceProperties('AWS::Route53::RecordSet', {
      SetIdentifier: 'euw1',
      AliasTarget: { DNSName: 'chat-euw1.elb.amazonaws.com', HostedZoneId: 'Z32O12XQLNTSW2', EvaluateTargetHealth: true },
      HealthCheckId: Match.anyValue(),
    });
    controller.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: '*.embed.example.org.',
      Type: 'CNAME',
      SetIdentifier: 'a',
      Weight: 10,
      TTL: '30',
      HealthCheckId: Match.absent(),
    });
    expect(Object.keys(controller.findResources('AWS::Route53::RecordSet'))).toHaveLength(3);
  });
});

describe('Dashboard', () => {
  it('has one dashboard per service with weights, each signal against trip and clear, decisions and errors', () => {
    const dashboards = controller.findResources('AWS::CloudWatch::Dashboard');
    expect(
      Object.values(dashboards)
        .map((d: any) => d.Properties.DashboardName)
        .sort(),
    ).toEqual(['steer53-chat', 'steer53-embed', 'steer53-ticks']);
    const chat = Object.values(dashboards).find((d: any) => d.Properties.DashboardName === 'steer53-chat') as any;
    const body = JSON.stringify(chat.Properties.DashboardBody);
    expect(body).toContain('Weights per endpoint');
    expect(body).toContain('\\"steer53\\",\\"Weight\\",\\"endpoint\\",\\"use1\\",\\"service\\",\\"chat\\"');
    expect(body).toContain('\\"steer53\\",\\"WeightChanges\\",\\"service\\",\\"chat\\"');
    expect(body).toContain('\\"steer53\\",\\"Errors\\",\\"service\\",\\"chat\\"');
    expect(body).toContain('trip 2000ms');
    expect(body).toContain('clear 1500ms');
    expect(body).toContain('raw * 0.001'); // ModelLatency µs → ms, to match the thresholds
    expect(body).toContain('Decisions and blocked actions');
    expect(body).toContain('Controller errors');
    expect(body).toMatch(/filter message = \W+evaluated\W+ and @message like '\W+service\W+chat\W+'/);
    expect(body).toContain('\\"type\\":\\"log\\"');
  });
});
