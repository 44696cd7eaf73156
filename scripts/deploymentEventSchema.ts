/**
 * Writes docs/schemas/deployment-event.schema.json: the JSON Schema of the steer53 deployment
 * event, generated from the zod schema the deployment handler parses with (one source of truth).
 * `npm run schema:deployment-event`; a test fails when the checked-in file differs from this.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { deploymentEventSchema } from '../functions/events/deploymentEvent.js';

export const SCHEMA_PATH = fileURLToPath(new URL('../docs/schemas/deployment-event.schema.json', import.meta.url));

/** The schema as JSON text, exactly as checked in. */
export function deploymentEventJsonSchema(): string {
  // `input`: what a producer may send (an EventBridge envelope may carry fields steer53 does not read).
  const schema = z.toJSONSchema(deploymentEventSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_PATH, deploymentEventJsonSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
