/**
 * cfn-lint (AWS's CloudFormation linter) over synthesized templates. It knows every resource
 * type's schema and every IAM action, which CDK's own checks and cdk-nag do not: an action that
 * does not exist, a DependsOn that a Ref already implies, a property a region lacks.
 *
 * cfn-lint is a Python tool; the project's machines (every developer's and CI's) have 1.51.0 on
 * PATH. Where it is missing the test fails saying so: it never skips.
 */
import { spawnSync } from 'node:child_process';

export interface CfnLintFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly level: string;
  readonly message: string;
}

interface RawFinding {
  Filename: string | null;
  Level: string;
  Location?: { Start?: { LineNumber?: number } };
  Message: string;
  Rule: { Id: string };
}

export const CfnLintMissing =
  'cfn-lint is not on PATH. The infra tests lint every synthesized template with it: install it (pip install cfn-lint==1.51.0, the version on the project machines) and run the tests again.';

/** `cfn-lint --version`, e.g. "cfn-lint 1.51.0"; throws CfnLintMissing when it is not installed. */
export function cfnLintVersion(): string {
  const run = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (run.error) throw new Error(CfnLintMissing, { cause: run.error });
  return run.stdout.trim();
}

/** Every finding (error, warning, informational) of cfn-lint over `files`, checked against `regions`. */
export function cfnLint(files: readonly string[], regions: readonly string[]): CfnLintFinding[] {
  const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', ...regions, '--', ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(CfnLintMissing, { cause: run.error });
  // Exit codes are a bit mask of the levels found (2 error, 4 warning, 8 informational); 1 is a crash.
  if (run.status === 1 || run.stdout.trim() === '') throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr.trim()}`);
  return (JSON.parse(run.stdout) as RawFinding[]).map((f) => ({
    file: f.Filename ?? '(no file)',
    line: f.Location?.Start?.LineNumber ?? 0,
    rule: f.Rule.Id,
    level: f.Level,
    message: f.Message,
  }));
}

/** One line per finding, for a test failure that reads like cfn-lint's own output. */
export function describeFindings(findings: readonly CfnLintFinding[]): string[] {
  return findings.map((f) => `${f.rule} (${f.level}) ${f.file}:${f.line} ${f.message.slice(0, 300)}`);
}
