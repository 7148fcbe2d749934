// Runs one of the real command-line entry points (src/node/cli/<script>.ts) in a child process,
// on the wasm kernels, and returns its exit code and output whatever the code.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const TSX = join(process.cwd(), 'node_modules/.bin/tsx');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(script: string, args: readonly string[], opts: { timeout?: number } = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await exec(TSX, [`src/node/cli/${script}.ts`, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, LENET_KERNELS: 'wasm' },
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
