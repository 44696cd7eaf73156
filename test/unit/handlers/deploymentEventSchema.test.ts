import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deploymentEventJsonSchema, SCHEMA_PATH } from '../../../scripts/deploymentEventSchema.js';
import { DeploymentDetailTypes } from '../../../functions/events/deploymentEvent.js';

describe('docs/schemas/deployment-event.schema.json', () => {
  it('is what the zod schema generates (regenerate with npm run schema:deployment-event)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(deploymentEventJsonSchema());
  });

  it('names every detail type and refuses unknown detail keys', () => {
    const schema = JSON.parse(deploymentEventJsonSchema()) as { oneOf: { properties: { 'detail-type': { enum: string[] }; detail: { additionalProperties: boolean } } }[] };
    expect(schema.oneOf.flatMap((o) => o.properties['detail-type'].enum).sort()).toEqual(Object.values(DeploymentDetailTypes).sort());
    expect(schema.oneOf.every((o) => o.properties.detail.additionalProperties === false)).toBe(true);
  });
});
