/**
 * `npm run bench:load-line`: each endpoint's p99 against its own learned latency-vs-load line, in
 * quiet minutes and at incidents' onsets (sim/loadLine.ts holds the command, its options and its
 * exit codes).
 */
import { runAsProgram } from '../cli.js';
import { runLoadLine } from '../loadLine.js';

runAsProgram(runLoadLine);
