/** `steer53 validate`: loads a config and reports every problem at once, or a short summary. */
import { loadConfigFile } from '../../functions/config/loadConfig.js';

export async function runValidate(path: string, out: (line: string) => void): Promise<number> {
  // A bad config throws ValidationError with every problem; the CLI prints it and exits 1.
  const config = await loadConfigFile(path);
  for (const service of config.services) {
    out(`${service.name}: ${service.dnsName} ${service.recordType} in ${service.hostedZoneId}`);
    for (const e of service.endpoints) {
      out(`  ${e.setIdentifier} (${e.region}, ${e.role}, weight ${e.baselineWeight}): ${e.signals.map((s) => s.name).join(', ')}`);
    }
  }
  out(`${path} is valid: ${config.services.length} service(s)`);
  return 0;
}
