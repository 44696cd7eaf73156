/**
 * `npm run bench`: the entry point of the benchmark (sim/benchmark.ts holds the command, its
 * options and its exit codes).
 */
import { ValidationError } from '../../functions/core/errors.js';
import { runBench } from '../benchmark.js';
import { defaultIo } from '../cli.js';

runBench(process.argv.slice(2), defaultIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof ValidationError ? error.message : (error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
