/**
 * AlarmForwarder: deployed in each workload region (and account) whose alarms or native
 * deployment events the controller needs. CloudWatch publishes an alarm state change only on the
 * default bus of the alarm's own account and region, so a rule there forwards the configured
 * alarms (and deployment events) to the controller's bus.
 */
import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Steer53Error } from '../functions/core/errors.js';
import { encryptedTopic, notifyOnAlarmAndOk, subscribe } from './alarmTopic.js';
import { createHealthAlarm } from './healthAlarm.js';
import type { HealthCheckMetricAlarm, NotificationSubscriptions } from './trafficControllerProps.js';
import { alarmPattern, chunkNames, nativeDeploymentPatterns, toEventPattern, type EventPatternJson, type NativeDeploymentSource } from './eventRouting.js';

export interface AlarmForwarderProps {
  /** ARN of the controller's event bus (`TrafficController.eventBus`), in its own region and account. */
  readonly controllerEventBusArn: string;
  /** Names of the alarms in this region and account whose state changes the controller acts on. */
  readonly alarmNames: readonly string[];
  /** Native deployment events published in this region that are mapped to endpoints. @default none */
  readonly nativeDeploymentSources?: readonly NativeDeploymentSource[];
  /**
   * Alarms for Route 53 health checks of endpoints in this region (the controller's health checks
   * name them): Route 53 reads an alarm by name and region, and a stack creates alarms only in its
   * own region. @default none
   */
  readonly healthAlarms?: readonly ForwarderHealthAlarm[];
  /**
   * The controller's name: this forwarder's own dead-letter alarm is named
   * `<name>-forwarder-<region>-dlq-not-empty` and forwarded too, so the controller's topic hears
   * of it. @default 'steer53'
   */
  readonly controllerName?: string;
  /**
   * Subscriptions to this forwarder's own alarm topic, which its dead-letter alarm notifies (the
   * controller's topic lives in another region, and the forwarding path may be what failed).
   * `addSteer53Stacks` passes the controller's. @default none: subscribe to the `TopicArn` output
   */
  readonly notifications?: NotificationSubscriptions;
}

/** A health-check alarm created in the forwarder's region. */
export interface ForwarderHealthAlarm {
  /** The alarm name the controller's health check refers to (`healthAlarmName()`). */
  readonly alarmName: string;
  /** Which record it protects, for the alarm description (`service/setIdentifier`). */
  readonly endpoint: string;
  readonly metric: HealthCheckMetricAlarm;
}

export class AlarmForwarder extends Construct {
  /** Events that could not be put on the controller's bus. */
  readonly deadLetterQueue: sqs.Queue;
  /** The topic this forwarder's dead-letter alarm notifies, in the forwarder's own region and account. */
  readonly alarmTopic: sns.Topic;
  /** The health-check alarms this forwarder created. */
  readonly healthAlarms: readonly cloudwatch.Alarm[];
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: AlarmForwarderProps) {
    super(scope, id);
    if (!/^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.-]+$/.test(props.controllerEventBusArn) && !props.controllerEventBusArn.includes('${Token')) {
      throw new Steer53Error(`controllerEventBusArn "${props.controllerEventBusArn}" is not an event bus ARN (arn:aws:events:region:account:event-bus/name).`);
    }
    if (props.alarmNames.length === 0 && (props.nativeDeploymentSources ?? []).length === 0 && (props.healthAlarms ?? []).length === 0) {
      throw new Steer53Error('An AlarmForwarder needs alarmNames, nativeDeploymentSources or healthAlarms: with none it does nothing.');
    }
    const controllerName = props.controllerName ?? 'steer53';
    const stack = Stack.of(this);

    this.deadLetterQueue = new sqs.Queue(this, 'DeliveryDlq', {
      // SSE-SQS: EventBridge can write to it (it cannot use the AWS-managed SQS KMS key).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the forwarding rules; a DLQ of a DLQ would only hide failures.',
    });

    // The dead-letter alarm notifies a topic of this region and account: an alarm can only notify
    // a topic of its own region, and the forwarding rule and role whose failure filled the queue
    // cannot be trusted to carry the news. Its state change is also forwarded (a second path).
    const dlqAlarmName = `${controllerName}-forwarder-${stack.region}-dlq-not-empty`;
    const dlqAlarm = new cloudwatch.Alarm(this, 'DlqAlarm', {
      alarmName: dlqAlarmName,
      alarmDescription: `${controllerName}: events this region could not forward to the controller. Inspect, fix (bus policy, role), then redrive.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarmTopic = encryptedTopic(this, {
      keyId: 'AlarmKey',
      topicId: 'AlarmTopic',
      displayName: `${controllerName} forwarder alarms`,
      keyDescription: `${controllerName}: encrypts the forwarder's alarm topic`,
    });
    subscribe(this.alarmTopic, props.notifications);
    notifyOnAlarmAndOk(this.alarmTopic, [dlqAlarm]);
    new CfnOutput(this, 'TopicArn', { description: "This forwarder's alarms (subscribe your on-call here)", value: this.alarmTopic.topicArn });

    this.healthAlarms = (props.healthAlarms ?? []).map((health, i) =>
      createHealthAlarm(this, `HealthAlarm${i}`, health.alarmName, health.metric, health.endpoint),
    );

    const bus = events.EventBus.fromEventBusArn(this, 'ControllerBus', props.controllerEventBusArn);
    // One role for every forwarding rule; the target grants it events:PutEvents on the controller bus only.
    const role = new iam.Role(this, 'ForwardRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `${controllerName}: forwards events to the controller`,
    });
    const target = new targets.EventBus(bus, { deadLetterQueue: this.deadLetterQueue, role });
    const patterns: EventPatternJson[] = [
      ...chunkNames([...new Set([...props.alarmNames, dlqAlarmName])].sort()).map(alarmPattern),
      ...nativeDeploymentPatterns(props.nativeDeploymentSources ?? []),
    ];
    patterns.forEach((pattern, i) => {
      const rule = new events.Rule(this, `ForwardRule${i + 1}`, {
        description: `${controllerName}: forwards to the controller's event bus`,
        eventPattern: toEventPattern(pattern),
      });
      rule.addTarget(target);
      this.rules.push(rule);
    });
  }
}

export interface AlarmForwarderStackProps extends StackProps, AlarmForwarderProps {}

/** A small stack holding one AlarmForwarder, for `cdk deploy` into each workload region. */
export class AlarmForwarderStack extends Stack {
  readonly forwarder: AlarmForwarder;
  constructor(scope: Construct, id: string, props: AlarmForwarderStackProps) {
    super(scope, id, props);
    this.forwarder = new AlarmForwarder(this, 'Forwarder', props);
  }
}
