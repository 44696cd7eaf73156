/**
 * One CloudWatch dashboard per service: the weights the controller holds per endpoint, each
 * signal against its trip and clear thresholds (the Schmitt trigger made visible), decisions and
 * blocked actions, and the controller's own health (handler errors, dead-letter queues). And one
 * for the ticks (`<name>-ticks`): each shard's duration and lag behind the schedule, the services
 * it read and deferred, the schedule function's invocations, the shard ticks skipped, and the
 * alarm queue's backlog.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config, ServiceConfig, Signal } from '../functions/core/config.js';
import type { Shard } from '../functions/app/shardPlan.js';
import { ControllerMetricDimensions, ControllerMetrics } from './controllerMetrics.js';
import { alarmNameOf } from './eventRouting.js';

export interface ControllerDashboardProps {
  /** The controller's name; dashboards are named `<name>-<service>`. */
  readonly name: string;
  readonly config: Config;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** The shards of a tick: the ticks dashboard. @default no ticks dashboard */
  readonly shards?: readonly Shard[];
  /** The alarm queue, on the ticks dashboard: alarm events waiting for the alarm function. @default not shown */
  readonly alarmQueue?: sqs.IQueue;
}

const tripColor = '#d62728';
const clearColor = '#2ca02c';
const period = Duration.minutes(1);

function accountOfRole(roleArn: string | undefined): string | undefined {
  return roleArn?.split(':')[4];
}

/**
 * Alarm events waiting for the alarm function, and how old the oldest is: a storm shows as a
 * backlog the two invocations work through while the ticks drain the fleet (docs/runtime.md, "Alarm storms").
 */
function alarmQueueWidget(queue: sqs.IQueue): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title: 'Alarm queue: events waiting (left), age of the oldest in seconds (right)',
    left: [queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'waiting' })],
    right: [queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label: 'oldest (s)' })],
    width: 24,
    height: 6,
  });
}

/** The graph of one metric signal: the scaled value with its trip and clear lines. */
function signalWidget(endpointId: string, signal: Extract<Signal, { source: 'metric' }>): cloudwatch.GraphWidget {
  const query = signal.metric;
  const metric = new cloudwatch.Metric({
    namespace: query.namespace,
    metricName: query.metricName,
    dimensionsMap: { ...query.dimensions },
    statistic: query.statistic,
    period: Duration.seconds(query.periodSeconds),
    ...(query.region !== undefined ? { region: query.region } : {}),
    ...(accountOfRole(query.accountRoleArn) !== undefined ? { account: accountOfRole(query.accountRoleArn)! } : {}),
  });
  const label = `${endpointId} ${signal.name}${signal.unit ? ` (${signal.unit})` : ''}`;
  // Thresholds are in the signal's unit; the raw metric is scaled to match (µs → ms, summed GPU % → per GPU).
  const shown: cloudwatch.IMetric =
    signal.scale === 1
      ? metric.with({ label })
      : new cloudwatch.MathExpression({
          expression: `raw * ${signal.scale}`,
          usingMetrics: { raw: metric },
          label,
          period: Duration.seconds(query.periodSeconds),
        });
  return new cloudwatch.GraphWidget({
    title: `${endpointId}: ${signal.name} (${query.statistic})`,
    ...(query.region !== undefined ? { region: query.region } : {}),
    left: [shown],
    leftAnnotations: [
      { value: signal.trip, label: `trip ${signal.trip}${signal.unit}`, color: tripColor },
      { value: signal.clear, label: `clear ${signal.clear}${signal.unit}`, color: clearColor },
    ],
    width: 8,
    height: 6,
  });
}

/** A steer53 metric of the service being drawn. */
type ControllerMetricOf = (metricName: string, extra?: Record<string, string>, statistic?: string, label?: string) => cloudwatch.Metric;

export class ControllerDashboard extends Construct {
  readonly dashboards: cloudwatch.Dashboard[] = [];
  private alarmCount = 0;

