/**
 * The fleet the tick benchmark runs: N inference services of E endpoints each (one per region),
 * spread over Z hosted zones in blocks, each endpoint watched as the example config watches its
 * own (steer53.config.ts): SageMaker p99 ModelLatency (with its SampleCount), GPU utilisation,
 * the Invocations load query and a 5xx alarm signal, i.e. four metric queries and one alarm per
 * endpoint. The world answers healthy numbers, except for the services in an incident: their
 * first endpoint's p99 runs at 2.6 s (trip 2 s).
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { validateConfig } from '../../../functions/config/loadConfig.js';
import type { Config } from '../../../functions/core/config.js';
import { presets } from '../../../functions/core/presets.js';
import type { FakeWorld } from './fakeAws.js';

export const REGIONS = [
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-southeast-1',
  'ap-south-1',
  'sa-east-1',
  'ca-central-1',
  'eu-north-1',
] as const;

export interface FleetShape {
  readonly services: number;
  readonly endpoints: number;
  readonly zones: number;
  /** Share of the services whose first endpoint is slow from the start. @default 0 */
  readonly incident?: number;
  /**
   * A region's outage: every service's first endpoint is down from the start (no metrics, its 5xx
   * alarm in ALARM), and every weighted record has a Route 53 health check, the down region's
   * failing. The first tick drains the region everywhere; from the next one, every service reads
   * its drained record's health check. @default false
   */
  readonly outage?: boolean;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function fleetNames(shape: FleetShape): { service: string; zone: number }[] {
  const width = String(shape.services).length;
  const perZone = Math.ceil(shape.services / shape.zones);
  return Array.from({ length: shape.services }, (_, i) => ({ service: `svc-${pad(i, width)}`, zone: Math.floor(i / perZone) }));
}

export function zoneId(zone: number): string {
  return `ZBENCH${pad(zone, 4)}`;
}

function endpointName(service: string, region: string): string {
  return `${service}-${region}`;
}

export function fleetConfig(shape: FleetShape): Config {
  if (shape.endpoints < 1 || shape.endpoints > REGIONS.length) throw new RangeError(`--endpoints must be 1 to ${REGIONS.length}`);
  const services = fleetNames(shape).map(({ service, zone }) => ({
    name: service,
    dnsName: `${service}.z${pad(zone, 4)}.example.com`,
    hostedZoneId: zoneId(zone),
    endpoints: REGIONS.slice(0, shape.endpoints).map((region) => ({
      setIdentifier: region,
      region,
      baselineWeight: 100,
      capacity: { warmRps: 120 },
      load: {
        namespace: 'AWS/SageMaker',
        metricName: 'Invocations',
        dimensions: { EndpointName: endpointName(service, region), VariantName: 'AllTraffic' },
        statistic: 'Sum',
      },
      signals: [
        presets.sagemakerModelLatency({ name: 'p99-latency', endpointName: endpointName(service, region), trip: 2000, clear: 1500 }),
        presets.sagemakerGpuUtilization({ name: 'gpu-utilization', endpointName: endpointName(service, region), gpuCount: 8, trip: 95, clear: 80 }),
        { name: 'error-alarm', source: 'alarm' as const, alarm: { name: `${endpointName(service, region)}-5xx` }, severity: 'fail' as const },
      ],
    })),
  }));
  return validateConfig({ version: 1, services }, `bench fleet ${shape.services}×${shape.endpoints}`);
}

/** A record's Route 53 health check, in an outage run. */
export function healthCheckIdOf(service: string, region: string): string {
  return `hc-${endpointName(service, region)}`;
}

/** Each zone's records as an operator set them up: two IPs per weighted record, and a few records of other names. */
export function zoneRecords(config: Config, shape: Pick<FleetShape, 'outage'> = {}): Map<string, ResourceRecordSet[]> {
  const zones = new Map<string, ResourceRecordSet[]>();
  for (const service of config.services) {
    const records = zones.get(service.hostedZoneId) ?? [
      { Name: `www.${service.dnsName.split('.').slice(1).join('.')}.`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'web.example.net' }] },
    ];
    for (const [i, endpoint] of service.endpoints.entries()) {
      records.push({
        Name: `${service.dnsName}.`,
        Type: 'A',
        SetIdentifier: endpoint.setIdentifier,
        Weight: endpoint.baselineWeight,
        TTL: 60,
        ResourceRecords: [{ Value: `192.0.2.${i + 1}` }, { Value: `198.51.100.${i + 1}` }],
        ...(shape.outage ? { HealthCheckId: healthCheckIdOf(service.name, endpoint.setIdentifier) } : {}),
      });
    }
    zones.set(service.hostedZoneId, records);
  }
  return zones;
}

/** Healthy numbers everywhere, but a slow first endpoint for the services in an incident, and a down one in an outage. */
export function fleetWorld(config: Config, shape: FleetShape): FakeWorld {
  const names = config.services.map((s) => s.name);
  const inIncident = new Set(names.slice(0, Math.round(names.length * (shape.incident ?? 0))));
  const slowEndpoints = new Set([...inIncident].map((service) => endpointName(service, REGIONS[0])));
  const down = (endpoint: string) => shape.outage === true && endpoint.endsWith(`-${REGIONS[0]}`);
  return {
    metric(query) {
      const endpoint = query.dimensions.EndpointName ?? '';
      if (down(endpoint)) return undefined;
      switch (query.metricName) {
        case 'ModelLatency':
          // Microseconds, as SageMaker publishes it. PR(:trip): every request within a healthy
          // endpoint's trip, 60% within a slow one's.
          if (query.stat === 'SampleCount') return 5000;
          if (query.stat.startsWith('PR(')) return slowEndpoints.has(endpoint) ? 60 : 100;
          return (slowEndpoints.has(endpoint) ? 2600 : 900) * 1000;
        case 'GPUUtilization':
          return 8 * 40;
        case 'Invocations':
          return 60 * 60;
        default:
          return undefined;
      }
    },
    alarmState: (_region, name) => (down(name.replace(/-5xx$/, '')) ? 'ALARM' : 'OK'),
    healthCheckHealthy: (id) => !down(id),
  };
}
