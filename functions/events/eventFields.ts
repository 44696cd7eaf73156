/**
 * The fields every event schema shares, each with a bound: an event is data from outside, and a
 * field steer53 copies into its logs, audit entries and idempotency keys must not be able to make
 * them too large (a 200,000-character `id` once made an audit item exceed DynamoDB's 400 KB).
 * Only the fields steer53 reads are checked; AWS adds fields over time and they are not ours to police.
 */
import * as z from 'zod/mini';
import './zodMessages.js';

/** Longest event id kept (EventBridge ids are UUIDs; SNS MessageIds too). */
export const MAX_ID_LENGTH = 128;
/** Longest ARN kept (IAM's own limit for an ARN is 2048). */
export const MAX_ARN_LENGTH = 2048;
/** Longest name kept: alarm names (255), endpoint and pipeline names, versions. */
export const MAX_NAME_LENGTH = 256;
/** Longest free text kept (CloudWatch's state reason is at most 1023 characters). */
export const MAX_TEXT_LENGTH = 2048;
/** The SNS message limit: 256 KB. */
export const MAX_MESSAGE_LENGTH = 262_144;

export const boundedString = (max: number) => z.string().check(z.maxLength(max, { error: `must be at most ${max} characters` }));
export const nonEmptyBounded = (max: number) =>
  z.string().check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(max, { error: `must be at most ${max} characters` }));

export const accountIdField = z.string().check(z.regex(/^\d{12}$/, { error: 'must be a 12-digit AWS account id' }));
export const regionField = z.string().check(z.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, { error: 'must be an AWS region code' }));
export const eventIdField = nonEmptyBounded(MAX_ID_LENGTH);

/**
 * ISO-8601 times as AWS writes them: `2019-10-02T17:04:40Z` (EventBridge), `2023-08-04T12:36:15.490+0000`
 * (CloudWatch's alarm payloads, whose offset has no colon), `2026-01-01T00:10:00+00:00`.
 */
const TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z|[+-]\d{2}:?\d{2})$/;

/** Epoch ms of an AWS time, or undefined when it is not one. */
export function parseEventTime(text: string): number | undefined {
  const match = TIME.exec(text);
  if (!match) return undefined;
  const offset = match[2] === 'Z' ? 'Z' : `${match[2]!.slice(0, 3)}:${match[2]!.slice(-2)}`;
  const ms = Date.parse(`${match[1]}${offset}`);
  return Number.isFinite(ms) ? ms : undefined;
}

export const eventTimeField = z.string().check(
  z.maxLength(64, { error: 'must be at most 64 characters' }),
  z.refine((text) => parseEventTime(text) !== undefined, { error: 'must be an ISO-8601 time such as 2026-01-01T00:00:00Z' }),
);

/** Whether a value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a value is, for a message: `null`, `an array`, `a string`… */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
