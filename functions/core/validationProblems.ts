/**
 * Problems found by a zod schema, as steer53 reports them: one line per problem, with its path.
 * Works on the errors of both zod flavours (`zod` for the config, `zod/mini` for the events the
 * Lambda handlers parse): both throw the core `$ZodError`. Imports nothing at run time, so a
 * handler that reports event problems does not bundle the config schema.
 */
import type { $ZodError } from 'zod/v4/core';

/** One problem in a config, scenario or event: where it is and what is expected there. */
export interface ValidationProblem {
  readonly path: string;
  readonly message: string;
}

/** `['services', 0, 'endpoints', 1, 'weight']` → `services[0].endpoints[1].weight`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Every issue zod found, one line each, in document order, with its path. */
export function problemsOf(error: $ZodError): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown setting (check the spelling)' });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}
