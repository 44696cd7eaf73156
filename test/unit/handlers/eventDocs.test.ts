import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { driftDetectedDetailSchema, shiftBlockedDetailSchema, trafficShiftedDetailSchema } from '../../../functions/events/controllerEvents.js';
import { deploymentDetailSchema } from '../../../functions/events/deploymentEvent.js';

const docs = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');

describe('docs/events.md', () => {
  it.each([
    ['Traffic Shifted', trafficShiftedDetailSchema],
    ['Shift Blocked', shiftBlockedDetailSchema],
    ['Drift Detected', driftDetectedDetailSchema],
    ['steer53.deployment', deploymentDetailSchema],
  ])('documents every detail field of %s', (_, schema) => {
    for (const field of Object.keys(schema.shape)) expect(docs).toContain(`| \`${field}\` |`);
  });
});
