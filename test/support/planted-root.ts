import { strict as assert } from 'node:assert'
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { freshRootfs, runOk, type GitRemote, type Rootfs, type RootfsImage, type RunResult } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from './cli.js'

/** A files manifest entry, as the secrets tests read it. */
export interface ManifestEntry {
  path: string
  secret?: boolean
  secretReason?: string
  content?: string
  type?: string
  sha256?: string
}

/** A value planted on a root that must never reach the twin, a mirror or anything printed. */
export interface PlantedValue {
  /** Where and what, for messages. */
  kind: string
  /** What must never be seen. */
  value: string
}

/**
 * Every object of a repository (reachable or not), its refs and config, as one text (latin1, so
 * binary stays byte for byte): what someone holding a copy of the repository could read.
 */
export async function everything(gitDir: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const options = env === undefined ? {} : { env }
  const objects = await runOk(['git', '--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch', '--unordered'], options)
  const refs = await runOk(['git', '--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname) %(contents)'], options)
  const config = await readFile(join(gitDir, 'config'), 'latin1')
  return [objects.stdout, refs.stdout, config].join('\n')
}

/** Every object of the mirror `name` of a test git remote, its refs and config. */
export const mirrorEverything = (remote: GitRemote, name = 'twin'): Promise<string> => everything(remote.repoPath(name), remote.gitEnv(null))

/** Which of `planted` a text holds (their kinds). */
export const leakedFrom = (planted: readonly PlantedValue[], text: string): string[] => planted.filter((p) => text.includes(p.value)).map((p) => p.kind)

export interface PlantedRootOptions {
  /** The test root's image (the realistic server root unless said). */
  image?: RootfsImage
  /** The files provider's include set, written to the sandbox's config. */
  include?: readonly string[]
  /** More environment for every run of the binary. */
  env?: Record<string, string>
}

/**
 * The set-up every secrets test shares: a fresh root and a CLI sandbox; values planted on the root
 * as an administrator would (`plant`: a file with its mode and owner; `secret`: a value to look
 * for); every run of the binary over that root and twin recorded; and the one check, that no
 * planted value is in any object, ref or config of the twin (or a mirror) nor in anything printed.
 * `secret`, `plant`, `leaked` and `twinsync` are bound, so a test may take them out of the object.
 */
export class PlantedRoot {
  readonly planted: PlantedValue[] = []
  readonly outputs: string[] = []
  /** The texts planted by `plant`, as [path on the machine, text], for the prefilter check. */
  readonly plantedTexts: Array<[string, string | Buffer]> = []

  private constructor(
    readonly rootfs: Rootfs,
    readonly cli: CliSandbox,
    private readonly env: Record<string, string> | undefined,
  ) {}

  static async create(options: PlantedRootOptions = {}): Promise<PlantedRoot> {
    const rootfs = await freshRootfs(options.image ?? 'server')
    const cli = await cliSandbox().catch(async (e: unknown) => {
      await rootfs.cleanup()
      throw e
    })
    const root = new PlantedRoot(rootfs, cli, options.env)
    if (options.include !== undefined) await root.include(options.include)
    return root
  }

  /** The files provider's include set (the sandbox's config, rewritten). */
  async include(paths: readonly string[]): Promise<void> {
    await writeFile(this.cli.configFile, ['files:', `  include: [${paths.map((p) => (p.startsWith('~') ? JSON.stringify(p) : p)).join(', ')}]`, ''].join('\n'))
  }

  /** Records `value` as planted (under `kind`), and returns it. */
  readonly secret = (kind: string, value: string): string => {
    this.planted.push({ kind, value })
    return value
  }

  /** The kinds of the planted values `text` holds. */
  readonly leaked = (text: string): string[] => leakedFrom(this.planted, text)

  /** Writes `text` at `path` on the root with `mode` and `owner` (root's unless said), and records it. */
  readonly plant = async (path: string, text: string | Buffer, mode = 0o644, owner: [number, number] | null = [0, 0]): Promise<void> => {
    this.plantedTexts.push([path, text])
    const target = join(this.rootfs.dir, path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, text)
    await chmod(target, mode)
    if (owner !== null) await chown(target, owner[0], owner[1])
  }

  /** The binary over this root and twin; what it prints is recorded for `assertNoneLeaked`. */
  readonly twinsync = async (args: string[], options: { input?: string } = {}): Promise<RunResult> => {
    const r = await this.cli.twinsync([...args, '--root', this.rootfs.dir, '--repo', this.cli.twinDir], { ...options, ...(this.env === undefined ? {} : { env: this.env }) })
    this.outputs.push(r.stdout, r.stderr)
    return r
  }

  /** `twinsync snapshot --init --json`, which must succeed. */
  async snapshotInit(): Promise<void> {
    const r = await this.twinsync(['snapshot', '--init', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  }

  /** A file of the twin's last snapshot (`git show HEAD:path`). */
  async committed(path: string): Promise<string> {
    return (await runOk(['git', '-C', this.cli.twinDir, 'show', `HEAD:${path}`])).stdout
  }

  /**
   * Each of `held` held out of the last snapshot's files manifest (`secret`), and for the reason
   * given with it (a path alone: by a path rule; `[path, undefined]`: for any reason). Gives each
   * machine path's entry, for the test's own checks.
   */
  async assertHeldOut(held: ReadonlyArray<string | readonly [string, string | undefined]>): Promise<(path: string) => ManifestEntry | undefined> {
    const manifest = JSON.parse(await this.committed('system/files/manifest.json')) as { entries: ManifestEntry[] }
    const entryOf = (path: string) => manifest.entries.find((e) => e.path === path)
    const cases = held.map((h) => (typeof h === 'string' ? ([h, 'path rule'] as const) : h))
    assert.deepEqual(cases.filter(([path]) => entryOf(path)?.secret !== true).map(([path]) => path), [], 'not held out')
    assert.deepEqual(cases.filter(([path, reason]) => reason !== undefined && entryOf(path)?.secretReason !== reason).map(([path]) => `${path}: ${entryOf(path)?.secretReason}`), [], 'not held out by their path')
    return entryOf
  }

  /**
   * A planted root's verdict after its snapshot: a value planted in each of `held` (one each), each
   * held out (assertHeldOut), each of `mirrored` mirrored, and none leaked (assertNoneLeaked).
   * Gives each machine path's entry, for the test's own checks.
   */
  async assertKeptOut(held: ReadonlyArray<string | readonly [string, string | undefined]>, mirrored: readonly string[]): Promise<(path: string) => ManifestEntry | undefined> {
    assert.equal(this.planted.length, held.length)
    const entryOf = await this.assertHeldOut(held)
    for (const path of mirrored) assert.equal(entryOf(path)?.content, 'mirrored', path)
    await this.assertNoneLeaked()
    return entryOf
  }

  /** Every object, ref and the config of the twin. */
  twinEverything(): Promise<string> {
    return everything(join(this.cli.twinDir, '.git'))
  }

  /** No planted value in any object, ref or config of the twin (and of `mirror`'s repository when given), nor in anything printed so far. */
  async assertNoneLeaked(mirror?: GitRemote): Promise<void> {
    assert.deepEqual(this.leaked(await this.twinEverything()), [], 'in the twin')
    if (mirror !== undefined) assert.deepEqual(this.leaked(await mirrorEverything(mirror)), [], 'in the mirror')
    assert.deepEqual(this.leaked(this.outputs.join('\n')), [], 'in what was printed')
  }

  async cleanup(): Promise<void> {
    await this.cli.cleanup()
    await this.rootfs.cleanup()
  }
}
