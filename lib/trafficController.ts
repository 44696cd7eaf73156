/**
 * TrafficController: everything steer53 needs in the controller's account and region. The state
 * table, one function per event source (alarm, schedule, deployment), the event routing, the
 * notification topic, dead-letter queues and alarms, a dashboard per service, and least-privilege
 * IAM. Optionally, Route 53 health checks and weighted records for static stability.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, type CfnElement, Duration, RemovalPolicy, Stack, Stage, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config.js';
import { Steer53Error } from '../functions/core/errors.js';
import { ControllerDashboard } from './controllerDashboard.js';
import {
  alarmGroups,
  alarmPattern,
  chunkNames,
  DeploymentDetailTypes,
  DeploymentEventSource,
  isLocal,
  NativeDeploymentEvents,
  nativeDeploymentPatterns,
  regionOfSource,
  toEventPattern,
  type EventPatternJson,
} from './eventRouting.js';
import { nativeDeploymentSourcesOf } from './nativeDeploymentRouting.js';
import { createHealthAlarm, healthAlarmName } from './healthAlarm.js';
import { route53Statements } from './route53Permissions.js';
import { validateProps, type TrafficControllerProps } from './trafficControllerProps.js';
import { writeZodWithoutLocales } from './zodWithoutLocales.js';

/** The three Lambda entry points, each `functions/handlers/<name>.ts` exporting `handler`. */
export const HandlerNames = ['alarm', 'schedule', 'deployment'] as const;
export type HandlerName = (typeof HandlerNames)[number];

/** Where the bundled config sits in the function package. */
export const BundledConfigFile = 'steer53.config.json';
export const BundledConfigPath = `/var/task/${BundledConfigFile}`;

/** Event sources an AlarmForwarder may put on the controller's bus. */
export const ForwardedSources = ['aws.cloudwatch', ...Object.values(NativeDeploymentEvents).map((e) => e.source)];

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Per handler: how long an event stays worth acting on, and how often a failed invocation is retried. */
const asyncSettings: Record<HandlerName, { maxEventAge: Duration; retryAttempts: number; timeout: Duration }> = {
  // A tick is worth nothing once the next one has fired: never retry a stale evaluation.
  schedule: { maxEventAge: Duration.minutes(2), retryAttempts: 0, timeout: Duration.seconds(50) },
  // An alarm state change is acted on by the next tick anyway, but acting at once is the point.
  alarm: { maxEventAge: Duration.minutes(15), retryAttempts: 2, timeout: Duration.seconds(30) },
  // A deployment event drives a rollout; duplicates are harmless (idempotency key), losing one is not.
  deployment: { maxEventAge: Duration.hours(1), retryAttempts: 2, timeout: Duration.seconds(30) },
};

function pascal(name: string): string {
  return name.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());
}

export class TrafficController extends Construct {
  /** The state and audit table (`pk`, `sk`, TTL `expiresAt`). */
  readonly table: dynamodb.Table;
  /** The notification topic: controller notifications and operational alarms. */
  readonly topic: sns.Topic;
  /** The controller's custom bus: deployment events and forwarded alarms in, controller events out. */
  readonly eventBus: events.EventBus;
  /** One function per handler. */
  readonly functions: Readonly<Record<HandlerName, nodejs.NodejsFunction>>;
  /**
   * Dead-letter queues: one per function for failed async invocations, one for events EventBridge
   * could not deliver, and one for notifications SNS could not deliver (when there are subscriptions).
   */
  readonly deadLetterQueues: Readonly<Record<HandlerName | 'delivery', sqs.Queue> & { notification?: sqs.Queue }>;
  /** The schedule that evaluates every service. */
  readonly scheduleRule: events.Rule;
  /** Health checks by `service/setIdentifier`. */
  readonly healthChecks: Readonly<Record<string, route53.CfnHealthCheck>>;
  /** The controller's name (event bus, dashboards, alarm prefixes). */
  readonly name: string;

  private readonly config: Config;

