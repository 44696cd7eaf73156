/**
 * Whether an event may act at all, before anything is observed or decided: is it news (not too
 * old, not from the future), and does it come from an account allowed to move this traffic?
 * Each refusal is a value with the fields it was decided on; the sentence is built from them.
 * Pure: the time and the controller's account come in as arguments.
 */
// Types only: the config schema (zod) must stay out of the handlers' bundles.
import type { Config, ServiceConfig } from '../core/config.js';
import type { EpochMs } from '../core/types.js';

export const EventRefusalCodes = {
  /** Older than `events.maxAgeSeconds`: a replay, a dead-letter redrive or a late retry. */
  EVENT_TOO_OLD: 'EVENT_TOO_OLD',
  /** Dated further ahead than `events.clockSkewSeconds`: a wrong clock or a forged time. */
  EVENT_FROM_FUTURE: 'EVENT_FROM_FUTURE',
  /** From an account the config does not allow for what the event is about. */
  ACCOUNT_NOT_ALLOWED: 'ACCOUNT_NOT_ALLOWED',
} as const;

export type EventRefusal =
  | { readonly code: 'EVENT_TOO_OLD'; readonly at: EpochMs; readonly now: EpochMs; readonly maxAgeSeconds: number }
  | { readonly code: 'EVENT_FROM_FUTURE'; readonly at: EpochMs; readonly now: EpochMs; readonly clockSkewSeconds: number }
  | { readonly code: 'ACCOUNT_NOT_ALLOWED'; readonly account: string; readonly allowed: readonly string[]; readonly about: string };

export function refusalMessage(refusal: EventRefusal): string {
  switch (refusal.code) {
    case 'EVENT_TOO_OLD':
      return `the event is dated ${new Date(refusal.at).toISOString()}, ${Math.round((refusal.now - refusal.at) / 1000)} s ago: older than events.maxAgeSeconds (${refusal.maxAgeSeconds} s), so it is a replay or a late redelivery and moves nothing`;
    case 'EVENT_FROM_FUTURE':
      return `the event is dated ${new Date(refusal.at).toISOString()}, ${Math.round((refusal.at - refusal.now) / 1000)} s ahead of the controller's clock: more than events.clockSkewSeconds (${refusal.clockSkewSeconds} s), so it moves nothing`;
    case 'ACCOUNT_NOT_ALLOWED':
      return `the event comes from account ${refusal.account}, which may not act on ${refusal.about} (allowed: ${refusal.allowed.join(', ') || 'none'})`;
  }
}

/**
 * The accounts whose deployment events may act on a service besides the controller's own: those
 * `deploymentPublishers.accounts` lists and those of the principals it lists (a principal is
 * admitted by the bus policy, so its account must get through the rules and the handler too).
 */
export function publisherAccountsOf(service: ServiceConfig): string[] {
  const { accounts, principalArns } = service.deploymentPublishers;
  return [...new Set([...accounts, ...principalArns.map((arn) => arn.split(':')[4] ?? '')])].filter((a) => a !== '').sort();
}

/** Refuses an event whose own time is too old or too far ahead. */
export function ageRefusal(at: EpochMs, now: EpochMs, limits: Config['events']): EventRefusal | undefined {
  if (now - at > limits.maxAgeSeconds * 1000) return { code: 'EVENT_TOO_OLD', at, now, maxAgeSeconds: limits.maxAgeSeconds };
  if (at - now > limits.clockSkewSeconds * 1000) return { code: 'EVENT_FROM_FUTURE', at, now, clockSkewSeconds: limits.clockSkewSeconds };
  return undefined;
}

/**
 * The accounts whose deployment events may act on a service: the controller's own (the account
 * steer53 is deployed in) and those of the service's `deploymentPublishers` (its accounts and
 * its principals' accounts); for a native event, also the accounts in the ARNs of the ECS services the endpoints name.
 */
export function deploymentAccountsOf(service: ServiceConfig, controllerAccount: string | undefined, native: boolean): string[] {
  const ecs = native ? service.endpoints.flatMap((e) => e.deploymentSources.ecsServices.map((arn) => arn.split(':')[4] ?? '')) : [];
  const accounts = [...(controllerAccount ? [controllerAccount] : []), ...publisherAccountsOf(service), ...ecs];
  return [...new Set(accounts.filter((a) => a !== ''))].sort();
}

/** Refuses a deployment event for a service from an account not allowed to act on it. */
export function publisherRefusal(service: ServiceConfig, account: string, controllerAccount: string | undefined, native: boolean): EventRefusal | undefined {
  const allowed = deploymentAccountsOf(service, controllerAccount, native);
  return allowed.includes(account) ? undefined : { code: 'ACCOUNT_NOT_ALLOWED', account, allowed, about: `service ${service.name}` };
}
