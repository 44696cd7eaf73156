/**
 * The CloudWatch alarm behind a static-stability health check. Route 53 reads it by name and
 * region, so it can live in the endpoint's region (an AlarmForwarder stack creates it there) or in
 * the controller's. Route 53 cannot use alarms on percentile statistics; props validation rejects
 * them before this is reached.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { EndpointHealthCheck, HealthCheckMetricAlarm } from './trafficControllerProps.js';

/** The name of the health alarm of one endpoint: fixed, so the health check can name it across stacks. */
export function healthAlarmName(controllerName: string, service: string, setIdentifier: string): string {
  return `${controllerName}-health-${service}-${setIdentifier}`;
}

export function createHealthAlarm(scope: Construct, id: string, alarmName: string, spec: HealthCheckMetricAlarm, purpose: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmName,
    alarmDescription: `Backs the Route 53 health check of ${purpose} (static stability): ALARM drains the record even when the controller is down.`,
    metric: new cloudwatch.Metric({
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensionsMap: { ...(spec.dimensions ?? {}) },
      statistic: spec.statistic,
      period: spec.period ?? Duration.minutes(1),
    }),
    threshold: spec.threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: spec.evaluationPeriods ?? 3,
    // Missing data keeps the alarm's state; the health check's insufficient-data setting decides
    // what Route 53 assumes meanwhile.
    treatMissingData: cloudwatch.TreatMissingData.MISSING,
  });
}

/**
 * What Route 53 checks for one endpoint: the alarm the construct created (`created`), the alarm the
 * check names, or HTTP(S) requests to the endpoint (SNI on for HTTPS, so a TLS front end answers
 * with the right certificate).
 */
export function healthCheckConfig(
  check: EndpointHealthCheck,
  created: { readonly name: string; readonly region: string } | undefined,
  endpointRegion: string,
): route53.CfnHealthCheck.HealthCheckConfigProperty {
  const http = check.http;
  if (http !== undefined) {
    const protocol = http.protocol ?? 'HTTPS';
    return {
      type: protocol,
      fullyQualifiedDomainName: http.fqdn,
      resourcePath: http.path ?? '/health',
      port: http.port ?? (protocol === 'HTTPS' ? 443 : 80),
      requestInterval: http.requestIntervalSeconds ?? 30,
      failureThreshold: http.failureThreshold ?? 3,
      ...(protocol === 'HTTPS' ? { enableSni: true } : {}),
    };
  }
  return {
    type: 'CLOUDWATCH_METRIC',
    alarmIdentifier: created ?? { name: check.alarmName!, region: check.alarmRegion ?? endpointRegion },
    insufficientDataHealthStatus: check.insufficientDataHealthStatus ?? 'LastKnownStatus',
  };
}
