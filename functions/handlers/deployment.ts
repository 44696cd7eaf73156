/**
 * Lambda entry: steer53 deployment events (`source: "steer53.deployment"`). Until rollouts are
 * built, a deployment is recorded in the service's audit log (idempotently: a duplicate delivery
 * rewrites the same entry).
 */
import type { Context } from 'aws-lambda';
import { problemsOf } from '../core/config.js';
import { recordDeployment } from '../app/recordDeployment.js';
import { deploymentEventSchema } from '../events/deploymentEvent.js';
import { defaultDeps, rejectMalformed, wrap, type HandlerDeps } from './edge.js';

export type DeploymentHandlerResult =
  | { status: 'rejected'; problems: readonly { path: string; message: string }[] }
  | { status: 'ignored'; reason: string }
  | { status: 'recorded'; service: string; endpoint: string; auditId: string };

/**
 * Native deployment events (ECS, CodeDeploy, SageMaker, CodePipeline) the construct can route
 * here. Mapping them to an endpoint needs the construct's `nativeDeploymentSources`, which the
 * function does not receive yet; until it does they are acknowledged, not mistaken for malformed.
 */
const NATIVE_DEPLOYMENT_SOURCES: Readonly<Record<string, string>> = {
  'aws.ecs': 'ECS Deployment State Change',
  'aws.codedeploy': 'CodeDeploy Deployment State-change Notification',
  'aws.sagemaker': 'SageMaker Endpoint Deployment State Change',
  'aws.codepipeline': 'CodePipeline Pipeline Execution State Change',
};

function nativeDeployment(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { source, 'detail-type': detailType } = event as { source?: unknown; 'detail-type'?: unknown };
  return typeof source === 'string' && Object.hasOwn(NATIVE_DEPLOYMENT_SOURCES, source) && NATIVE_DEPLOYMENT_SOURCES[source] === detailType ? `${source} ${detailType}` : undefined;
}

export function createDeploymentHandler(deps: HandlerDeps) {
  return wrap(deps, async (event: unknown, _context: Context): Promise<DeploymentHandlerResult> => {
    const parsed = deploymentEventSchema.safeParse(event);
    if (typeof event === 'object' && event !== null && typeof (event as { id?: unknown }).id === 'string') deps.logger.setCorrelationId((event as { id: string }).id);
    if (!parsed.success) {
      const native = nativeDeployment(event);
      if (native) {
        deps.logger.info('native deployment event received; mapping native events to endpoints is not built yet, nothing recorded', { event: native });
        return { status: 'ignored', reason: `${native}: native deployment events are not mapped to endpoints yet` };
      }
      return rejectMalformed(deps, 'deployment event', problemsOf(parsed.error));
    }

    const rt = await deps.runtime();
    const outcome = await recordDeployment(rt, {
      detailType: parsed.data['detail-type'],
      detail: parsed.data.detail,
      time: Date.parse(parsed.data.time),
      eventId: parsed.data.id,
    });
    // A deployment naming a service or endpoint the config does not have will not get better on retry.
    if (!outcome.recorded) return rejectMalformed(deps, 'deployment event', [{ path: outcome.problem.split(':')[0]!, message: outcome.problem.slice(outcome.problem.indexOf(':') + 2) }]);
    deps.logger.info('deployment recorded', { service: outcome.service, endpoint: outcome.endpoint, detailType: parsed.data['detail-type'], version: parsed.data.detail.version, auditId: outcome.auditId });
    return { status: 'recorded', service: outcome.service, endpoint: outcome.endpoint, auditId: outcome.auditId };
  });
}

export const handler = createDeploymentHandler(defaultDeps());