  constructor(scope: Construct, id: string, props: TrafficControllerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const stackRegion = Token.isUnresolved(stack.region) ? undefined : stack.region;
    const stackAccount = Token.isUnresolved(stack.account) ? undefined : stack.account;
    validateProps(props, stackRegion);

    this.config = props.config;
    this.name = props.name ?? 'steer53';
    const memorySize = props.memorySize ?? 512;
    const handlersDir = props.handlersDir ?? join(packageRoot, 'functions', 'handlers');
    const intervalMinutes = props.evaluationInterval
      ? props.evaluationInterval.toMinutes()
      : Math.max(1, Math.floor(Math.min(...props.config.services.map((s) => s.policy.evaluationPeriodSeconds)) / 60));

    // --- Keys, state and notifications -------------------------------------------------------

    const notificationKey = new kms.Key(this, 'NotificationKey', {
      description: `${this.name}: encrypts the notification topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms and EventBridge publish to the encrypted topic as services; without these
    // grants their messages are dropped. As in the AWS examples, no source condition: the topic
    // policy already decides who may publish, and these services do not all send aws:SourceAccount
    // on the KMS calls SNS makes for them.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      notificationKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${service.split('.')[0]}ToPublish`,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'], // in a key policy, "*" is this key
        }),
      );
    }

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: `${this.name} traffic controller`,
      masterKey: notificationKey,
      enforceSSL: true,
    });

    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.tableEncryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.tableEncryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: (props.tableRemovalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.eventBus = new events.EventBus(this, 'Bus', { eventBusName: this.name, description: `${this.name}: deployment events in, controller events out` });
    this.addBusPolicy(props, stackAccount);

    // --- Dead-letter queues --------------------------------------------------------------------

    const queue = (id: string, purpose: string): sqs.Queue => {
      const q = new sqs.Queue(this, id, {
        // SSE-SQS rather than KMS: EventBridge cannot write to a queue under the AWS-managed SQS
        // key, and these queues hold event envelopes, not secrets.
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(q).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `This queue is itself a dead-letter queue (${purpose}); a DLQ of a DLQ would only hide failures.`,
      });
      return q;
    };
    const deliveryDlq = queue('DeliveryDlq', 'events EventBridge could not deliver to a function');
    const functionDlqs = Object.fromEntries(
      HandlerNames.map((name) => [name, queue(`${pascal(name)}FailureDlq`, `${name} invocations that failed after their retries`)]),
    ) as Record<HandlerName, sqs.Queue>;
    // SNS retries a subscription's deliveries, then drops them; a notification that reached no
    // one must at least be kept and alarmed on.
    const emails = props.notifications?.emails ?? [];
    const urls = props.notifications?.httpsUrls ?? [];
    const notificationDlq = emails.length + urls.length > 0 ? queue('NotificationDlq', 'notifications SNS could not deliver to a subscriber') : undefined;
    const deadLetter = notificationDlq ? { deadLetterQueue: notificationDlq } : {};
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email, deadLetter));
    for (const url of urls) this.topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS, ...deadLetter }));
    this.deadLetterQueues = { ...functionDlqs, delivery: deliveryDlq, ...(notificationDlq ? { notification: notificationDlq } : {}) };

    // --- Functions -----------------------------------------------------------------------------

    assertLocalEsbuild(packageRoot);
    const buildDir = resolve(Stage.of(this)?.outdir ?? tmpdir(), 'steer53-build');
    const configFile = writeBundledConfig(buildDir, props.config);
    // A fixed place (not the assembly directory): its path ends up in the source maps, and the
    // packages must not change with where the app is synthesized.
    const zodAlias = writeZodWithoutLocales(packageRoot, join(packageRoot, 'node_modules', '.cache', 'steer53'));
    const sharedPolicy = new iam.Policy(this, 'ControllerPolicy', {
      statements: this.controllerStatements(stack.partition, this.table, this.topic, this.eventBus),
    });
    Validations.of(sharedPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData has no resource-level permissions, and cloudwatch:DescribeAlarms must be granted on * to return composite alarms; both are read-only.',
    });

    const functions = {} as Record<HandlerName, nodejs.NodejsFunction>;
    for (const name of HandlerNames) {
      const id = `${pascal(name)}Function`;
      const logGroup = new logs.LogGroup(this, `${pascal(name)}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // An own role instead of the AWSLambdaBasicExecutionRole managed policy: logs only to its
      // own log group.
      const role = new iam.Role(this, `${pascal(name)}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${this.name}: ${name} handler`,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
        }),
      );
      sharedPolicy.attachToRole(role);
      const settings = asyncSettings[name];
      const fn = new nodejs.NodejsFunction(this, id, {
        description: `${this.name}: ${name} events`,
        entry: join(handlersDir, `${name}.ts`),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize,
        timeout: settings.timeout,
        role,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
        projectRoot: packageRoot,
        depsLockFilePath: join(packageRoot, 'package-lock.json'),
        environment: {
          STEER53_CONFIG_PATH: BundledConfigPath,
          STEER53_TABLE_NAME: this.table.tableName,
          STEER53_TOPIC_ARN: this.topic.topicArn,
          STEER53_EVENT_BUS_NAME: this.eventBus.eventBusName,
          POWERTOOLS_SERVICE_NAME: 'steer53',
          POWERTOOLS_METRICS_NAMESPACE: 'steer53',
          // Stack traces point into the TypeScript sources (the bundle ships its .map file).
          NODE_OPTIONS: '--enable-source-maps',
        },
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: 'node24',
          minify: true,
          sourceMap: true,
          // The Lambda runtime provides AWS SDK v3; bundling it would triple the package.
          externalModules: ['@aws-sdk/*'],
          mainFields: ['module', 'main'],
          // CommonJS dependencies in an ESM bundle still call require() for Node built-ins.
          banner: "import{createRequire as __steer53CreateRequire}from'node:module';const require=__steer53CreateRequire(import.meta.url);",
          // zod without its unused translations: 255 KB less per bundle (see zodWithoutLocales.ts).
          ...(zodAlias ? { esbuildArgs: { '--alias:zod': zodAlias } } : {}),
          // Bundle with the local esbuild (a devDependency): never fall back to Docker.
          forceDockerBundling: false,
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_inputDir: string, outputDir: string) => [`cp "${configFile}" "${outputDir}/${BundledConfigFile}"`],
          },
        },
        onFailure: new destinations.SqsDestination(functionDlqs[name]),
        maxEventAge: settings.maxEventAge,
        retryAttempts: settings.retryAttempts,
      });
      Validations.of(role).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(logGroup)}.Arn>:log-stream:*]`,
          reason: "Log streams are created at run time with generated names; scoped to this function's own log group.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (added by Tracing.ACTIVE).',
        },
      );
      functions[name] = fn;
    }
    this.functions = functions;

    // --- Event routing -------------------------------------------------------------------------

    const target = (name: HandlerName) =>
      new targets.LambdaFunction(functions[name], {
        deadLetterQueue: deliveryDlq,
        maxEventAge: asyncSettings[name].maxEventAge,
        retryAttempts: 8,
      });
    const controller = { account: stackAccount, region: stackRegion ?? '' };

    // Alarm state changes: local alarms on the default bus, forwarded ones on the custom bus.
    const groups = alarmGroups(props.config);
    const localAlarms = groups.filter((g) => isLocal(g, controller)).flatMap((g) => g.alarmNames);
    const remoteAlarms = groups.filter((g) => !isLocal(g, controller)).flatMap((g) => g.alarmNames);
    this.addRules(
      'LocalAlarms',
      undefined,
      chunkNames([...new Set(localAlarms)].sort()).map(alarmPattern),
      target('alarm'),
      'CloudWatch alarm state changes of the configured alarms',
    );
    this.addRules(
      'ForwardedAlarms',
      this.eventBus,
      chunkNames([...new Set(remoteAlarms)].sort()).map(alarmPattern),
      target('alarm'),
      'alarm state changes forwarded from other regions or accounts',
    );

    // Deployment events: steer53's own on the custom bus; native ones where they are published.
    this.addRules(
      'DeploymentEvents',
      this.eventBus,
      [{ source: [DeploymentEventSource], 'detail-type': [...DeploymentDetailTypes] }],
      target('deployment'),
      'steer53 deployment events from pipelines',
    );
    // The config's deploymentSources (and any sources given by hand): what the handler maps is what is routed.
    const sources = nativeDeploymentSourcesOf(props.config, props.nativeDeploymentSources);
    const localSources = sources.filter((s) => regionOfSource(s, props.config) === stackRegion);
    const remoteSources = sources.filter((s) => regionOfSource(s, props.config) !== stackRegion);
    this.addRules(
      'LocalNativeDeployments',
      undefined,
      nativeDeploymentPatterns(localSources),
      target('deployment'),
      'native deployment events of mapped endpoints',
    );
    this.addRules(
      'ForwardedNativeDeployments',
      this.eventBus,
      nativeDeploymentPatterns(remoteSources),
      target('deployment'),
      'native deployment events forwarded from other regions',
    );

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: `${this.name}: evaluates every service`,
      schedule: events.Schedule.rate(Duration.minutes(intervalMinutes)),
      targets: [target('schedule')],
    });

    // A forwarder's own dead-letter alarm cannot notify this topic from its region; its state
    // change is forwarded here and turned into a notification.
    new events.Rule(this, 'ForwarderAlarmsToTopic', {
      eventBus: this.eventBus,
      description: `${this.name}: alarms of the regional forwarders`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: `${this.name}-forwarder-` }] },
      },
      targets: [
        new targets.SnsTopic(this.topic, {
          deadLetterQueue: deliveryDlq,
          message: events.RuleTargetInput.fromText(
            `Forwarder alarm ${events.EventField.fromPath('$.detail.alarmName')} in ${events.EventField.fromPath('$.region')} is ${events.EventField.fromPath('$.detail.state.value')}: ${events.EventField.fromPath('$.detail.state.reason')}`,
          ),
        }),
      ],
    });

    // --- Operational alarms --------------------------------------------------------------------

    const notify = new cloudwatchActions.SnsAction(this.topic);
    for (const [name, dlq] of Object.entries(this.deadLetterQueues)) {
      const alarm = new cloudwatch.Alarm(this, `${pascal(name)}DlqAlarm`, {
        alarmName: `${this.name}-${name}-dlq-not-empty`,
        alarmDescription: `${this.name}: messages in the ${name} dead-letter queue (events the controller did not act on). Inspect, fix, then redrive.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
    for (const name of HandlerNames) {
      const alarm = new cloudwatch.Alarm(this, `${pascal(name)}ErrorsAlarm`, {
        alarmName: `${this.name}-${name}-handler-errors`,
        alarmDescription: `${this.name}: the ${name} handler is failing (2 of the last 3 minutes had errors). See its logs.`,
        metric: functions[name].metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
    // The controller is only useful while it runs: no scheduled invocation for five intervals
    // means nobody is watching the endpoints (a disabled rule, a throttled account).
    const heartbeat = new cloudwatch.Alarm(this, 'ScheduleHeartbeatAlarm', {
      alarmName: `${this.name}-schedule-stopped`,
      alarmDescription: `${this.name}: the schedule has not invoked the controller for ${5 * intervalMinutes} minutes; traffic is not being steered.`,
      metric: functions.schedule.metricInvocations({ period: Duration.minutes(intervalMinutes), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    heartbeat.addAlarmAction(notify);
    heartbeat.addOkAction(notify);

    // --- Static stability: health checks and weighted records -----------------------------------

    const healthChecks: Record<string, route53.CfnHealthCheck> = {};
    for (const [i, check] of (props.staticStability?.healthChecks ?? []).entries()) {
      const endpoint = this.endpoint(check.service, check.setIdentifier);
      const key = `${check.service}/${check.setIdentifier}`;
      let alarmName = check.alarmName;
      let alarmRegion = check.alarmRegion ?? endpoint.region;
      if (check.metricAlarm) {
        const alarm = createHealthAlarm(this, `HealthAlarm${i}`, healthAlarmName(this.name, check.service, check.setIdentifier), check.metricAlarm, key);
        alarmName = alarm.alarmName;
        alarmRegion = stack.region;
      }
      healthChecks[key] = new route53.CfnHealthCheck(this, `HealthCheck${i}`, {
        healthCheckConfig: {
          type: 'CLOUDWATCH_METRIC',
          alarmIdentifier: { name: alarmName!, region: alarmRegion },
          insufficientDataHealthStatus: check.insufficientDataHealthStatus ?? 'LastKnownStatus',
        },
        healthCheckTags: [{ key: 'Name', value: `${this.name} ${key}` }],
      });
      new CfnOutput(this, `HealthCheckId${i}`, { description: `Route 53 health check of ${key}`, value: healthChecks[key].attrHealthCheckId });
    }
    this.healthChecks = healthChecks;

    for (const [i, record] of (props.managedRecords ?? []).entries()) {
      const service = props.config.services.find((s) => s.name === record.service)!;
      const endpoint = this.endpoint(record.service, record.setIdentifier);
      // CloudFormation writes the baseline weight only when the record is created or one of its
      // properties changes; between such deploys the controller owns the weight.
      new route53.CfnRecordSet(this, `Record${i}`, {
        hostedZoneId: service.hostedZoneId,
        name: `${service.dnsName}.`,
        type: service.recordType,
        setIdentifier: endpoint.setIdentifier,
        weight: endpoint.baselineWeight,
        ...(healthChecks[`${record.service}/${record.setIdentifier}`]
          ? { healthCheckId: healthChecks[`${record.service}/${record.setIdentifier}`]!.attrHealthCheckId }
          : {}),
        ...(record.aliasTarget
          ? {
              aliasTarget: {
                dnsName: record.aliasTarget.dnsName,
                hostedZoneId: record.aliasTarget.hostedZoneId,
                evaluateTargetHealth: record.aliasTarget.evaluateTargetHealth ?? true,
              },
            }
          : { ttl: String((record.ttl ?? Duration.seconds(60)).toSeconds()), resourceRecords: [...(record.values ?? [])] }),
      });
    }

    // --- Dashboard and outputs -------------------------------------------------------------------

    if (props.dashboard ?? true) {
      new ControllerDashboard(this, 'Dashboard', { name: this.name, config: props.config, functions, deadLetterQueues: this.deadLetterQueues });
    }
    new CfnOutput(this, 'EventBusArn', { description: 'Put steer53 deployment events here', value: this.eventBus.eventBusArn });
    new CfnOutput(this, 'TopicArn', { description: 'Controller notifications', value: this.topic.topicArn });
    new CfnOutput(this, 'TableName', { description: 'Controller state and audit log', value: this.table.tableName });
  }

  /** The endpoint config of a validated (service, setIdentifier) pair. */
  private endpoint(service: string, setIdentifier: string) {
    return this.config.services.find((s) => s.name === service)!.endpoints.find((e) => e.setIdentifier === setIdentifier)!;
  }

  /** What every handler may do: the evaluate → decide → apply → tell loop, and nothing else. */
  private controllerStatements(partition: string, table: dynamodb.Table, topic: sns.Topic, bus: events.EventBus): iam.PolicyStatement[] {
    const statements = [
      ...route53Statements(this.config, partition),
      new iam.PolicyStatement({
        sid: 'ReadSignals',
        // GetMetricData has no resource-level permissions; DescribeAlarms must be granted on "*"
        // to return composite alarms (CloudWatch API reference). Both are read-only.
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'],
        resources: ['*'],
      }),
    ];
    const roleArns = new Set<string>();
    for (const service of this.config.services) {
      for (const endpoint of service.endpoints) {
        if (endpoint.load?.accountRoleArn) roleArns.add(endpoint.load.accountRoleArn);
        for (const signal of endpoint.signals) if (signal.source === 'metric' && signal.metric.accountRoleArn) roleArns.add(signal.metric.accountRoleArn);
      }
    }
    if (roleArns.size > 0) {
      statements.push(new iam.PolicyStatement({ sid: 'ReadMetricsInOtherAccounts', actions: ['sts:AssumeRole'], resources: [...roleArns].sort() }));
    }
    const tableGrant = new iam.PolicyStatement({
      sid: 'StateTable',
      // What the state store (and Powertools idempotency) call: single items, one query per
      // service, conditional writes. No Scan, no table management.
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'dynamodb:TransactWriteItems',
      ],
      resources: [table.tableArn],
    });
    statements.push(tableGrant);
    const encryptionKey = table.encryptionKey;
    if (encryptionKey)
      statements.push(
        new iam.PolicyStatement({
          sid: 'StateTableKey',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          resources: [encryptionKey.keyArn],
        }),
      );
    statements.push(new iam.PolicyStatement({ sid: 'Notify', actions: ['sns:Publish'], resources: [topic.topicArn] }));
    statements.push(new iam.PolicyStatement({ sid: 'NotifyKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [topic.masterKey!.keyArn] }));
    statements.push(new iam.PolicyStatement({ sid: 'PublishControllerEvents', actions: ['events:PutEvents'], resources: [bus.eventBusArn] }));
    return statements;
  }

  /** Resource policy of the custom bus: who may put which events on it. */
  private addBusPolicy(props: TrafficControllerProps, stackAccount: string | undefined): void {
    const publishers = props.deploymentEventPublishers;
    const ownAccount = (id: string) => stackAccount !== undefined && id === stackAccount;
    const deploymentAccounts = (publishers?.accountIds ?? []).filter((id) => !ownAccount(id));
    const deploymentCondition = { 'ForAllValues:StringEquals': { 'events:source': [DeploymentEventSource] } };
    if (deploymentAccounts.length > 0) {
      this.eventBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DeploymentEventsFromAccounts',
          principals: deploymentAccounts.map((id) => new iam.AccountPrincipal(id)),
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: deploymentCondition,
        }),
      );
    }
    const principalArns = publishers?.principalArns ?? [];
    if (principalArns.length > 0) {
      this.eventBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DeploymentEventsFromPrincipals',
          principals: principalArns.map((arn) => new iam.ArnPrincipal(arn)),
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: deploymentCondition,
        }),
      );
      // Only the listed publishers may put deployment events, even in this account, where an
      // identity policy alone would otherwise suffice.
      this.eventBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyListedDeploymentPublishers',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: {
            'ForAnyValue:StringEquals': { 'events:source': [DeploymentEventSource] },
            ArnNotLike: { 'aws:PrincipalArn': [...principalArns] },
            ...((publishers?.accountIds ?? []).length > 0 ? { StringNotEquals: { 'aws:PrincipalAccount': [...(publishers?.accountIds ?? [])] } } : {}),
          },
        }),
      );
    }
    const forwarderAccounts = new Set<string>(props.forwarderAccountIds ?? []);
    for (const group of alarmGroups(props.config))
      if (group.account !== undefined && !ownAccount(group.account) && stackAccount !== undefined) forwarderAccounts.add(group.account);
    if (forwarderAccounts.size > 0) {
      this.eventBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ForwardedEventsFromAccounts',
          principals: [...forwarderAccounts].sort().map((id) => new iam.AccountPrincipal(id)),
          actions: ['events:PutEvents'],
          resources: [this.eventBus.eventBusArn],
          conditions: { 'ForAllValues:StringEquals': { 'events:source': ForwardedSources } },
        }),
      );
    }
  }

  /** One rule per pattern on a bus (undefined: the account's default bus), all to one target. */
  private addRules(id: string, bus: events.EventBus | undefined, patterns: EventPatternJson[], ruleTarget: events.IRuleTarget, purpose: string): void {
    patterns.forEach((pattern, i) => {
      const rule = new events.Rule(this, patterns.length === 1 ? `${id}Rule` : `${id}Rule${i + 1}`, {
        ...(bus ? { eventBus: bus } : {}),
        description: `${this.name}: ${purpose}`,
        eventPattern: toEventPattern(pattern),
      });
      rule.addTarget(ruleTarget);
    });
  }
}

/**
 * NodejsFunction falls back to bundling in Docker when it finds no local esbuild; steer53 never
 * wants that (slow, needs a daemon, a different esbuild): say what is missing instead.
 */
export function assertLocalEsbuild(root: string): void {
  try {
    createRequire(join(root, 'package.json')).resolve('esbuild');
  } catch (error) {
    throw new Steer53Error(
      'esbuild is not installed: run npm ci (it is a devDependency). steer53 bundles its functions with the local esbuild and never with Docker.',
      { cause: error },
    );
  }
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag names it in findings. */
function logicalIdOf(construct: Construct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/**
 * Writes the validated config as JSON where the bundling hook can copy it into each function
 * package: the handlers read exactly what the app validated, with presets expanded and defaults
 * applied. Named by content hash, so a config change changes the asset.
 */
function writeBundledConfig(dir: string, config: Config): string {
  const json = `${JSON.stringify(config, null, 2)}\n`;
  const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `steer53.config.${hash}.json`);
  writeFileSync(file, json);
  return file;
}
