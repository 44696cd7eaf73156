import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deploymentEventJsonSchema, SCHEMA_PATH } from '../../../scripts/deploymentEventSchema.js';
import { DeploymentDetailTypes } from '../../../functions/events/deploymentEvent.js';
import { NativeDeploymentSources } from '../../../functions/events/nativeDeploymentEvents.js';

describe('docs/schemas/deployment-event.schema.json', () => {
  it('is what the zod schema generates (regenerate with npm run schema:deployment-event)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(deploymentEventJsonSchema());
  });

  it('names every detail type and refuses unknown detail keys', () => {
    const schema = JSON.parse(deploymentEventJsonSchema()) as {
      oneOf: { properties: { 'detail-type': { enum: string[] }; detail: { additionalProperties: boolean } } }[];
    };
    expect(schema.oneOf.flatMap((o) => o.properties['detail-type'].enum).sort()).toEqual(Object.values(DeploymentDetailTypes).sort());
    expect(schema.oneOf.every((o) => o.properties.detail.additionalProperties === false)).toBe(true);
  });
});

describe('docs/deployment-events.md', () => {
  const docs = readFileSync(new URL('../../../docs/deployment-events.md', import.meta.url), 'utf8');
  it.each([
    ...Object.values(DeploymentDetailTypes),
    ...Object.values(NativeDeploymentSources).map((s) => s.detailType),
    'Rollback Requested',
    'Rollout Succeeded',
  ])('documents "%s"', (name) => {
    expect(docs).toContain(name);
  });

  it.each([
    '--service',
    '--endpoint',
    '--phase',
    '--version',
    '--pipeline-execution-id',
    '--idempotency-key',
    '--event-bus',
    '--region',
    '--dry-run',
    '--reason',
  ])('documents the CLI option %s', (flag) => {
    expect(docs).toContain(flag);
  });
});
