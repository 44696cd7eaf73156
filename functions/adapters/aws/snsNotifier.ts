/**
 * SNS adapter of the notifier port: one message per notice, with a subject that fits SNS's limit,
 * a body a person can act on, and MessageAttributes (service, severity, reason, kind) for
 * subscription filter policies.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notice, Notifier } from '../../ports/notifier.js';
import { noticeAttributes, noticeBody, noticeSubject } from '../../app/noticeText.js';
import { AwsCallError, isTransientAwsError } from './errors.js';

/** SNS messages are at most 256 KB; leave room for the envelope. */
const MAX_MESSAGE_BYTES = 250_000;

/** A body over the limit loses its tail (the signal table of a very large service), with a note. */
export function fitMessage(body: string): string {
  if (Buffer.byteLength(body, 'utf8') <= MAX_MESSAGE_BYTES) return body;
  const note = '\n\n[truncated: the full decision is in the audit log]';
  let cut = body.slice(0, MAX_MESSAGE_BYTES - note.length);
  while (Buffer.byteLength(cut, 'utf8') > MAX_MESSAGE_BYTES - note.length) cut = cut.slice(0, -1000);
  return cut + note;
}

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
          Message: fitMessage(noticeBody(notice)),
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
        }),
      );
    } catch (error) {
      throw new AwsCallError({ operation: 'sns:Publish', target: this.#topicArn }, error, isTransientAwsError(error));
    }
  }
}
