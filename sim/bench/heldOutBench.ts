/**
 * `npm run bench:held-out`: steer53 on worlds drawn at random, which no rule was tuned on
 * (sim/heldOutBench.ts holds the command, its options and its exit codes).
 */
import { runAsProgram } from '../cli.js';
import { runHeldOut } from '../heldOutBench.js';

runAsProgram(runHeldOut);