  constructor(scope: Construct, id: string, props: ControllerDashboardProps) {
    super(scope, id);
    props.config.services.forEach((service, i) => {
      const dashboard = new cloudwatch.Dashboard(this, `Service${i}`, {
        dashboardName: `${props.name}-${service.name}`.replace(/[^A-Za-z0-9_-]/g, '-'),
        defaultInterval: Duration.hours(3),
      });
      this.addServiceWidgets(dashboard, service, props);
      this.dashboards.push(dashboard);
    });
    const schedule = props.functions.schedule;
    if (props.shards && schedule) this.dashboards.push(this.addTicksDashboard(props.name, props.shards, schedule, props.alarmQueue));
  }

  /** Per shard: how long its tick took and how late it started, what it read and deferred, and what was skipped. */
  private addTicksDashboard(name: string, shards: readonly Shard[], schedule: lambda.IFunction, alarmQueue: sqs.IQueue | undefined): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Ticks', {
      dashboardName: `${name}-ticks`.replace(/[^A-Za-z0-9_-]/g, '-'),
      defaultInterval: Duration.hours(3),
    });
    const perShard = (metricName: string, statistic: string) =>
      shards.map(
        (shard) =>
          new cloudwatch.Metric({
            namespace: ControllerMetrics.namespace,
            metricName,
            dimensionsMap: { [ControllerMetricDimensions.service]: ControllerMetrics.tickService, [ControllerMetricDimensions.shard]: shard.id },
            statistic,
            period,
            label: `${shard.id} (${shard.services.length} services, ${shard.zones.length} zones)`,
          }),
      );
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${name}: ticks\n${shards.length} shard(s) of at most ${Math.max(...shards.map((s) => s.services.length))} services; each shard is one invocation of the schedule function a tick, and must end well before its 50 s timeout.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Shard duration (ms, worst per minute)',
        left: perShard(ControllerMetrics.shardDuration, 'Maximum'),
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Shard lag behind the schedule (ms, worst per minute)',
        left: perShard(ControllerMetrics.shardLag, 'Maximum'),
        width: 12,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Services read / deferred (adaptive polling)',
        left: perShard(ControllerMetrics.servicesRead, 'Sum'),
        right: perShard(ControllerMetrics.servicesDeferred, 'Sum'),
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Schedule function, and ticks skipped',
        left: [
          schedule.metricInvocations({ period, statistic: 'Sum', label: 'invocations' }),
          schedule.metricErrors({ period, statistic: 'Sum', label: 'errors' }),
          schedule.metricThrottles({ period, statistic: 'Sum', label: 'throttles' }),
        ],
        right: [
          ...perShard(ControllerMetrics.staleShardTicks, 'Sum').map((m) => m.with({ label: `${m.label ?? ''} stale` })),
          ...perShard(ControllerMetrics.duplicateShardTicks, 'Sum').map((m) => m.with({ label: `${m.label ?? ''} delivered twice` })),
        ],
        width: 12,
        height: 6,
      }),
    );
    if (alarmQueue) dashboard.addWidgets(alarmQueueWidget(alarmQueue));
    return dashboard;
  }

  /** Top to bottom: what the service is, its weights and decisions, its signals, then what the controller did and what failed. */
  private addServiceWidgets(dashboard: cloudwatch.Dashboard, service: ServiceConfig, props: ControllerDashboardProps): void {
    const controllerMetric = (metricName: string, extra: Record<string, string> = {}, statistic = 'Sum', label?: string) =>
      new cloudwatch.Metric({
        namespace: ControllerMetrics.namespace,
        metricName,
        dimensionsMap: { [ControllerMetricDimensions.service]: service.name, ...extra },
        statistic,
        period,
        ...(label ? { label } : {}),
      });
    this.addOverview(dashboard, service, controllerMetric);
    this.addSignals(dashboard, service);
    this.addOperations(dashboard, service, props, controllerMetric);
  }

  private addOverview(dashboard: cloudwatch.Dashboard, service: ServiceConfig, controllerMetric: ControllerMetricOf): void {
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${service.name}: ${service.dnsName} ${service.recordType}\nHosted zone \`${service.hostedZoneId}\` · ${service.endpoints.length} endpoints · weights 0–255 (Route 53 splits traffic in proportion).`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Weights per endpoint',
        left: service.endpoints.map((endpoint) =>
          controllerMetric(
            ControllerMetrics.weight,
            { [ControllerMetricDimensions.endpoint]: endpoint.setIdentifier },
            'Maximum',
            `${endpoint.setIdentifier} (baseline ${endpoint.baselineWeight})`,
          ),
        ),
        leftYAxis: { min: 0, max: 255 },
        stacked: false,
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Decisions and blocked actions',
        left: [
          controllerMetric(ControllerMetrics.decisions, {}, 'Sum', 'evaluations decided'),
          controllerMetric(ControllerMetrics.weightChanges, {}, 'Sum', 'weight changes written'),
          controllerMetric(ControllerMetrics.blockedActions, {}, 'Sum', 'blocked by a safety rule'),
          controllerMetric(ControllerMetrics.driftDetected, {}, 'Sum', 'drift detected'),
        ],
        width: 12,
        height: 6,
      }),
    );
  }

  /** A graph per metric signal against its thresholds (three to a row), and the states of the alarm signals. */
  private addSignals(dashboard: cloudwatch.Dashboard, service: ServiceConfig): void {
    const signalWidgets: cloudwatch.IWidget[] = [];
    const alarms: cloudwatch.IAlarm[] = [];
    for (const endpoint of service.endpoints) {
      for (const signal of endpoint.signals) {
        if (signal.source === 'metric') {
          signalWidgets.push(signalWidget(endpoint.setIdentifier, signal));
        } else {
          const name = alarmNameOf(signal.alarm);
          const arn =
            signal.alarm.arn ??
            `arn:${dashboard.stack.partition}:cloudwatch:${signal.alarm.region ?? endpoint.region}:${dashboard.stack.account}:alarm:${name}`;
          alarms.push(cloudwatch.Alarm.fromAlarmArn(this, `AlarmSignal${this.alarmCount++}`, arn));
        }
      }
    }
    // Three signal graphs per row.
    for (let i = 0; i < signalWidgets.length; i += 3) dashboard.addWidgets(...signalWidgets.slice(i, i + 3));
    if (alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarm signals', alarms, width: 24, height: 3 }));
  }

  private addOperations(dashboard: cloudwatch.Dashboard, service: ServiceConfig, props: ControllerDashboardProps, controllerMetric: ControllerMetricOf): void {
    // What changed and why, newest first: the handlers log one `evaluated` line per evaluation
    // (functions/handlers/edge.ts), with the decision's reason and blocked codes.
    const logGroups = Object.values(props.functions).map((fn) => (fn as lambda.Function).logGroup.logGroupName);
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Recent evaluations (reasons, blocked actions, changes)',
        logGroupNames: logGroups,
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        queryLines: [
          'fields @timestamp, status, mode, reasons.0, reasons.1, blocked.0, changes.0.setIdentifier, changes.0.from, changes.0.to, decisionId',
          `filter message = "evaluated" and @message like '"service":"${service.name}"'`,
          'sort @timestamp desc',
          'limit 50',
        ],
        width: 24,
        height: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Controller errors',
        left: [
          controllerMetric(ControllerMetrics.errors, {}, 'Sum', 'failed evaluations'),
          controllerMetric(ControllerMetrics.notificationFailures, {}, 'Sum', 'notifications not sent'),
          ...Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: `${name} handler errors` })),
        ],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues (messages waiting)',
        left: Object.entries(props.deadLetterQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: name }),
        ),
        width: 12,
        height: 6,
      }),
    );
  }
}
