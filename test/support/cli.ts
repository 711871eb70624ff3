// Run the real twinsync binary the way a user does, with an environment of our choosing.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir, removeTree, repoRoot, run, type RunResult } from '../bed/index.js'

export const TWINSYNC_BIN = join(repoRoot, 'core', 'bin', 'run.js')

export interface CliSandbox {
  /** A private folder: the twin goes to `${dir}/twin` unless a test says otherwise. */
  dir: string
  twinDir: string
  /** An empty config file, so the host's /etc/twinsync/config.yaml never leaks into a test. */
  configFile: string
  /** A private oclif data dir, so no plugin installed on the host is loaded. */
  dataDir: string
  twinsync(args: string[], options?: { env?: Record<string, string>; input?: string; cwd?: string }): Promise<RunResult>
  cleanup(): Promise<void>
}

export async function cliSandbox(): Promise<CliSandbox> {
  const dir = await makeTempDir('cli')
  const configFile = join(dir, 'config.yaml')
  await writeFile(configFile, '{}\n')
  const dataDir = join(dir, 'data')
  const sandbox: CliSandbox = {
    dir,
    twinDir: join(dir, 'twin'),
    configFile,
    dataDir,
    twinsync: (args, options = {}) =>
      run(['node', TWINSYNC_BIN, ...args], {
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          HOME: dir,
          LANG: 'C.UTF-8',
          TWINSYNC_DATA_DIR: dataDir,
          TWINSYNC_CONFIG: configFile,
          ...options.env,
        },
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        timeoutMs: 120_000,
      }),
    cleanup: () => removeTree(dir),
  }
  return sandbox
}

/** The JSON a command printed with --json. */
export function json<T = Record<string, unknown>>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

export async function gitLog(repo: string): Promise<string[]> {
  const r = await run(['git', '-C', repo, 'log', '--format=%s'])
  if (r.code !== 0) throw new Error(`git log failed: ${r.stderr}`)
  return r.stdout.trim().split('\n').filter(Boolean)
}
