import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  capacityRequestedDetailSchema,
  driftDetectedDetailSchema,
  overrideChangedDetailSchema,
  rollbackRequestedDetailSchema,
  rolloutSucceededDetailSchema,
  shiftBlockedDetailSchema,
  trafficShiftedDetailSchema,
} from '../../../functions/events/controllerEvents.js';
import { deploymentDetailSchema, operatorDetailSchema } from '../../../functions/events/deploymentEvent.js';

const docs = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');

describe('docs/events.md', () => {
  it.each([
    ['Traffic Shifted', trafficShiftedDetailSchema],
    ['Shift Blocked', shiftBlockedDetailSchema],
    ['Drift Detected', driftDetectedDetailSchema],
    ['Rollback Requested', rollbackRequestedDetailSchema],
    ['Rollout Succeeded', rolloutSucceededDetailSchema],
    ['Override Changed', overrideChangedDetailSchema],
    ['Capacity Requested', capacityRequestedDetailSchema],
    ['steer53.deployment', deploymentDetailSchema],
    ['steer53.deployment (operator)', operatorDetailSchema],
  ])('documents every detail field of %s', (_, schema) => {
    for (const field of Object.keys(schema.shape)) expect(docs).toContain(`| \`${field}\` |`);
  });
});
