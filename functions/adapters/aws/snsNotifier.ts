/**
 * SNS adapter of the notifier port: one message per notice, with a subject that fits SNS's limit,
 * a body a person can act on, and MessageAttributes (service, severity, reason, kind) for
 * subscription filter policies.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notice, Notifier } from '../../ports/notifier.js';
import { noticeAttributes, noticeBody, noticeSubject } from '../../app/noticeText.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

export interface SnsNotifierOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

export class SnsNotifier implements Notifier {
  readonly #client: SNSClient;
  readonly #topicArn: string;

  constructor(options: SnsNotifierOptions) {
    this.#client = options.client;
    this.#topicArn = options.topicArn;
  }

  async notify(notice: Notice): Promise<void> {
    const attributes = noticeAttributes(notice);
    try {
      await this.#client.send(
        new PublishCommand({
          TopicArn: this.#topicArn,
          Subject: noticeSubject(notice),
          Message: noticeBody(notice),
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
        }),
      );
    } catch (error) {
      throw new AwsCallError({ operation: 'sns:Publish', target: this.#topicArn }, error, isTransientAwsError(error));
    }
  }
}
