/**
 * `npm run bench:bound`: steer53 beside the oracle told everything some minutes late (sim/bound.ts
 * holds the command, its options and its exit codes).
 */
import { runAsProgram } from '../cli.js';
import { runBound } from '../bound.js';

runAsProgram(runBound);
