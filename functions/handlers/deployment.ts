/**
 * Lambda entry for deployment events. Thin: parse the event, hand it to the use case, log the outcome.
 * (Initial wiring; the use case is connected as it lands.)
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export interface DeploymentHandlerDeps {
  readonly logger: Logger;
  readonly handle: (event: unknown) => Promise<unknown>;
}

export function createDeploymentHandler(deps: DeploymentHandlerDeps) {
  return middy(async (event: unknown) => deps.handle(event)).use(injectLambdaContext(deps.logger));
}

const logger = new Logger({ serviceName: 'steer53' });

export const handler = createDeploymentHandler({
  logger,
  handle: async (event) => {
    logger.info('received deployment event', { event });
    return { ok: true };
  },
});
