/**
 * The topics alarms notify, and who may publish to them.
 *
 * A topic policy replaces the topic's default policy, which is what lets the owner account's AWS
 * services publish on behalf of its resources: with a topic policy, every service that publishes
 * must be named in it, or its messages are refused (a CloudWatch alarm then records "is not
 * authorized to perform: SNS:Publish" in its history and nobody is told). Each service is named
 * for the resources it publishes for and nothing else, so that no other account's alarm or rule
 * can use the service as a confused deputy:
 * - CloudWatch (`cloudwatch.amazonaws.com`) for the alarms whose actions name the topic, by exact
 *   ARN (`aws:SourceArn`) and account (`aws:SourceAccount`);
 * - EventBridge (`events.amazonaws.com`) for the rules that target the topic (`aws:SourceArn`).
 * The handlers publish through their identity policy; in the topic's own account a topic policy
 * need not repeat it.
 */
import { Aws, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { NotificationSubscriptions } from './trafficControllerProps.js';

/** The service principals that may publish to an alarm topic, each under its own conditions. */
export const TopicPublishers = { alarms: 'cloudwatch.amazonaws.com', rules: 'events.amazonaws.com' } as const;

export interface AlarmTopicOptions {
  /** Construct id of the KMS key (kept stable: its logical id decides whether the key is replaced). */
  readonly keyId: string;
  /** Construct id of the topic (kept stable, as the key's). */
  readonly topicId: string;
  readonly displayName: string;
  readonly keyDescription: string;
}

/**
 * An SNS topic under its own rotating KMS key, denying publishing without TLS. CloudWatch alarms
 * cannot publish to a topic under the AWS-managed SNS key (its policy cannot name them), hence a
 * customer-managed key. Its grants to CloudWatch and EventBridge carry no source condition: the
 * key encrypts this topic only, the topic policy already decides which of their requests may
 * publish, and EventBridge does not send `aws:SourceArn` / `aws:SourceAccount` on the KMS calls SNS
 * makes for it, so a condition there would drop its messages silently.
 */
export function encryptedTopic(scope: Construct, options: AlarmTopicOptions): sns.Topic {
  const key = new kms.Key(scope, options.keyId, { description: options.keyDescription, enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
  for (const service of Object.values(TopicPublishers)) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${service.split('.')[0]}ToPublish`,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" is this key
      }),
    );
  }
  return new sns.Topic(scope, options.topicId, { displayName: options.displayName, masterKey: key, enforceSSL: true });
}

/** Email and HTTPS subscriptions, undeliverable notifications kept in `deadLetterQueue` when given. */
export function subscribe(topic: sns.Topic, notifications: NotificationSubscriptions | undefined, deadLetterQueue?: sqs.IQueue): void {
  const deadLetter = deadLetterQueue ? { deadLetterQueue } : {};
  for (const email of notifications?.emails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email, deadLetter));
  for (const url of notifications?.httpsUrls ?? [])
    topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS, ...deadLetter }));
}

/**
 * Makes `alarms` notify `topic` when they fire and when they clear, and lets CloudWatch publish
 * for exactly these alarms. Their ARNs are built from their names (every alarm here has one), so
 * the topic policy does not depend on the alarms, and each alarm is created after the policy that
 * lets it notify.
 */
export function notifyOnAlarmAndOk(topic: sns.Topic, alarms: readonly cloudwatch.Alarm[]): void {
  if (alarms.length === 0) return;
  const stack = Stack.of(topic);
  const action = new cloudwatchActions.SnsAction(topic);
  const arns = alarms.map((alarm) => {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName;
    if (name === undefined) throw new Error(`${alarm.node.path}: an alarm that notifies a topic needs a fixed name (its ARN scopes the topic policy).`);
    return stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  });
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AlarmsOfThisControllerMayNotify',
      principals: [new iam.ServicePrincipal(TopicPublishers.alarms)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': arns } },
    }),
  );
  const policy = topic.node.tryFindChild('Policy');
  if (policy) for (const alarm of alarms) alarm.node.addDependency(policy);
}

/**
 * An EventBridge target publishing to an SNS topic, that lets EventBridge publish for this one
 * rule only (aws-events-targets' SnsTopic grants `events.amazonaws.com` without a condition, so
 * any account's rule could post to the topic). Undeliverable events go to `deadLetterQueue`.
 */
export class RuleScopedSnsTopic implements events.IRuleTarget {
  constructor(
    private readonly topic: sns.Topic,
    private readonly props: { readonly message: events.RuleTargetInput; readonly deadLetterQueue: sqs.IQueue },
  ) {}

  bind(rule: events.IRuleRef, _id?: string): events.RuleTargetConfig {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `RuleMayNotify${rule.node.id}`,
        principals: [new iam.ServicePrincipal(TopicPublishers.rules)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
      }),
    );
    targets.addToDeadLetterQueueResourcePolicy(rule, this.props.deadLetterQueue);
    return {
      deadLetterConfig: { arn: this.props.deadLetterQueue.queueArn },
      arn: this.topic.topicArn,
      input: this.props.message,
      targetResource: this.topic,
    };
  }
}
