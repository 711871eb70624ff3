// Run the real twinsync binary the way a user does, with an environment of our choosing.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, repoRoot, run, runOk, type Rootfs, type RootfsImage, type RunResult } from '../bed/index.js'
import { FILES_ONLY, SMALL_ETC } from './in-process-twin.js'

export const TWINSYNC_BIN = join(repoRoot, 'core', 'bin', 'run.js')

export interface CliSandbox {
  /** A private folder: the twin goes to `${dir}/twin` unless a test says otherwise. */
  dir: string
  twinDir: string
  /** An empty config file, so the host's /etc/twinsync/config.yaml never leaks into a test. */
  configFile: string
  /** A private oclif data dir, so no plugin installed on the host is loaded. */
  dataDir: string
  /** `timeoutMs`: killed (SIGKILL, code null) after this long; 120 s unless given. */
  twinsync(args: string[], options?: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number }): Promise<RunResult>
  /** The environment `twinsync()` runs the binary with (for a test that starts it itself, to kill it). */
  env(more?: Record<string, string>): Record<string, string>
  cleanup(): Promise<void>
}

export async function cliSandbox(): Promise<CliSandbox> {
  const dir = await makeTempDir('cli')
  const configFile = join(dir, 'config.yaml')
  await writeFile(configFile, '{}\n')
  const dataDir = join(dir, 'data')
  const env = (more: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    TWINSYNC_DATA_DIR: dataDir,
    TWINSYNC_CONFIG: configFile,
    // Root's token file is otherwise /var/lib/twinsync/credentials, one for the whole machine: a
    // test file in the other group that saved its token there made this one's push REMOTE_AUTH
    // (CI, session 20), and the host's own file must never be a test's.
    TWINSYNC_CREDENTIALS: join(dir, 'credentials'),
    ...more,
  })
  const sandbox: CliSandbox = {
    dir,
    twinDir: join(dir, 'twin'),
    configFile,
    dataDir,
    env,
    twinsync: (args, options = {}) =>
      run(['node', TWINSYNC_BIN, ...args], {
        env: env(options.env),
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        timeoutMs: options.timeoutMs ?? 120_000,
      }),
    cleanup: () => removeTree(dir),
  }
  return sandbox
}

/**
 * The binary on a sandbox's root and twin (`--root`, `--repo` added), everything it printed kept
 * (`printed()`): for a test whose cases check that no secret reached any output. `at` gives the
 * sandbox and its root, made in the test's `before`.
 */
export function recordingTwinsync(at: () => { cli: CliSandbox; root: string }): { twinsync: (...args: string[]) => Promise<RunResult>; printed: () => string } {
  let printed = ''
  return {
    twinsync: async (...args) => {
      const { cli, root } = at()
      const r = await cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
      printed += r.stdout + r.stderr
      return r
    },
    printed: () => printed,
  }
}

/**
 * A CliSandbox over a small hand-made root of its own (`${dir}/root`: SMALL_ETC and `files`) with the
 * files-only configuration (and `config` after it), its twin made by `snapshot --init` through the binary: the set-up
 * of the twin-size-attacks, twin-not-regular and twin-state-link tests (session 37: three copies).
 */
export async function smallCliRoot(options: { files?: Readonly<Record<string, string | Uint8Array | { content: string | Uint8Array; mode: number }>>; config?: string } = {}): Promise<{ cli: CliSandbox; root: string }> {
  const cli = await cliSandbox()
  const root = join(cli.dir, 'root')
  for (const [path, file] of Object.entries({ ...SMALL_ETC, ...options.files })) {
    const { content, mode } = typeof file === 'string' || file instanceof Uint8Array ? { content: file, mode: 0o644 } : file
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), content, { mode })
    await chmod(join(root, path), mode)
  }
  await writeFile(cli.configFile, `${FILES_ONLY}${options.config ?? ''}`)
  const first = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir])
  if (first.code !== 0) throw new Error(`snapshot --init exited ${first.code}:\n${first.stdout}\n${first.stderr}`)
  return { cli, root }
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

