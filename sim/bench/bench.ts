/**
 * `npm run bench`: the entry point of the benchmark (sim/benchmark.ts holds the command, its
 * options and its exit codes).
 */
import { runAsProgram } from '../cli.js';
import { runBench } from '../benchmark.js';

runAsProgram(runBench);
