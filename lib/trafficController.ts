/**
 * TrafficController: everything steer53 needs in the controller's account and region. The state
 * table, one function per event source (alarm, schedule, deployment), the event routing, the
 * notification topic, dead-letter queues and alarms, a dashboard per service, and least-privilege
 * IAM. Optionally, Route 53 health checks and weighted records for static stability.
 *
 * The constructor reads as the list of those parts, each a private method below. Every resource
 * is created directly in this construct's scope, as it always was: its CloudFormation logical id
 * depends on that path, and a changed id replaces the resource (test/infra/logicalIds.test.ts
 * pins those of the stateful ones).
 */
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { CfnOutput, Duration, RemovalPolicy, Stack, Stage, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config.js';
import { AwsApiRates, shareOf } from '../functions/adapters/aws/pacing.js';
import { DefaultTickCostModel, planShards, shardSizeFor, type Shard } from '../functions/app/shardPlan.js';
import { encryptedTopic, notifyOnAlarmAndOk, RuleScopedSnsTopic, subscribe } from './alarmTopic.js';
import { capacityWildcardResources, nagResourceText } from './capacityPermissions.js';
import { addBusPolicy, controllerStatements } from './controllerPermissions.js';
import { anyHealthCheckArn } from './route53Permissions.js';
import { ControllerMetricDimensions, ControllerMetrics, MalformedEventsService } from './controllerMetrics.js';
import { ControllerDashboard } from './controllerDashboard.js';
import {
  alarmGroups,
  alarmPattern,
  chunkNames,
  DeploymentDetailTypes,
  DeploymentEventSource,
  deploymentSenderAccounts,
  fromAccounts,
  isLocal,
  nativeDeploymentPatterns,
  nativeSourceAccounts,
  regionOfSource,
  toEventPattern,
  type EventPatternJson,
} from './eventRouting.js';
import {
  addHandlerFunction,
  AlarmQueueDelivery,
  assertLocalEsbuild,
  asyncSettings,
  BundledConfigPath,
  HandlerNames,
  packageRoot,
  pascal,
  writeBundledConfig,
  type HandlerName,
} from './handlerFunctions.js';
import { nativeDeploymentSourcesOf } from './nativeDeploymentRouting.js';
import { createHealthAlarm, healthAlarmName, healthCheckConfig } from './healthAlarm.js';
import { validateProps, type TrafficControllerProps } from './trafficControllerProps.js';

export { ForwardedSources } from './controllerPermissions.js';
export { AlarmQueueDelivery, assertLocalEsbuild, BundledConfigFile, BundledConfigPath, HandlerNames, type HandlerName } from './handlerFunctions.js';

type DeadLetterQueues = Readonly<Record<HandlerName | 'delivery', sqs.Queue> & { notification?: sqs.Queue }>;

/** Where the stack is, when known at synth time. */
interface StackPlace {
  readonly account: string | undefined;
  readonly region: string | undefined;
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
  readonly deadLetterQueues: DeadLetterQueues;
  /** Alarm state changes on their way to the alarm function (see `addAlarmQueue`). */
  readonly alarmQueue: sqs.Queue;
  /** The schedule that evaluates every service (with shards, the first of its rules). */
  readonly scheduleRule: events.Rule;
  /** Every rule of the schedule: one with up to five shards as its targets (EventBridge's limit), or one plain. */
  readonly scheduleRules: readonly events.Rule[];
  /** The shards of a tick: one asynchronous invocation of the schedule function each. */
  readonly shards: readonly Shard[];
  /** Health checks by `service/setIdentifier`. */
  readonly healthChecks: Readonly<Record<string, route53.CfnHealthCheck>>;
  /** The controller's name (event bus, dashboards, alarm prefixes). */
  readonly name: string;

  private readonly config: Config;

  constructor(scope: Construct, id: string, props: TrafficControllerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const place: StackPlace = {
      account: Token.isUnresolved(stack.account) ? undefined : stack.account,
      region: Token.isUnresolved(stack.region) ? undefined : stack.region,
    };
    validateProps(props, place.region);
    this.config = props.config;
    this.name = props.name ?? 'steer53';
    const intervalMinutes = props.evaluationInterval
      ? props.evaluationInterval.toMinutes()
      : Math.max(1, Math.floor(Math.min(...props.config.services.map((s) => s.policy.evaluationPeriodSeconds)) / 60));

    this.topic = this.addNotificationTopic();
    this.table = this.addStateTable(props);
    this.eventBus = new events.EventBus(this, 'Bus', { eventBusName: this.name, description: `${this.name}: deployment events in, controller events out` });
    addBusPolicy(this.eventBus, props, place.account);
    this.deadLetterQueues = this.addDeadLetterQueues(props);
    this.functions = this.addFunctions(props, stack.partition);
    this.alarmQueue = this.addAlarmQueue();
    this.addEventRouting(props, place);
    this.shards = this.planShards(props);
    this.scheduleRules = this.addSchedule(intervalMinutes, this.shards);
    this.scheduleRule = this.scheduleRules[0]!;
    this.addForwarderAlarmNotifications();
    this.addOperationalAlarms(intervalMinutes);
    this.healthChecks = this.addHealthChecks(props, stack.region);
    this.addManagedRecords(props);
    if (props.dashboard ?? true) {
      new ControllerDashboard(this, 'Dashboard', {
        name: this.name,
        config: props.config,
        functions: this.functions,
        deadLetterQueues: this.deadLetterQueues,
        shards: this.shards,
        alarmQueue: this.alarmQueue,
      });
    }
    new CfnOutput(this, 'EventBusArn', { description: 'Put steer53 deployment events here', value: this.eventBus.eventBusArn });
    new CfnOutput(this, 'TopicArn', { description: 'Controller notifications', value: this.topic.topicArn });
    new CfnOutput(this, 'TableName', { description: 'Controller state and audit log', value: this.table.tableName });
  }

  /** The notification topic, under a rotating key; who may publish is decided where its alarms and rules are added. */
  private addNotificationTopic(): sns.Topic {
    return encryptedTopic(this, {
      keyId: 'NotificationKey',
      topicId: 'Notifications',
      displayName: `${this.name} traffic controller`,
      keyDescription: `${this.name}: encrypts the notification topic`,
    });
  }

  /** The state and audit table: retained (and deletion-protected) unless the props say otherwise. */
  private addStateTable(props: TrafficControllerProps): dynamodb.Table {
    return new dynamodb.Table(this, 'State', {
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
  }

  /**
   * One queue per function for failed asynchronous invocations, one for events EventBridge could
   * not deliver, and (with subscriptions) one for notifications SNS could not deliver; then the
   * topic's subscriptions.
   */
  private addDeadLetterQueues(props: TrafficControllerProps): DeadLetterQueues {
    const deliveryDlq = this.addDeadLetterQueue('DeliveryDlq', 'events EventBridge could not deliver to a function');
    const functionDlqs = Object.fromEntries(
      HandlerNames.map((name) => [name, this.addDeadLetterQueue(`${pascal(name)}FailureDlq`, `${name} invocations that failed after their retries`)]),
    ) as Record<HandlerName, sqs.Queue>;
    // SNS retries a subscription's deliveries, then drops them; a notification that reached no
    // one must at least be kept and alarmed on.
    const emails = props.notifications?.emails ?? [];
    const urls = props.notifications?.httpsUrls ?? [];
    const notificationDlq =
      emails.length + urls.length > 0 ? this.addDeadLetterQueue('NotificationDlq', 'notifications SNS could not deliver to a subscriber') : undefined;
    subscribe(this.topic, props.notifications, notificationDlq);
    return { ...functionDlqs, delivery: deliveryDlq, ...(notificationDlq ? { notification: notificationDlq } : {}) };
  }

  private addDeadLetterQueue(id: string, purpose: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      // SSE-SQS rather than KMS: EventBridge cannot write to a queue under the AWS-managed SQS
      // key, and these queues hold event envelopes, not secrets.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue (${purpose}); a DLQ of a DLQ would only hide failures.`,
    });
    return queue;
  }

  /** One function per handler, sharing the controller's policy and the validated config. */
  private addFunctions(props: TrafficControllerProps, partition: string): Record<HandlerName, nodejs.NodejsFunction> {
    assertLocalEsbuild(packageRoot);
    const buildDir = resolve(Stage.of(this)?.outdir ?? tmpdir(), 'steer53-build');
    const configFile = writeBundledConfig(buildDir, props.config);
    const account = Stack.of(this).account;
    const sharedPolicy = new iam.Policy(this, 'ControllerPolicy', {
      statements: controllerStatements(this.config, { partition, account }, this.table, this.topic, this.eventBus),
    });
    Validations.of(sharedPolicy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:GetMetricData has no resource-level permissions, and cloudwatch:DescribeAlarms must be granted on * to return composite alarms; ' +
          'the capacity providers read Application Auto Scaling and EC2 Auto Scaling with Describe* actions, which have no resource types. All read-only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagResourceText(Stack.of(this), anyHealthCheckArn(partition))}]`,
        reason:
          'route53:GetHealthCheck, route53:GetHealthCheckStatus and route53:GetHealthCheckLastFailureReason, read-only, on the health checks of the weighted records the controller reads ' +
          "and the children of calculated ones: their ids are known only at run time, from each record's HealthCheckId (records the user manages included) " +
          'and from the calculated health checks, and Route 53 has no condition key to narrow the actions.',
      },
      ...capacityWildcardResources(this.config, partition, account).map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${nagResourceText(Stack.of(this), resource)}]`,
        reason: resource.includes(':scalable-target/')
          ? 'A scalable target ARN ends in an id AWS generates: RegisterScalableTarget is narrowed by its namespace and dimension condition keys, and Application Auto Scaling checks the caller may change the named endpoint or service, granted on those alone.'
          : "An Auto Scaling group's ARN holds a generated id before its name: the group is named exactly, the id is a wildcard.",
      })),
    );
    const options = {
      name: this.name,
      handlersDir: props.handlersDir ?? join(packageRoot, 'functions', 'handlers'),
      memorySize: props.memorySize ?? 512,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      sharedPolicy,
      configFile,
      environment: {
        STEER53_CONFIG_PATH: BundledConfigPath,
        STEER53_TABLE_NAME: this.table.tableName,
        STEER53_TOPIC_ARN: this.topic.topicArn,
        STEER53_EVENT_BUS_NAME: this.eventBus.eventBusName,
        // Alarm and deployment events from other accounts act only where the config allows them.
        STEER53_ACCOUNT_ID: Stack.of(this).account,
        POWERTOOLS_SERVICE_NAME: 'steer53',
        POWERTOOLS_METRICS_NAMESPACE: 'steer53',
        // Stack traces point into the TypeScript sources (the bundle ships its .map file).
        NODE_OPTIONS: '--enable-source-maps',
      },
      failureQueues: this.deadLetterQueues,
    };
    return Object.fromEntries(HandlerNames.map((name) => [name, addHandlerFunction(this, name, options)])) as Record<HandlerName, nodejs.NodejsFunction>;
  }

  /** An EventBridge target invoking a handler, with the delivery dead-letter queue and the handler's event age. */
  private handlerTarget(name: HandlerName, event?: events.RuleTargetInput): events.IRuleTarget {
    return new targets.LambdaFunction(this.functions[name], {
      deadLetterQueue: this.deadLetterQueues.delivery,
      maxEventAge: asyncSettings[name].maxEventAge,
      retryAttempts: 8,
      ...(event ? { event } : {}),
    });
  }

  /**
   * Alarm state changes reach the alarm function through a queue, in batches of up to
   * `AlarmQueueDelivery.batchSize`, at most `AlarmQueueDelivery.maxConcurrency` invocations at once.
   * A region failing under a thousand services fires a thousand alarms within a minute: invoked once
   * each, they would take a thousand of the account's Lambda concurrency and, each pacing itself at
   * the function's share, many times the account's Route 53 and DescribeAlarms rates. From the
   * queue, each invocation confirms its batch's alarms in one DescribeAlarms per region and
   * evaluates their services as a tick does (a change batch per hosted zone). A record whose
   * evaluation failed for a reason a redelivery may fix returns to the queue (a partial batch
   * response); after `maxReceiveCount` receives it goes to the alarm function's dead-letter queue.
   * The alarm rules (addEventRouting) send to it.
   */
  private addAlarmQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'AlarmQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the function's timeout, as Lambda advises for a queue it polls.
      visibilityTimeout: Duration.seconds(asyncSettings.alarm.timeout.toSeconds() * 6),
      // An alarm event older than the handler's maximum age is refused (and logged) when read; this only bounds the queue.
      retentionPeriod: Duration.hours(1),
      deadLetterQueue: { queue: this.deadLetterQueues.alarm, maxReceiveCount: AlarmQueueDelivery.maxReceiveCount },
    });
    this.functions.alarm.addEventSource(
      new SqsEventSource(queue, {
        batchSize: AlarmQueueDelivery.batchSize,
        maxBatchingWindow: Duration.seconds(AlarmQueueDelivery.batchingWindowSeconds),
        maxConcurrency: AlarmQueueDelivery.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    return queue;
  }

  /**
   * Alarm state changes and deployment events: local ones from the default bus, forwarded ones from
   * the custom bus; every pattern names the accounts its events may come from.
   */
  private addEventRouting(props: TrafficControllerProps, place: StackPlace): void {
    const controller = { account: place.account, region: place.region ?? '' };
    const own = Stack.of(this).account;
    const groups = alarmGroups(props.config);
    const local = groups.filter((g) => isLocal(g, controller));
    const remote = groups.filter((g) => !isLocal(g, controller));
    const alarmTarget = new targets.SqsQueue(this.alarmQueue, {
      deadLetterQueue: this.deadLetterQueues.delivery,
      maxEventAge: asyncSettings.alarm.maxEventAge,
      retryAttempts: 8,
    });
    const alarmPatterns = (names: string[], accounts: string[]) =>
      chunkNames([...new Set(names)].sort()).map((chunk) => fromAccounts(alarmPattern(chunk), accounts));
    this.addRules(
      'LocalAlarms',
      undefined,
      alarmPatterns(
        local.flatMap((g) => g.alarmNames),
        [own],
      ),
      alarmTarget,
      'CloudWatch alarm state changes of the configured alarms',
    );
    const remoteAccounts = [...new Set(remote.map((g) => g.account ?? own))].sort();
    this.addRules(
      'ForwardedAlarms',
      this.eventBus,
      alarmPatterns(
        remote.flatMap((g) => g.alarmNames),
        remoteAccounts,
      ),
      alarmTarget,
      'alarm state changes forwarded from other regions or accounts',
    );

    // Deployment events: steer53's own on the custom bus; native ones where they are published.
    const deploymentTarget = this.handlerTarget('deployment');
    const publishers = [own, ...(props.deploymentEventPublishers?.accountIds ?? []), ...deploymentSenderAccounts(props.config)];
    const ownEvents = fromAccounts({ source: [DeploymentEventSource], 'detail-type': [...DeploymentDetailTypes] }, publishers);
    this.addRules('DeploymentEvents', this.eventBus, [ownEvents], deploymentTarget, 'steer53 deployment events from pipelines');
    // The config's deploymentSources (and any sources given by hand): what the handler maps is what is routed.
    const sources = nativeDeploymentSourcesOf(props.config, props.nativeDeploymentSources);
    const nativeAccounts = [own, ...deploymentSenderAccounts(props.config), ...nativeSourceAccounts(sources), ...(props.forwarderAccountIds ?? [])];
    const native = (list: typeof sources) => nativeDeploymentPatterns(list).map((p) => fromAccounts(p, nativeAccounts));
    const localSources = sources.filter((s) => regionOfSource(s, props.config) === place.region);
    const remoteSources = sources.filter((s) => regionOfSource(s, props.config) !== place.region);
    this.addRules('LocalNativeDeployments', undefined, native(localSources), deploymentTarget, 'native deployment events of mapped endpoints');
    this.addRules(
      'ForwardedNativeDeployments',
      this.eventBus,
      native(remoteSources),
      deploymentTarget,
      'native deployment events forwarded from other regions',
    );
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

  /**
   * The tick. One shard: one rule, its plain scheduled event evaluates every service. More: one
   * target per shard (up to five a rule), each invoking the schedule function asynchronously with
   * its shard's services and the rule's time, so the shards run side by side; a shard delivered
   * after the next tick fired is skipped, and one delivered twice runs once (tick claims).
   */
  private addSchedule(intervalMinutes: number, shards: readonly Shard[]): events.Rule[] {
    const rule = (id: string) =>
      new events.Rule(this, id, { description: `${this.name}: evaluates every service`, schedule: events.Schedule.rate(Duration.minutes(intervalMinutes)) });
    if (shards.length <= 1) {
      const only = rule('Schedule');
      only.addTarget(this.handlerTarget('schedule'));
      return [only];
    }
    const rules: events.Rule[] = [];
    shards.forEach((shard, i) => {
      if (i % MAX_TARGETS_PER_RULE === 0) rules.push(rule(rules.length === 0 ? 'Schedule' : `Schedule${rules.length + 1}`));
      rules.at(-1)!.addTarget(this.handlerTarget('schedule', shardInput(shard, intervalMinutes)));
    });
    return rules;
  }

  /**
   * The shards of a tick, planned from the config as functions/app/shardPlan.ts sizes them, and
   * each function's share of the account's API rates: the shards run at once and share 80%, the
   * alarm and deployment functions 10% each (the alarm queue's concurrent invocations split theirs).
   */
  private planShards(props: TrafficControllerProps): Shard[] {
    const services = props.config.services;
    const model = { ...DefaultTickCostModel, memoryMb: props.memorySize ?? 512 };
    let size = props.sharding?.maxServicesPerShard ?? shardSizeFor(services, props.sharding?.targetSeconds ?? 20, model);
    let shards = planShards(services, size);
    // A rule target's input holds at most 8,192 characters: smaller shards when the names are long.
    while (size > 1 && shards.some((shard) => shardInputLength(shard) > MAX_TARGET_INPUT)) {
      size = Math.max(1, Math.floor(size * 0.9));
      shards = planShards(services, size);
    }
    const rates = props.sharding?.accountApiRates ?? AwsApiRates;
    this.functions.schedule.addEnvironment('STEER53_API_RATES', JSON.stringify(shareOf(rates, 0.8 / shards.length)));
    // The alarm queue's invocations run at most `maxConcurrency` at once and split the alarm function's share.
    this.functions.alarm.addEnvironment('STEER53_API_RATES', JSON.stringify(shareOf(rates, 0.1 / AlarmQueueDelivery.maxConcurrency)));
    this.functions.deployment.addEnvironment('STEER53_API_RATES', JSON.stringify(shareOf(rates, 0.1)));
    return shards;
  }

  /**
   * A forwarder's own dead-letter alarm cannot notify this topic from its region; its state
   * change is forwarded here and turned into a notification.
   */
  private addForwarderAlarmNotifications(): void {
    const field = (path: string) => events.EventField.fromPath(path);
    new events.Rule(this, 'ForwarderAlarmsToTopic', {
      eventBus: this.eventBus,
      description: `${this.name}: alarms of the regional forwarders`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: `${this.name}-forwarder-` }] },
      },
      targets: [
        new RuleScopedSnsTopic(this.topic, {
          deadLetterQueue: this.deadLetterQueues.delivery,
          message: events.RuleTargetInput.fromText(
            `Forwarder alarm ${field('$.detail.alarmName')} in ${field('$.region')} is ${field('$.detail.state.value')}: ${field('$.detail.state.reason')}`,
          ),
        }),
      ],
    });
  }

  /**
   * Alarms on the controller itself, each notifying the topic when it fires and when it clears;
   * the topic lets CloudWatch publish for exactly these alarms.
   */
  private addOperationalAlarms(intervalMinutes: number): void {
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (id: string, props: cloudwatch.AlarmProps) => alarms.push(new cloudwatch.Alarm(this, id, props));
    for (const [name, dlq] of Object.entries(this.deadLetterQueues)) {
      alarm(`${pascal(name)}DlqAlarm`, {
        alarmName: `${this.name}-${name}-dlq-not-empty`,
        alarmDescription: `${this.name}: messages in the ${name} dead-letter queue (events the controller did not act on). Inspect, fix, then redrive.`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const name of HandlerNames) {
      alarm(`${pascal(name)}ErrorsAlarm`, {
        alarmName: `${this.name}-${name}-handler-errors`,
        alarmDescription: `${this.name}: the ${name} handler is failing (2 of the last 3 minutes had errors). See its logs.`,
        metric: this.functions[name].metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // The controller is only useful while it runs: no scheduled invocation for five intervals
    // means nobody is watching the endpoints (a disabled rule, a throttled account).
    alarm('ScheduleHeartbeatAlarm', {
      alarmName: `${this.name}-schedule-stopped`,
      alarmDescription: `${this.name}: the schedule has not invoked the controller for ${5 * intervalMinutes} minutes; traffic is not being steered.`,
      metric: this.functions.schedule.metricInvocations({ period: Duration.minutes(intervalMinutes), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // A malformed event is logged, counted and not retried (a retry cannot mend it): without
    // this alarm an event of a shape the handlers do not know would be lost without anyone told.
    alarm('MalformedEventsAlarm', {
      alarmName: `${this.name}-malformed-events`,
      alarmDescription: `${this.name}: a handler received an event it could not read and ignored it (nothing changed). Its log line names the event and every problem; fix the sender or report the shape.`,
      metric: new cloudwatch.Metric({
        namespace: ControllerMetrics.namespace,
        metricName: ControllerMetrics.malformedEvents,
        dimensionsMap: { [ControllerMetricDimensions.service]: MalformedEventsService },
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyOnAlarmAndOk(this.topic, alarms);
  }

  /** Static stability: Route 53 health checks on CloudWatch alarms (given, or created here), by `service/setIdentifier`. */
  private addHealthChecks(props: TrafficControllerProps, stackRegion: string): Record<string, route53.CfnHealthCheck> {
    const healthChecks: Record<string, route53.CfnHealthCheck> = {};
    for (const [i, check] of (props.staticStability?.healthChecks ?? []).entries()) {
      const endpoint = this.endpoint(check.service, check.setIdentifier);
      const key = `${check.service}/${check.setIdentifier}`;
      const created = check.metricAlarm
        ? createHealthAlarm(this, `HealthAlarm${i}`, healthAlarmName(this.name, check.service, check.setIdentifier), check.metricAlarm, key)
        : undefined;
      healthChecks[key] = new route53.CfnHealthCheck(this, `HealthCheck${i}`, {
        healthCheckConfig: healthCheckConfig(check, created ? { name: created.alarmName, region: stackRegion } : undefined, endpoint.region),
        healthCheckTags: [{ key: 'Name', value: `${this.name} ${key}` }],
      });
      new CfnOutput(this, `HealthCheckId${i}`, { description: `Route 53 health check of ${key}`, value: healthChecks[key].attrHealthCheckId });
    }
    return healthChecks;
  }

  /**
   * The weighted records the construct manages, at their baseline weight and with their health
   * checks. CloudFormation writes the weight only when the record is created or one of its
   * properties changes; between such deploys the controller owns the weight.
   */
  private addManagedRecords(props: TrafficControllerProps): void {
    for (const [i, record] of (props.managedRecords ?? []).entries()) {
      const service = props.config.services.find((s) => s.name === record.service)!;
      const endpoint = this.endpoint(record.service, record.setIdentifier);
      const healthCheck = this.healthChecks[`${record.service}/${record.setIdentifier}`];
      new route53.CfnRecordSet(this, `Record${i}`, {
        hostedZoneId: service.hostedZoneId,
        name: `${service.dnsName}.`,
        type: service.recordType,
        setIdentifier: endpoint.setIdentifier,
        weight: endpoint.baselineWeight,
        ...(healthCheck ? { healthCheckId: healthCheck.attrHealthCheckId } : {}),
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
  }

  /** The endpoint config of a validated (service, setIdentifier) pair. */
  private endpoint(service: string, setIdentifier: string) {
    return this.config.services.find((s) => s.name === service)!.endpoints.find((e) => e.setIdentifier === setIdentifier)!;
  }
}

/** EventBridge: at most five targets a rule, and 8,192 characters of input a target. */
const MAX_TARGETS_PER_RULE = 5;
const MAX_TARGET_INPUT = 8192;
/** The input template's placeholder for the rule's time, and the room its value takes. */
const TIME_FIELD_ROOM = 30;

/** What a shard's target sends the schedule function (functions/events/scheduleEvents.ts). */
function shardInput(shard: Shard, intervalMinutes: number): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({
    shard: shard.id,
    services: shard.services,
    scheduledTime: events.EventField.time,
    // Past the next tick, and half a minute of grace: the next one covers it.
    staleAfterSeconds: intervalMinutes * 60 + 30,
  });
}

function shardInputLength(shard: Shard): number {
  return JSON.stringify({ shard: shard.id, services: shard.services, scheduledTime: '', staleAfterSeconds: 99999 }).length + TIME_FIELD_ROOM;
}
