/**
 * A deployment event: recorded in the service's audit log. (Rollout behaviour, draining and
 * ramping an endpoint around a deployment, is its own piece of work and builds on this.) The
 * entry is keyed by the event's time and idempotency key, so a duplicate delivery writes the same
 * entry again rather than a second one.
 */
import type { DeploymentDetail, DeploymentDetailType } from '../events/deploymentEvent.js';
import { AuditKinds, AuditStatuses } from '../ports/stateStore.js';
import type { Runtime } from './runtime.js';

export interface DeploymentNotice {
  readonly detailType: DeploymentDetailType;
  readonly detail: DeploymentDetail;
  /** The event's time. */
  readonly time: number;
  /** The EventBridge event id. */
  readonly eventId: string;
}

export type DeploymentOutcome =
  | { readonly recorded: true; readonly service: string; readonly endpoint: string; readonly auditId: string }
  | { readonly recorded: false; readonly problem: string };

export async function recordDeployment(rt: Runtime, event: DeploymentNotice): Promise<DeploymentOutcome> {
  const { detail } = event;
  const service = rt.config.services.find((s) => s.name === detail.service);
  if (!service) return { recorded: false, problem: `detail.service: no service "${detail.service}" in the config (known: ${rt.config.services.map((s) => s.name).join(', ')})` };
  if (!service.endpoints.some((e) => e.setIdentifier === detail.endpoint)) {
    return {
      recorded: false,
      problem: `detail.endpoint: service "${service.name}" has no endpoint "${detail.endpoint}" (known: ${service.endpoints.map((e) => e.setIdentifier).join(', ')})`,
    };
  }
  const auditId = `deployment-${detail.idempotencyKey}`;
  await rt.store.putAudit({
    service: service.name,
    id: auditId,
    at: event.time,
    kind: AuditKinds.DEPLOYMENT,
    status: AuditStatuses.RECORDED,
    actor: detail.pipelineExecutionId ? `pipeline ${detail.pipelineExecutionId}` : 'pipeline',
    summary: `${service.dnsName}: ${event.detailType} on ${detail.endpoint}, version ${detail.version}`,
    detail: { detailType: event.detailType, ...detail, eventId: event.eventId, recordedAt: rt.clock.now() },
  });
  return { recorded: true, service: service.name, endpoint: detail.endpoint, auditId };
}
