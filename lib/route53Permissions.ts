/**
 * The Route 53 write permission, narrowed to the records steer53 manages. IAM can restrict
 * ChangeResourceRecordSets by the normalized names, types and actions in the change batch
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html);
 * the keys are multi-valued (one value per change), so `ForAllValues:StringEquals` requires
 * every change in a batch to be one of ours.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Config } from '../functions/core/config.js';

/** The condition keys Route 53 evaluates for ChangeResourceRecordSets. */
export const Route53ConditionKeys = {
  names: 'route53:ChangeResourceRecordSetsNormalizedRecordNames',
  types: 'route53:ChangeResourceRecordSetsRecordTypes',
  actions: 'route53:ChangeResourceRecordSetsActions',
} as const;

/**
 * A DNS name as Route 53 normalizes it for IAM conditions: lowercase, no trailing dot, and every
 * character other than a–z, 0–9, `-`, `_` and `.` written as a three-digit octal escape
 * (`*.example.com` → `\052.example.com`).
 */
export function normalizeRecordName(name: string): string {
  let out = '';
  for (const char of name.toLowerCase().replace(/\.$/, '')) {
    out += /[a-z0-9_.-]/.test(char) ? char : `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** The records one hosted zone holds for steer53: names and types, sorted for stable templates. */
export interface ZoneRecords {
  readonly hostedZoneId: string;
  readonly names: readonly string[];
  readonly types: readonly string[];
}

/**
 * Groups the configured services by hosted zone. One statement per zone (not per service)
 * because the controller batches every change of a zone into one ChangeResourceRecordSets call
 * (Route 53 throttles per account), and IAM judges a batch against one statement at a time.
 */
export function zoneRecords(config: Config): ZoneRecords[] {
  const byZone = new Map<string, { names: Set<string>; types: Set<string> }>();
  for (const service of config.services) {
    const zone = byZone.get(service.hostedZoneId) ?? { names: new Set<string>(), types: new Set<string>() };
    zone.names.add(normalizeRecordName(service.dnsName));
    zone.types.add(service.recordType);
    byZone.set(service.hostedZoneId, zone);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([hostedZoneId, zone]) => ({ hostedZoneId, names: [...zone.names].sort(), types: [...zone.types].sort() }));
}

export function hostedZoneArn(hostedZoneId: string, partition: string): string {
  // Route 53 is global: hosted zone ARNs have neither region nor account.
  return `arn:${partition}:route53:::hostedzone/${hostedZoneId}`;
}

/**
 * Every Route 53 health check: the records' health checks are known only at run time, from their
 * `HealthCheckId` (functions/app/healthChecks.ts), whoever attached them, so no list of ARNs can
 * name them. Route 53 is global: health check ARNs have neither region nor account.
 */
export function anyHealthCheckArn(partition: string): string {
  return `arn:${partition}:route53:::healthcheck/*`;
}

/** The Sid of the statement that lets the controller read its records' health checks: their configuration and status. */
export const ReadHealthCheckStatusSid = 'ReadHealthCheckStatus';

/**
 * The statements the controller needs on Route 53: UPSERT of its own weighted records, listing
 * the record sets of its own zones (to read the weights Route 53 holds now), and reading the
 * configuration and the status of the health checks on those records (and of a calculated
 * one's children).
 */
export function route53Statements(config: Config, partition: string): iam.PolicyStatement[] {
  const zones = zoneRecords(config);
  const statements = zones.map(
    (zone) =>
      new iam.PolicyStatement({
        sid: `UpsertManagedRecords${zone.hostedZoneId}`,
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [hostedZoneArn(zone.hostedZoneId, partition)],
        conditions: {
          'ForAllValues:StringEquals': {
            [Route53ConditionKeys.names]: zone.names,
            [Route53ConditionKeys.types]: zone.types,
            [Route53ConditionKeys.actions]: ['UPSERT'],
          },
          // ForAllValues is also true when a key is absent; require every key to be present so
          // the statement can never grant an unconditioned write.
          Null: {
            [Route53ConditionKeys.names]: 'false',
            [Route53ConditionKeys.types]: 'false',
            [Route53ConditionKeys.actions]: 'false',
          },
        },
      }),
  );
  statements.push(
    new iam.PolicyStatement({
      sid: 'ReadManagedZones',
      actions: ['route53:ListResourceRecordSets'],
      resources: zones.map((zone) => hostedZoneArn(zone.hostedZoneId, partition)),
    }),
    new iam.PolicyStatement({
      sid: ReadHealthCheckStatusSid,
      // Read-only, and only for endpoints drained for failing or just restored: the configuration
      // (type, inversion, a calculated check's children), the checkers' reports, and their last
      // failures. Route 53 has no condition key to narrow them; the ids come from the records at
      // run time (anyHealthCheckArn).
      actions: ['route53:GetHealthCheck', 'route53:GetHealthCheckStatus', 'route53:GetHealthCheckLastFailureReason'],
      resources: [anyHealthCheckArn(partition)],
    }),
  );
  return statements;
}
