/**
 * `npm run bench:held-out`: steer53 on worlds drawn at random, which no rule was tuned on
 * (sim/heldOutBench.ts holds the command, its options and its exit codes).
 */
import { ValidationError } from '../../functions/core/errors.js';
import { defaultIo } from '../cli.js';
import { runHeldOut } from '../heldOutBench.js';

runHeldOut(process.argv.slice(2), defaultIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof ValidationError ? error.message : (error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
