/**
 * The document a benchmark's `--compare` option names (sim/benchCompare.ts, sim/heldOutCompare.ts):
 * read, parsed and checked against what the benchmark writes, or refused with what is wrong.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ValidationError } from '../functions/core/errors.js';
import { problemsOf } from '../functions/core/validationProblems.js';

/** A problem of the document `--compare` names, for `command`'s usage message. */
export function compareProblem(command: string, path: string, message: string): ValidationError {
  return new ValidationError(command, [{ path: '--compare', message: `${path}: ${message}` }]);
}

/**
 * The document at `path` as `schema` reads it. Throws ValidationError when the file cannot be
 * read, is not JSON (`hint` says what to give instead), or is not shaped as the schema says (each
 * problem at its path in the document).
 */
export function readCompared<T>(command: string, path: string, schema: z.ZodType<T>, hint: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw compareProblem(command, path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw compareProblem(command, path, `is not JSON (${(error as Error).message}); ${hint}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(`--compare ${path}`, problemsOf(parsed.error));
  return parsed.data;
}
