/**
 * Deployments in the world: a pipeline deploys a new version to one endpoint, emits its phase
 * events (started, then succeeded or failed, then rolled-back when it rolls back), and listens
 * for steer53's `Rollback Requested`. What the endpoint serves follows the pipeline: the old
 * version, the endpoint while it deploys (down, or with part of its capacity), then the new
 * version — with its own latency, capacity and errors — until it is rolled back.
 *
 * A rollback depends on what the controller asked for, so each controller run has its own
 * `PipelineSim`; the scenario holds only the resolved deployments. Everything is keyed to
 * simulated time: the same scenario, seed and controller give the same timeline.
 */
import type { DeploymentPhase, DeploymentSignal } from '../functions/core/types.js';
import type { RegionCondition } from './latencyModel.js';
import type { IncidentSpec } from './scenarioSchema.js';

export type DeploymentSpec = Extract<IncidentSpec, { kind: 'deployment' }>;

/** A deployment with its times resolved and its endpoint as an index. */
export interface Deployment {
  readonly spec: DeploymentSpec;
  /** Its index in the scenario's `incidents`. */
  readonly index: number;
  readonly label: string;
  readonly region: number;
  readonly endpoint: string;
  readonly version: string;
  readonly pipelineExecutionId: string;
  /** Seconds from the scenario start: `started`, and the outcome event. */
  readonly start: number;
  readonly outcomeAt: number;
  /** The new version behaves worse than the old one, or the endpoint loses capacity while it deploys. */
  readonly harmful: boolean;
  /** The new version behaves worse (the canary should fail). */
  readonly badVersion: boolean;
}

export function resolveDeployment(spec: DeploymentSpec, index: number, endpoints: readonly string[], scenarioName: string): Deployment {
  const nv = spec.newVersion;
  const badVersion = spec.outcome === 'succeeded' && (nv.latencyFactor > 1 || nv.capacityFactor < 1 || nv.errorRate > 0);
  return {
    spec,
    index,
    label: spec.label ?? `${spec.region} deploys ${spec.version}`,
    region: endpoints.indexOf(spec.region),
    endpoint: spec.region,
    version: spec.version,
    pipelineExecutionId: spec.pipelineExecutionId ?? `sim-${scenarioName}-${index}`,
    start: spec.start,
    outcomeAt: spec.start + spec.duration,
    harmful: badVersion || spec.whileDeploying.down || spec.whileDeploying.capacityFactor < 1,
    badVersion,
  };
}

/** What the endpoint of a deployment serves at a time. */
export type Serving = 'old' | 'deploying' | 'new';

/** One thing that happened in a rollout, for the report and the timeline. */
export interface RolloutMark {
  /** Seconds from the scenario start. */
  readonly t: number;
  readonly deployment: number;
  readonly endpoint: string;
  readonly version: string;
  /** A pipeline phase, or what steer53 published. */
  readonly what: Exclude<DeploymentPhase, 'abort' | 'promote'> | 'Rollback Requested' | 'Rollout Succeeded';
  readonly by: 'pipeline' | 'steer53';
  /** A redelivery of an event already delivered. */
  readonly duplicate?: boolean;
}

interface Scheduled {
  readonly at: number;
  readonly deployment: number;
  readonly phase: Exclude<DeploymentPhase, 'abort' | 'promote'>;
  /** The event's own time (a redelivery keeps it). */
  readonly eventAt: number;
  readonly duplicate: boolean;
}

/** The pipelines of one controller run. */
export class PipelineSim {
  /** Every phase event emitted and every rollout event steer53 published, in time order. */
  readonly marks: RolloutMark[] = [];
  private readonly schedule: Scheduled[] = [];
  private readonly outbox: DeploymentSignal[] = [];
  /** When each deployment's endpoint was back on the old version (rolled back), by deployment. */
  private readonly rolledBackAt: (number | null)[];
  /** When a rollback was asked for (by steer53, or the failure itself), by deployment. */
  private readonly rollbackAskedAt: (number | null)[];
  private readonly cancelledAt: (number | null)[];

  constructor(
    readonly deployments: readonly Deployment[],
    private readonly startMs: number,
  ) {
    this.rolledBackAt = deployments.map(() => null);
    this.rollbackAskedAt = deployments.map(() => null);
    this.cancelledAt = deployments.map(() => null);
    deployments.forEach((d, i) => {
      this.add({ at: d.start, deployment: i, phase: 'started', eventAt: d.start, duplicate: false });
      this.add({ at: d.outcomeAt, deployment: i, phase: d.spec.outcome, eventAt: d.outcomeAt, duplicate: false });
      if (d.spec.outcome === 'failed' && d.spec.rollback.afterFailure) this.askRollback(i, d.outcomeAt);
      if (d.spec.rollback.at !== undefined) this.askRollback(i, d.spec.rollback.at);
      for (const again of d.spec.redeliver) {
        const eventAt = again.phase === 'started' ? d.start : again.phase === 'rolled-back' ? null : d.outcomeAt;
        // A redelivered rolled-back carries the time of the rollback; it is resolved when due.
        this.add({ at: again.at, deployment: i, phase: again.phase, eventAt: eventAt ?? -1, duplicate: true });
      }
    });
  }

