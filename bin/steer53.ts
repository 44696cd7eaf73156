#!/usr/bin/env -S npx tsx
/**
 * The steer53 command line. Each command is a small module; this file only dispatches and turns
 * errors into a clear message and a non-zero exit code.
 */
import { parseArgs } from 'node:util';
import { runDemo } from './commands/demo.js';
import { runValidate } from './commands/validate.js';
import { EMIT_USAGE, ROLLOUT_USAGE, runEmit, runRollout } from './commands/deploymentEvents.js';
import { OPERATE_USAGE, runOperate, type OperateCommand } from './commands/operate.js';
import { HISTORY_USAGE, runHistory } from './commands/history.js';
import { STATUS_USAGE, runStatus } from './commands/status.js';
import { WORLD_USAGE, runWorld } from './commands/world.js';
import { TRACE_USAGE, runTrace } from './commands/trace.js';
import { isParseArgsError, runSimulate, SIMULATE_USAGE } from '../sim/cli.js';
import { ValidationError } from '../functions/core/errors.js';

interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: string[]) => Promise<number>;
}

const commands: Record<string, Command> = {
  simulate: {
    summary: 'run scenarios under steer53 and the baseline controllers; summary table and HTML report',
    usage: SIMULATE_USAGE,
    run: (args) => runSimulate(args),
  },
  world: {
    summary: 'fit the simulated serving unit to a load-test table and sweep it across loads',
    usage: WORLD_USAGE,
    run: (args) => runWorld(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  trace: {
    summary: 'read a workload trace as the simulator does: rate, burstiness (per-minute CV), tokens, and what scaling does to them',
    usage: TRACE_USAGE,
    run: (args) => runTrace(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  demo: {
    summary: 'run the engine through a scripted incident and print the timeline',
    usage: 'steer53 demo [--config <file>]',
    run: async (args) => {
      const { values } = parseArgs({ args, options: { config: { type: 'string', default: 'steer53.config.ts' } }, strict: true });
      await runDemo(values.config, (line) => console.log(line));
      return 0;
    },
  },
  validate: {
    summary: 'check a policy config and list every problem',
    usage: 'steer53 validate [--config <file>]',
    run: async (args) => {
      const { values } = parseArgs({ args, options: { config: { type: 'string', default: 'steer53.config.ts' } }, strict: true });
      return runValidate(values.config, (line) => console.log(line));
    },
  },
  emit: {
    summary: 'put a deployment event for an endpoint on EventBridge (from a pipeline)',
    usage: EMIT_USAGE,
    run: (args) => runEmit(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  rollout: {
    summary: 'abort or promote the rollout in progress on an endpoint (recorded in the audit log)',
    usage: ROLLOUT_USAGE,
    run: (args) => runRollout(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  status: {
    summary: "a service's state: endpoint statuses, overrides, rollouts, weights last applied",
    usage: STATUS_USAGE,
    run: (args) => runStatus(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  history: {
    summary: "a service's audit log, newest first",
    usage: HISTORY_USAGE,
    run: (args) => runHistory(args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
  },
  ...operate('plan', 'show the decision the controller would take now, from live metrics; writes nothing'),
  ...operate('freeze', 'stop automatic weight changes for a service (alarms still notify)'),
  ...operate('unfreeze', 'let the controller change weights again'),
  ...operate('override', "pin a service's weights for a while (or --clear the pin)"),
  ...operate('drain', 'take an endpoint out of service for maintenance, for a while'),
  ...operate('undrain', 'put a drained endpoint back'),
  ...operate('drill', 'a practice failover of an endpoint, aborted at once by a guard alarm'),
};

function operate(name: OperateCommand, summary: string): Record<string, Command> {
  return {
    [name]: {
      summary,
      usage: OPERATE_USAGE[name],
      run: (args) => runOperate(name, args, { out: (line) => console.log(line), err: (line) => console.error(line) }),
    },
  };
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return ['usage: steer53 <command> [options]', '', ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`steer53: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ValidationError) {
      console.error(error.message);
      return 1;
    }
    if (isParseArgsError(error)) {
      console.error(`steer53 ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
