/**
 * Reads a policy config file at the edge (CLI, CDK app, simulator, handler cold start) and
 * validates it once. Accepts a typed `steer53.config.ts` (default export, usually through
 * `defineConfig`), `.json`, or `.yaml`/`.yml`.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig, type Config } from '../core/config.js';
import { ValidationError } from '../core/errors.js';

/** Loads and validates a config file; throws `ValidationError` listing every problem. */
export async function loadConfigFile(path: string): Promise<Config> {
  const raw = await readConfigFile(path);
  return validateConfig(raw, path);
}

/** Validates an already-read config value; throws `ValidationError` listing every problem. */
export function validateConfig(raw: unknown, source: string): Config {
  const result = parseConfig(raw);
  if (!result.ok) throw new ValidationError(source, result.problems);
  return result.value;
}

/** The raw (unvalidated) content of a config file. */
export async function readConfigFile(path: string): Promise<unknown> {
  const absolute = resolve(path);
  const extension = extname(absolute).toLowerCase();
  if (extension === '.ts' || extension === '.js' || extension === '.mjs' || extension === '.mts') {
    // A TypeScript config is imported, so it can compute values; running it needs tsx (the CLI,
    // the CDK app and the simulator all run under tsx). Lambda gets the validated JSON instead.
    const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
    if (module.default === undefined) {
      throw new ValidationError(path, [{ path: '(root)', message: 'the config module needs a default export (export default defineConfig({...}))' }]);
    }
    return module.default;
  }
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `cannot be read: ${(error as Error).message}` }], { cause: error });
  }
  try {
    return extension === '.yaml' || extension === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ValidationError(path, [{ path: '(file)', message: `is not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}` }], {
      cause: error,
    });
  }
}
