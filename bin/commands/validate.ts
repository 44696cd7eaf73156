/** `steer53 validate`: loads a config and reports every problem at once, or a short summary. */
import { loadConfigFile } from '../../functions/config/loadConfig.js';
import { publisherAccountsOf } from '../../functions/app/eventChecks.js';
import type { ServiceConfig } from '../../functions/core/config.js';

/**
 * Who may move the service with deployment events. Deny by default since issue 14: without
 * `deploymentPublishers`, only the controller's own account may, which breaks a pipeline in
 * another account that worked before; the line says so.
 */
function publishersLine(service: ServiceConfig): string {
  const { principalArns } = service.deploymentPublishers;
  // A principal's account is let through to the handler; the bus policy admits that principal only.
  const accounts = publisherAccountsOf(service);
  const principals = principalArns.length > 0 ? `; principals (bus policy): ${principalArns.join(', ')}` : '';
  if (accounts.length > 0) return `deployment events accepted from: the controller's account, ${accounts.join(', ')}${principals}`;
  return `deployment events accepted from: the controller's account only (no deploymentPublishers: events from other accounts are refused)${principals}`;
}

export async function runValidate(path: string, out: (line: string) => void): Promise<number> {
  // A bad config throws ValidationError with every problem; the CLI prints it and exits 1.
  const config = await loadConfigFile(path);
  for (const service of config.services) {
    out(`${service.name}: ${service.dnsName} ${service.recordType} in ${service.hostedZoneId}`);
    for (const e of service.endpoints) {
      out(`  ${e.setIdentifier} (${e.region}, ${e.role}, weight ${e.baselineWeight}): ${e.signals.map((s) => s.name).join(', ')}`);
    }
    out(`  ${publishersLine(service)}`);
  }
  out(`events: refused when older than ${config.events.maxAgeSeconds} s or more than ${config.events.clockSkewSeconds} s ahead of the controller's clock`);
  out(`${path} is valid: ${config.services.length} service(s)`);
  return 0;
}
