/**
 * `npm run bench:bound`: steer53 beside the oracle told everything some minutes late (sim/bound.ts
 * holds the command, its options and its exit codes).
 */
import { ValidationError } from '../../functions/core/errors.js';
import { runBound } from '../bound.js';
import { defaultIo } from '../cli.js';

runBound(process.argv.slice(2), defaultIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof ValidationError ? error.message : (error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
