// The set-up the in-process hostile tests share (hostile-twin, hostile-write, hostile-probes,
// machine-identity, files-manifest-split): the services the CLI calls, real git, a small
// hand-made target root in a temp folder, and a checksum of a tree to prove nothing changed.
// Session 21: each file had its own copy of these, some a little weaker than the others.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Config as OclifConfig } from '@oclif/core'
import { isTwinSyncError, silentLogger } from '@twinsync/sdk'
import { createContainer } from '../../core/src/container.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { SnapshotWorkflow } from '../../core/src/services/take-snapshot.js'
import { asGoneRun, Killed, killAt } from '../../core/test/support/kill-points.js'

/** No plugin of the host's is loaded. */
export const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as OclifConfig

/** A committer for the test's own git (a mirror's clone, a hand-made commit). */
export const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' }

/** The test's own git in `dir`: its standard output; a failure throws (with git's message). */
export function git(dir: string, args: string[], input?: string | Buffer): string {
  return execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, ...(input === undefined ? {} : { input }), stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 }).toString('utf8')
}

/**
 * Type, mode, owner, content hash and link target of everything under a folder, sorted;
 * `links`: each entry's link count too (a hard link made to a file of the tree shows).
 */
export async function checksum(dir: string, options: { links?: boolean } = {}): Promise<string> {
  const lines: string[] = []
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = join(dir, rel, name)
      const s = await lstat(path)
      const what = s.isSymbolicLink() ? `link ${await readlink(path)}` : s.isDirectory() ? 'dir' : s.isFile() ? `file ${createHash('sha256').update(await readFile(path)).digest('hex')}` : 'other'
      lines.push(`${rel}/${name} ${s.mode.toString(8)} ${s.uid}:${s.gid}${options.links === true ? ` ${s.nlink}` : ''} ${what}`)
      if (s.isDirectory()) await walk(join(rel, name))
    }
  }
  await walk('')
  return lines.join('\n')
}

/** The code of the TwinSyncError a promise rejects with; `uncoded: …` for any other failure, 'no error' when it resolves. */
export async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return isTwinSyncError(error) ? error.code : `uncoded: ${(error as Error).message}`
  }
  return 'no error'
}

/** The files provider alone: no package, unit, crontab or other collector reads the small root. */
export const FILES_ONLY = 'providers:\n  disabled: [apt, systemd, cron, autostart, processes, logs, hardware, network]\n'

/** The /etc of a small Debian-like target. */
export const SMALL_ETC: Readonly<Record<string, string>> = {
  'etc/motd': 'Welcome\n',
  'etc/hostname': 'target\n',
  'etc/os-release': 'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13"\n',
}

export interface SmallTwin {
  /** The temp folder holding all of it (the caller removes it). */
  dir: string
  root: string
  twin: string
  configPath: string
  /** A new container on root and twin, as each CLI command makes one. */
  container: () => Promise<DependencyContainer>
  /** The twin's first snapshot. */
  initial: string
}

/**
 * A temp folder with a hand-made target root (`files`, relative to the root; a mode where one is
 * given), a configuration of `config` then FILES_ONLY, and a twin of the root's first snapshot.
 * `prepare` adds to the root (or beside it) before that snapshot.
 */
export async function smallTwin(prefix: string, options: { files?: Readonly<Record<string, string | { text: string; mode: number }>>; config?: string; prepare?: (root: string, dir: string) => Promise<void> } = {}): Promise<SmallTwin> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const root = join(dir, 'root')
  const twin = join(dir, 'twin')
  await mkdir(join(root, 'etc'), { recursive: true })
  for (const [path, content] of Object.entries(options.files ?? SMALL_ETC)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    const { text, mode } = typeof content === 'string' ? { text: content, mode: undefined } : content
    await writeFile(join(root, path), text, mode === undefined ? {} : { mode })
    if (mode !== undefined) await chmod(join(root, path), mode)
  }
  await options.prepare?.(root, dir)
  const configPath = join(dir, 'config.yaml')
  await writeFile(configPath, `${options.config ?? ''}${FILES_ONLY}`)
  const container = () => createContainer({ root, repo: twin, configPath, oclif: noPlugins, logger: silentLogger })
  await (await container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
  return { dir, root, twin, configPath, container, initial: git(twin, ['rev-parse', 'HEAD']).trim() }
}

/**
 * A snapshot of the rig's machine killed (kill -9 in process, kill-points.ts) at its move's first
 * rename: HEAD moved, the working twin not yet; the run then left as a dead one's.
 */
export async function snapshotKilledAtFirstRename(rig: SmallTwin): Promise<void> {
  const point = killAt((call) => call.startsWith('renameSync(') && call.includes('/.git/twinsync/stage/'))
  let killed: unknown
  try {
    await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
  } catch (error) {
    killed = error
  } finally {
    await new Promise((resolve) => setImmediate(resolve))
    point.restore()
  }
  // The kill reaches the caller as itself, or as the cause of the move's coded failure (TWIN_MOVE_FAILED: it could not be undone either).
  if (!point.hit || !(killed instanceof Killed || (killed as { cause?: unknown }).cause instanceof Killed)) throw new Error(`not killed at the first rename: ${String(killed)}`)
  asGoneRun(rig.twin)
}