/** A step of an apply's journal, as `apply --json` prints it. */
export interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
  diagnostics?: Array<{ code: string; summary: string }>
}

/** A fresh Debian root with a twin beside it, driven through the real binary with `--root` and `--repo`. */
export interface CliRoot {
  rootfs: Rootfs
  cli: CliSandbox
  twinDir: string
  /** The binary over this root and twin: `twinsync('plan', '--json')`. */
  twinsync(...args: string[]): Promise<RunResult>
  /** A file of the root, as text (`live('etc/motd')`). */
  live(path: string): Promise<string>
  /** The change ids `plan --json` lists, sorted (the plan may exit 0 or 1). */
  planIds(): Promise<string[]>
  /** `status --json` as T; an exit other than 0 throws with its output. */
  statusJson<T>(): Promise<T>
  /** `apply --yes --accept-high-risk --json` (and any more arguments): its exit code, its output, and its journal's steps by change id. */
  apply(...args: string[]): Promise<{ code: number | null; out: string; steps: Map<string, Step> }>
  cleanup(): Promise<void>
}

export interface CliRootOptions {
  image?: RootfsImage
  /** Take the first snapshot with `snapshot --init` (and these arguments); default: yes. */
  init?: boolean | string[]
  /** More environment for every run. */
  env?: Record<string, string>
  /** Done to the fresh root before the first snapshot (what a booted system has and an unbooted tree lacks). */
  prepare?: (rootDir: string) => Promise<void>
}

export async function cliRoot(options: CliRootOptions = {}): Promise<CliRoot> {
  const rootfs = await freshRootfs(options.image)
  const cli = await cliSandbox()
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir], options.env === undefined ? {} : { env: options.env })
  const root: CliRoot = {
    rootfs,
    cli,
    twinDir: cli.twinDir,
    twinsync,
    live: (path) => readFile(join(rootfs.dir, path), 'utf8'),
    async planIds() {
      const r = await twinsync('plan', '--json')
      if (r.code !== 0 && r.code !== 1) throw new Error(`plan exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
      return json<{ changes: Array<{ id: string }> }>(r).changes.map((c) => c.id).sort()
    },
    async statusJson<T>() {
      const r = await twinsync('status', '--json')
      if (r.code !== 0) throw new Error(`status exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
      return json<T>(r)
    },
    async apply(...args) {
      const r = await twinsync('apply', '--yes', '--accept-high-risk', '--json', ...args)
      return { code: r.code, out: r.stdout + r.stderr, steps: new Map((json<{ journal?: { steps: Step[] } }>(r).journal?.steps ?? []).map((s) => [s.id, s])) }
    },
    cleanup: async () => {
      await cli.cleanup()
      await rootfs.cleanup()
    },
  }
  await options.prepare?.(rootfs.dir)
  const init = options.init ?? true
  if (init !== false) {
    const first = await twinsync('snapshot', '--init', ...(init === true ? [] : init))
    if (first.code !== 0) throw new Error(`snapshot --init exited ${first.code}:\n${first.stdout}\n${first.stderr}`)
  }
  return root
}

/**
 * A CliRoot for the tests of one `describe`: made in a `before` hook, removed in an `after` hook.
 * Call it first in the describe, so its `before` runs before the describe's own.
 */
export function useCliRoot(options: CliRootOptions = {}): () => CliRoot {
  let root: CliRoot | undefined
  before(async () => {
    root = await cliRoot(options)
  })
  after(async () => {
    await root?.cleanup()
  })
  return () => {
    if (root === undefined) throw new Error('the test root is made in a before hook')
    return root
  }
}

/** A plain `git commit` of everything in the twin, as a person makes one. */
export async function commitTwin(twin: string, message: string): Promise<void> {
  await runOk(['git', '-C', twin, 'add', '-A'])
  await runOk(['git', '-C', twin, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message])
}
