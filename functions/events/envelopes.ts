/**
 * The AWS envelopes the handlers receive, as Powertools' parser schemas define them
 * (@aws-lambda-powertools/parser 2.35 `schemas/eventbridge` and `schemas/sns`), written in zod/mini:
 * Powertools' schemas are built with the whole `zod` namespace, which no bundler can trim. Field for
 * field the same, so an event is accepted or rejected with the same messages as before.
 */
import * as z from 'zod/mini';
import './zodMessages.js';

/** The fields of every EventBridge event; a schema of one event type spreads these and narrows some. */
export const eventBridgeEnvelope = {
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.optional(z.string()),
};

const snsNotificationSchema = z.object({
  Subject: z.nullish(z.string()),
  TopicArn: z.string(),
  UnsubscribeUrl: z.url(),
  UnsubscribeURL: z.optional(z.url()),
  SigningCertUrl: z.optional(z.url()),
  SigningCertURL: z.optional(z.url()),
  Type: z.literal('Notification'),
  MessageAttributes: z.optional(z.record(z.string(), z.object({ Type: z.string(), Value: z.string() }))),
  Message: z.string(),
  MessageId: z.string(),
  Signature: z.optional(z.string()),
  SignatureVersion: z.optional(z.string()),
  Timestamp: z.iso.datetime(),
});

/** The Lambda event of an SNS subscription: one or more notifications. */
export const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        EventVersion: z.string(),
        EventSubscriptionArn: z.string(),
        Sns: snsNotificationSchema,
      }),
    )
    .check(z.minLength(1)),
});
