/**
 * One error base class for steer53. Subclasses set `name`, accept `ErrorOptions` (`cause`) and
 * carry the context a person needs to act; adapters translate SDK errors into these.
 */
import type { ValidationProblem } from './config.js';

export class Steer53Error extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Steer53Error';
  }
}

/** A config, scenario file or event that does not parse: every problem, each with its path. */
export class ValidationError extends Steer53Error {
  readonly problems: readonly ValidationProblem[];
  /** What was being read: a file path, `event`, `scenario regional.yaml`. */
  readonly source: string;

  constructor(source: string, problems: readonly ValidationProblem[], options?: ErrorOptions) {
    super(`${source} is not valid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`, options);
    this.name = 'ValidationError';
    this.problems = problems;
    this.source = source;
  }
}
