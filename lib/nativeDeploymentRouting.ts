/**
 * The native deployment events to route to the deployment function, read from the config: each
 * endpoint's `deploymentSources` (ECS services, CodeDeploy deployment groups, SageMaker endpoints,
 * CodePipeline pipelines) becomes the `NativeDeploymentSource`s the rules and forwarders are built
 * from. The config is the one place an endpoint's deployments are named; the handler maps events
 * with the same lists (functions/app/nativeDeployments.ts), so what is routed is what is mapped.
 */
import type { Config } from '../functions/core/config.js';
import type { NativeDeploymentSource } from './eventRouting.js';

/** The region in an ARN (`arn:partition:service:region:account:…`). */
function regionOfArn(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

/**
 * One source per endpoint and region its deployments are published in (an ECS service's region is
 * in its ARN; the other sources are taken to live in the endpoint's region), one per CodeDeploy
 * deployment group (a group narrows its own application only), plus any sources given by hand.
 */
export function nativeDeploymentSourcesOf(config: Config, extra: readonly NativeDeploymentSource[] = []): NativeDeploymentSource[] {
  const sources: NativeDeploymentSource[] = [];
  for (const service of config.services) {
    for (const endpoint of service.endpoints) {
      const { ecsServices, codeDeployDeploymentGroups, sagemakerEndpoints, codePipelines } = endpoint.deploymentSources;
      const at = { service: service.name, setIdentifier: endpoint.setIdentifier };
      const ecsByRegion = new Map<string, string[]>();
      for (const arn of ecsServices) {
        const region = regionOfArn(arn) ?? endpoint.region;
        ecsByRegion.set(region, [...(ecsByRegion.get(region) ?? []), arn]);
      }
      for (const [region, arns] of [...ecsByRegion].sort(([a], [b]) => a.localeCompare(b))) sources.push({ ...at, ecsServiceArns: arns, region });
      for (const group of codeDeployDeploymentGroups) {
        sources.push({ ...at, codeDeployApplications: [group.application], codeDeployDeploymentGroups: [group.deploymentGroup], region: endpoint.region });
      }
      if (sagemakerEndpoints.length > 0) sources.push({ ...at, sageMakerEndpointNames: [...sagemakerEndpoints], region: endpoint.region });
      if (codePipelines.length > 0) sources.push({ ...at, pipelineNames: [...codePipelines], region: endpoint.region });
    }
  }
  return [...sources, ...extra];
}
