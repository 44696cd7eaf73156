/**
 * Lambda entry for alarm events. Thin: parse the event, hand it to the use case, log the outcome.
 * (Initial wiring; the use case is connected as it lands.)
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export interface AlarmHandlerDeps {
  readonly logger: Logger;
  readonly handle: (event: unknown) => Promise<unknown>;
}

export function createAlarmHandler(deps: AlarmHandlerDeps) {
  return middy(async (event: unknown) => deps.handle(event)).use(injectLambdaContext(deps.logger));
}

const logger = new Logger({ serviceName: 'steer53' });

export const handler = createAlarmHandler({
  logger,
  handle: async (event) => {
    logger.info('received alarm event', { event });
    return { ok: true };
  },
});
