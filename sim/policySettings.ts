/**
 * `--policy detection.breachesToDegrade=4`: one policy setting changed for every scenario or world
 * a benchmark runs, so a team can measure a trade (fewer DNS changes for more misses, say) side by
 * side with what the shipped policy does, before it writes the setting into its config. The value
 * is read as JSON where it parses (`4`, `true`, `[0.1,0.5,1]`) and as text otherwise; the service
 * with the changed policy is validated again, whole, so a setting the config would reject (an
 * unknown key, `breachesToDegrade` past `window`) is rejected here, with its path.
 */
import { serviceSchema, type ServiceConfig } from '../functions/core/config.js';
import { ValidationError } from '../functions/core/errors.js';
import { problemsOf, type ValidationProblem } from '../functions/core/validationProblems.js';

/** One `--policy path=value`: the path inside the service's `policy`, and the value it takes. */
export interface PolicySetting {
  readonly path: readonly string[];
  readonly value: unknown;
  /** As given: what reports print. */
  readonly text: string;
}

const KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/** Parses `--policy` arguments; throws ValidationError naming the flag and the setting at fault. */
export function parsePolicySettings(texts: readonly string[], command: string): PolicySetting[] {
  const problems: ValidationProblem[] = [];
  const settings: PolicySetting[] = [];
  for (const text of texts) {
    const at = text.indexOf('=');
    const key = at < 0 ? text : text.slice(0, at);
    if (at < 0 || !KEY.test(key) || at === text.length - 1) {
      problems.push({ path: `--policy ${text}`, message: 'must be path=value, the path inside the policy (detection.breachesToDegrade=4)' });
      continue;
    }
    if (settings.some((s) => s.path.join('.') === key)) {
      problems.push({ path: `--policy ${text}`, message: `sets ${key} a second time` });
      continue;
    }
    settings.push({ path: key.split('.'), value: settingValue(text.slice(at + 1)), text });
  }
  if (problems.length > 0) throw new ValidationError(command, problems);
  return settings;
}

function settingValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The service with its policy changed by `settings`, validated as a config file's service is.
 * Throws ValidationError (`source`) whose paths read `--policy detection.window=…: policy.detection.window`.
 */
export function withPolicySettings(service: ServiceConfig, settings: readonly PolicySetting[], source: string): ServiceConfig {
  if (settings.length === 0) return service;
  let policy: unknown = service.policy;
  for (const setting of settings) policy = setIn(policy, setting.path, setting.value);
  const parsed = serviceSchema.safeParse({ ...service, policy });
  if (parsed.success) return parsed.data;
  const given = settingsText(settings);
  throw new ValidationError(
    source,
    problemsOf(parsed.error).map((p) => ({ path: `--policy ${given}: ${p.path}`, message: p.message })),
  );
}

function setIn(target: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const object = typeof target === 'object' && target !== null && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  return { ...object, [head]: setIn(object[head], rest, value) };
}

/** `detection.breachesToDegrade=4 dwell.minSeconds=900`, or undefined when nothing is set. */
export function settingsText(settings: readonly PolicySetting[]): string | undefined {
  return settings.length === 0 ? undefined : settings.map((s) => s.text).join(' ');
}
