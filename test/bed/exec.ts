// Run a program with an argument array (never a shell string) and collect what it printed.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Written to the program's stdin, which is then closed. Without it stdin is empty. */
  input?: string | Buffer;
  /** The complete environment (nothing is inherited when this is given). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the program (SIGKILL) after this long; the result then has signal 'SIGKILL'. */
  timeoutMs?: number;
}

export interface RunResult {
  argv: string[];
  /** Exit code, or null when the program was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    super(describeFailure(result));
    this.name = 'CommandError';
  }
}

/** Run argv[0] with argv[1..]. Resolves whatever the exit code; rejects only when the program
 *  could not be started at all (not installed, not executable). */
export function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // The program may exit without reading its input; that is not our error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const timer = options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${file}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        argv,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** Like run, but rejects with a CommandError (argv, exit code, stderr) unless the exit code is 0. */
export async function runOk(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  return expectSuccess(await run(argv, options));
}

/** Return the result if the program exited 0, else throw a CommandError describing it. */
export function expectSuccess(result: RunResult): RunResult {
  if (result.code !== 0) throw new CommandError(result);
  return result;
}

function describeFailure(result: RunResult): string {
  const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
  const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-20).join('\n');
  return `${JSON.stringify(result.argv)} ${how}${output ? `:\n${output}` : ''}`;
}
