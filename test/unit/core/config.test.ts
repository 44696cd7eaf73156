import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../functions/core/config.js';

describe('parseConfig', () => {
  it('reports the clear threshold on the wrong side of trip with its path', () => {
    const result = parseConfig({
      services: [
        {
          name: 'chat',
          dnsName: 'chat.example.com',
          hostedZoneId: 'Z0123456789ABC',
          endpoints: [
            { setIdentifier: 'eu', region: 'eu-west-1', baselineWeight: 100, signals: [{ name: 'p99', source: 'sagemaker-model-latency', endpointName: 'x', trip: 2000, clear: 2500 }] },
          ],
        },
      ],
    });
    expect(result).toEqual({ ok: false, problems: [{ path: 'services[0].endpoints[0].signals[0].clear', message: 'must be below trip (2000)' }] });
  });
});
