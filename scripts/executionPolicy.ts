/**
 * Prints the CloudFormation execution policy of the synthesized stacks that deploy into one
 * account (lib/executionPolicy.ts derives it from their resource types), or with --explain every
 * action and why. Create it in that account and name it when you bootstrap:
 *
 *   npx cdk synth -q
 *   npm run -s execution-policy -- --account 111111111111 > steer53-cfn-exec.json
 *   aws iam create-policy --policy-name steer53-cfn-exec --policy-document file://steer53-cfn-exec.json
 *   npx cdk bootstrap aws://111111111111/us-east-1 --cloudformation-execution-policies arn:aws:iam::111111111111:policy/steer53-cfn-exec
 *
 * Options: --account (required when a stack is environment-agnostic or the app spans accounts),
 * --out <cloud assembly dir> (default cdk.out), --qualifier (default hnb659fds), --partition
 * (default aws), --explain (every action of every resource type the stacks can hold, and why).
 */
import { parseArgs } from 'node:util';
import { Steer53Error } from '../functions/core/errors.js';
import { executionPolicy, explainPermissions, ManagedPolicyMaxCharacters, ResourceTypePermissions, stacksFor } from '../lib/executionPolicy.js';

function main(): void {
  const { values } = parseArgs({
    options: {
      account: { type: 'string' },
      out: { type: 'string', default: 'cdk.out' },
      qualifier: { type: 'string' },
      partition: { type: 'string' },
      explain: { type: 'boolean' },
    },
  });
  if (values.explain) {
    // The reference: every resource type the stacks can hold, whatever this synth holds.
    process.stdout.write(`${explainPermissions(Object.keys(ResourceTypePermissions))}\n`);
    return;
  }
  const { account, templates } = stacksFor(values.out, values.account);
  const policy = executionPolicy({
    account,
    templates,
    ...(values.qualifier ? { qualifier: values.qualifier } : {}),
    ...(values.partition ? { partition: values.partition } : {}),
  });
  process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
  const size = JSON.stringify(policy).length;
  if (size > ManagedPolicyMaxCharacters) {
    process.stderr.write(
      `This policy has ${size} characters, over IAM's ${ManagedPolicyMaxCharacters} for a managed policy: split its statements into two policies and pass both to --cloudformation-execution-policies.\n`,
    );
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Steer53Error ? error.message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
}