  get hasDeployments(): boolean {
    return this.deployments.length > 0;
  }

  private add(item: Scheduled): void {
    let i = this.schedule.length;
    while (i > 0 && this.schedule[i - 1]!.at > item.at) i--;
    this.schedule.splice(i, 0, item);
  }

  /** The pipeline starts rolling back deployment i at time t: the earliest reason to do so wins. */
  private askRollback(i: number, t: number): void {
    const asked = this.rollbackAskedAt[i] ?? null;
    if (asked !== null && asked <= t) return;
    if (asked !== null) {
      // A rollback planned for later (after a failure, or at a set time) comes sooner.
      const planned = this.schedule.findIndex((item) => item.deployment === i && item.phase === 'rolled-back' && !item.duplicate);
      if (planned >= 0) this.schedule.splice(planned, 1);
    }
    const d = this.deployments[i]!;
    this.rollbackAskedAt[i] = t;
    // Asked before the outcome: the pipeline cancels the deployment (no outcome event).
    this.cancelledAt[i] = t < d.outcomeAt ? t : null;
    const done = t + d.spec.rollback.delay;
    this.rolledBackAt[i] = done;
    this.add({ at: done, deployment: i, phase: 'rolled-back', eventAt: done, duplicate: false });
  }

  /** Emits the events due by time t (the world calls it every step, before the controller). */
  advance(t: number): void {
    while (this.schedule.length > 0 && this.schedule[0]!.at <= t) {
      const item = this.schedule.shift()!;
      const d = this.deployments[item.deployment]!;
      const cancelled = this.cancelledAt[item.deployment] ?? null;
      if (!item.duplicate && item.phase === d.spec.outcome && cancelled !== null && cancelled <= item.at) continue;
      let eventAt = item.eventAt;
      if (item.phase === 'rolled-back' && item.duplicate) {
        const done = this.rolledBackAt[item.deployment] ?? null;
        if (done === null || done > item.at) continue; // nothing rolled back yet: nothing to deliver again
        eventAt = done;
      }
      this.outbox.push({
        endpoint: d.endpoint,
        version: d.version,
        phase: item.phase,
        at: this.startMs + eventAt * 1000,
        idempotencyKey: `${d.pipelineExecutionId}-${item.phase}`,
        pipelineExecutionId: d.pipelineExecutionId,
      });
      this.marks.push({
        t: item.at,
        deployment: item.deployment,
        endpoint: d.endpoint,
        version: d.version,
        what: item.phase,
        by: 'pipeline',
        ...(item.duplicate ? { duplicate: true } : {}),
      });
    }
  }

  /** The events delivered to the controller since it last asked (an EventBridge rule's target). */
  take(): DeploymentSignal[] {
    return this.outbox.splice(0, this.outbox.length);
  }

  /** A delivery the controller could not apply yet: EventBridge (Lambda's retry) delivers it again. */
  redeliver(signal: DeploymentSignal): void {
    this.outbox.push(signal);
  }

  /** steer53 published an event for the pipeline at time t. */
  published(t: number, type: 'Rollback Requested' | 'Rollout Succeeded', endpoint: string, version: string): void {
    const i = this.deployments.findIndex((d) => d.endpoint === endpoint && d.version === version);
    this.marks.push({ t, deployment: i, endpoint, version, what: type, by: 'steer53' });
    if (i < 0 || type !== 'Rollback Requested') return;
    if (!this.deployments[i]!.spec.rollback.onRequest) return;
    this.askRollback(i, t);
  }

  /** What deployment `i`'s endpoint serves at time t. */
  serving(i: number, t: number): Serving {
    const d = this.deployments[i]!;
    if (t < d.start) return 'old';
    const back = this.rolledBackAt[i] ?? null;
    if (back !== null && t >= back) return 'old';
    const cancelled = this.cancelledAt[i] ?? null;
    if (t < d.outcomeAt || (cancelled !== null && cancelled < d.outcomeAt)) return 'deploying';
    return d.spec.outcome === 'succeeded' ? 'new' : 'old';
  }

  /** When deployment i was rolled back (the old version serving again); null if it was not (yet) by t. */
  rolledBack(i: number, t = Infinity): number | null {
    const back = this.rolledBackAt[i] ?? null;
    return back !== null && back <= t ? back : null;
  }

  /** Region r's condition at time t: `base` (the scenario's other incidents) with its deployments applied. */
  condition(base: RegionCondition, r: number, t: number): RegionCondition {
    let condition = base;
    this.deployments.forEach((d, i) => {
      if (d.region !== r) return;
      const serving = this.serving(i, t);
      if (serving === 'old') return;
      const c = { ...condition };
      if (serving === 'deploying') {
        if (d.spec.whileDeploying.down) {
          c.down = true;
          c.errorRate = 1;
        }
        c.capacityFactor *= d.spec.whileDeploying.capacityFactor;
      } else {
        const nv = d.spec.newVersion;
        c.latencyFactor *= nv.latencyFactor;
        c.capacityFactor *= nv.capacityFactor;
        c.errorRate = 1 - (1 - c.errorRate) * (1 - nv.errorRate);
      }
      condition = c;
    });
    return condition;
  }
}
