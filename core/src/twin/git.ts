/**
 * The one boundary between TwinSync and git. Every git process starts here, and every failure
 * leaves here as a coded error a person can act on:
 *
 *   GIT_MISSING   git is not on PATH (never "spawn git ENOENT");
 *   REPO_DAMAGED  the repository itself is broken (bad object HEAD, a corrupt object or index);
 *   GIT_FAILED    anything else, with git's own message and a next step.
 *
 * Ordinary operations (log, tags, remotes, fetch, push, merge, commit, and the plumbing around
 * them) run through `runGit`: the twin's local commands by a plain spawn with simple-git's
 * verdicts (see LOCAL_SUBCOMMANDS: simple-git waits 50 ms after a git that printed nothing),
 * whatever reaches a remote through simple-git. Measured on this machine, a `git log` through
 * simple-git's raw call costs the same as a plain spawn (4.0 vs 4.6 ms a call over 30 calls);
 * the library itself takes about 70 ms to load, once per process, so it is imported on first
 * use only.
 *
 * The one hand-written fast path is `BatchReader`: a single long-lived `git cat-file --batch`
 * answers every blob read of a plan or a history comparison. Reading 2,000 blobs took 0.8 s
 * through it against about 32 s with one `git cat-file blob` per blob (200 timed, times ten;
 * both on the shared 2-core test machine under load). simple-git cannot keep a process open for
 * requests, and blobs are bytes, not text.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, lstatSync, type Stats } from 'node:fs'
import { copyFile, lstat, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Writable } from 'node:stream'
import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk/errors'
import { SAFE_PATH, gitEnv, lstatBigData } from '@twinsync/sdk/light'
import type { SimpleGit } from 'simple-git'
import { diskError, diskFullError, gitFailedForRoom } from './disk-error.js'
import { indexFlagsOf, indexIdentity, notePlainIndex } from './index-flags.js'
import { hasNotedBlind, readHead, smudgeNotedBlind, smudgeWrittenIndex } from './quick-status.js'
import { isOwnStaleLock } from './ref-lock-record.js'
import { isStaleGitLock } from './stale-git-lock.js'
import { refuseNotRegular } from './twin-files.js'

/** The id git gives the empty tree: the "before" of a twin's first commit. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

const IDENTITY = ['user.name=TwinSync', 'user.email=twinsync@localhost']
/**
 * Settings of every git TwinSync runs. No hooks, no fsmonitor, no attributes or ignore file from
 * ~/.config/git (git reads those even with GIT_CONFIG_GLOBAL=/dev/null), whatever a
 * configuration says (session 17): a commit runs post-commit and reference-transaction hooks
 * (--no-verify stops only the pre-commit ones), `add` and `status` a core.fsmonitor command, a
 * fetch or push the reference-transaction and pre-push hooks. The configuration files a twin can
 * write (/etc/gitconfig, ~/.gitconfig) git does not read at all (gitEnv, @twinsync/sdk own-env.ts);
 * these cover the twin's own .git/config too.
 */
const BASE_CONFIG = [
  ...IDENTITY, 'core.quotepath=false', 'commit.gpgsign=false', 'tag.gpgsign=false', 'core.hooksPath=/dev/null', 'core.fsmonitor=false', 'core.attributesFile=/dev/null', 'core.excludesFile=/dev/null',
  // Every edit seen (session 26): no local setting of the twin's .git/config makes git skip a file,
  // trust its stat data more than git's default, or leave a change of mode or kind out. ignoreStat
  // would mark every file git adds assume-unchanged; trustctime=false, checkStat=minimal miss an
  // edit that puts back size and mtime; fileMode=false a chmod; symlinks=false writes a link as a
  // file; a sparse checkout skips (and `add` refuses) what its patterns leave out; ignoreCase
  // matches names by case; the untracked cache trusts folder times; add.ignoreErrors adds what it
  // can and says nothing of the rest; autocrlf converts (the attributes turn it off too,
  // git-attributes.ts); renames would give `status -z` two names on one line. A split index is
  // written whole again. See seeEveryEdit for the index's own flags.
  'core.ignoreStat=false', 'core.trustctime=true', 'core.checkStat=default', 'core.fileMode=true', 'core.symlinks=true', 'core.ignoreCase=false',
  'core.sparseCheckout=false', 'core.sparseCheckoutCone=false', 'index.sparse=false', 'core.splitIndex=false', 'core.untrackedCache=false',
  'core.autocrlf=false', 'core.safecrlf=false', 'add.ignoreErrors=false', 'status.renames=false', 'diff.renames=false',
]
const BASE_ARGS = BASE_CONFIG.flatMap((c) => ['-c', c])

/** Messages of git that mean the repository itself is broken, not the request. */
const DAMAGED =
  /bad object|not a valid object|object file .* is empty|loose object .* is corrupt|unable to read tree|bad tree object|broken link from|invalid sha1 pointer|your current branch appears to be broken|index file (?:smaller than expected|corrupt)|bad index file|packfile .* cannot be accessed|unable to read [0-9a-f]{40}|does not point to a valid object|not a git repository|bad signature 0x|failed to read object|inflate: data stream error|corrupt (?:loose|packed) object|fatal: missing object|invalid object [0-7]{6} [0-9a-f]{40}/i

export function gitMissing(): TwinSyncError {
  return new TwinSyncError('GIT_MISSING', `git is not installed (no \`git\` in ${SAFE_PATH.split(':').join(', ')} or on PATH)`, {
    nextStep: 'Install git (`apt-get install git`) and run the command again.',
  })
}

/** git's failure as a coded error: GIT_MISSING, REPO_DAMAGED or GIT_FAILED with git's own words. */
export function gitError(dir: string, args: readonly string[], message: string, cause?: unknown): TwinSyncError {
  if (/\bENOENT\b/.test(message) && /spawn/.test(message)) return gitMissing()
  const full = diskError(new Error(message), dir)
  if (isTwinSyncError(full)) return full
  const said = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^\s*at /.test(l) && !l.startsWith('hint:'))
  const first = said.find((l) => /^(fatal|error):/.test(l)) ?? said[0] ?? 'no message'
  // git could not write and names no errno ("couldn't write '…/main.lock'", "unable to write new
  // index file") while the file system is full: the disk, in every git the twin runs (disk-error.ts).
  const details = { repo: dir, command: ['git', ...args].join(' '), git: said.slice(0, 10).join('\n') }
  if (gitFailedForRoom(message, dir)) return diskFullError(dir, new Error(`git ${subcommandOf(args)}: ${first}`), details)
  // `git add` of a FIFO, socket or device at a tracked twin path: the twin's refusal (twin-files.ts), checked on the disk.
  const special = /^error: (.+): can only add regular files, symbolic links or git-directories$/m.exec(message)?.[1]
  if (special !== undefined) {
    try {
      refuseNotRegular(dir, special)
    } catch (error) {
      if (isTwinSyncError(error)) return error
    }
  }
  if (DAMAGED.test(message)) {
    return new TwinSyncError('REPO_DAMAGED', `The twin repository ${dir} is damaged: ${first}`, {
      nextStep: `Check it with \`git -C ${dir} fsck\`. Restore it from the mirror (\`git clone\` it to a new --repo) or from a backup; the machine itself is untouched.`,
      details,
      ...(cause === undefined ? {} : { cause }),
    })
  }
  return new TwinSyncError('GIT_FAILED', `git ${subcommandOf(args)} failed in ${dir}: ${first}`, {
    nextStep: `Look at the twin with \`git -C ${dir} status\`, fix what git reports, and run the command again.`,
    details,
    ...(cause === undefined ? {} : { cause }),
  })
}

export interface GitRunOptions {
  /** Added to this process's environment (a snapshot's original dates, the mirror's token header). */
  env?: Record<string, string | undefined>
  /** Kill git when it prints nothing for this long (ms). */
  idleTimeoutMs?: number
  /** Turn git's output (and failure message) into what may be shown: the mirror's token is redacted. */
  redact?: (text: string) => string
}

const ENV_IS_OURS = {
  // BASE_CONFIG's own -c settings (they turn hooks and fsmonitor off).
  allowUnsafeHooksPath: true,
  allowUnsafeFsMonitor: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeEditor: true,
  allowUnsafePager: true,
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeTemplateDir: true,
  allowUnsafeDiffExternal: true,
}

let simpleGitModule: Promise<{ simpleGit: typeof import('simple-git').simpleGit }> | undefined

async function client(dir: string, options: GitRunOptions): Promise<SimpleGit> {
  simpleGitModule ??= import('simple-git')
  const { simpleGit } = await simpleGitModule
  const git = simpleGit({
    baseDir: dir,
    config: BASE_CONFIG,
    ...(options.idleTimeoutMs === undefined ? {} : { timeout: { block: options.idleTimeoutMs } }),
    // simple-git vets the environment and the -c settings like input; they are ours (BASE_CONFIG;
    // prompts off with GIT_ASKPASS=/bin/false, the token as an environment-only header) and the
    // user's own (GIT_SSH_COMMAND, proxies: gitEnv), never the twin's, so those checks are off.
    unsafe: ENV_IS_OURS,
  })
  return git.env({ ...gitEnvWith(options.env) })
}

/** Run git in `dir` and return its standard output; a failure throws a coded error. */
export async function runGit(dir: string, args: readonly string[], options: GitRunOptions = {}): Promise<string> {
  const redact = options.redact ?? ((t: string) => t)
  try {
    if (options.idleTimeoutMs === undefined && LOCAL_SUBCOMMANDS.has(subcommandOf(args))) return redact(await seeEveryEdit(dir, args, options.env, (env) => plainGit(dir, args, env)))
    return redact(await (await client(dir, options)).raw([...args]))
  } catch (error) {
    // Already named (seeEveryEdit's sparse refusal before git ran, a git run of its own such as
    // clearing the index flags, a full disk): passed on as it is, only redacted; named again it
    // read "git add failed in …: git update-index failed in …".
    if (isTwinSyncError(error)) throw options.redact === undefined ? error : redactedError(error, redact)
    throw gitError(dir, args, redact(error instanceof Error ? error.message : String(error)))
  }
}

/** A coded error with every text in it redacted; its cause (the unredacted original) is left out. */
function redactedError(error: TwinSyncError, redact: (text: string) => string): TwinSyncError {
  return new TwinSyncError(error.code, redact(error.message), {
    ...(error.nextStep === undefined ? {} : { nextStep: redact(error.nextStep) }),
    ...(error.details === undefined ? {} : { details: JSON.parse(redact(JSON.stringify(error.details))) as Record<string, unknown> }),
    exitCode: error.exitCode,
  })
}

/**
 * Speed (issue 22): subcommands that only read or write the twin's own repository run through
 * a plain spawn (plainGit), not simple-git. simple-git waits 50 ms after a git that printed
 * nothing before it settles its promise (its completion plugin's `deferClose`, not
 * configurable), and most of a snapshot's git commands print nothing: `init`, `add`,
 * `commit --quiet`, `update-ref`, a clean `status`. A first snapshot ran six of them (300 ms of
 * its wall time, idle), a one-file snapshot three. Whatever reaches a remote (fetch, push,
 * `remote`, anything with an idle timeout) stays with simple-git and its vetting of arguments.
 */
const LOCAL_SUBCOMMANDS = new Set([
  'add', 'cat-file', 'checkout', 'commit', 'commit-tree', 'count-objects', 'diff', 'diff-tree', 'for-each-ref', 'gc', 'init', 'log',
  'ls-files', 'ls-tree', 'merge', 'merge-file', 'prune', 'read-tree', 'reflog', 'repack', 'reset', 'rev-list', 'rev-parse', 'rm', 'show',
  'status', 'symbolic-ref', 'tag', 'update-index', 'update-ref', 'write-tree',
])

/** The subcommand, after any `-c name=value` and `-C dir`. */
function subcommandOf(args: readonly string[]): string {
  return args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c' && args[i - 1] !== '-C') ?? ''
}

/**
 * The environment of a git on the twin: gitEnv (the distribution's git first on PATH, none of the
 * caller's GIT_* variables but those for a remote, no configuration file but the twin's own), with
 * what TwinSync adds (a snapshot's dates, GIT_OPTIONAL_LOCKS, a private GIT_INDEX_FILE) on top.
 */
function gitEnvWith(added: Record<string, string | undefined> | undefined): Readonly<Record<string, string>> {
  const base = gitEnv()
  if (added === undefined) return base
  const env: Record<string, string> = { ...base }
  for (const [k, v] of Object.entries(added)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/**
 * How a git that looks at the working twin looks (session 26): through an index none of whose
 * entries is marked assume-unchanged or skip-worktree. git compares no such entry with its file
 * (`status`, `diff`, `add --all`, `checkout -- path`, `read-tree -u`, `update-index --refresh`):
 * a person's edit to a file so marked (`git update-index --assume-unchanged`, a sparse checkout)
 * would be left out of a snapshot's commit and lost. The one rule, here for every git TwinSync
 * runs (runGit's plain spawn and runGitBytes): a command that only reads the working twin
 * through git's own index reads a private copy of it with the flags cleared (the index, which a
 * `plan` or `status` does not lock, is not written); one that writes an index (TwinSync's private
 * ones, or git's own under the twin lock: adopt's `add` and `commit`, a pull's put-back's `checkout-index`) has them cleared
 * in that index first. A deleted file so marked is then a deletion, as any other. What .git/config
 * can set to the same effect is overridden in BASE_CONFIG; where the work tree is, here
 * (`core.worktree` would point git at another folder). A git that writes an index is followed
 * by smudgeWrittenIndex (quick-status.ts, session 43): an entry it recorded in the second of a
 * file's last ctime change, git's own stat check (to the second) could not see an edit in.
 *
 * Speed: whether an index has flags is known from quick-status.ts's parse of it (which refuses
 * them), else from a scan of its entries' flags (index-flags.ts); only a flagged (or unreadable)
 * index costs a copy and git's `ls-files -v` and `update-index`. Figures in docs/architecture.md
 * (session 26).
 */
async function seeEveryEdit<T>(dir: string, args: readonly string[], env: GitRunOptions['env'], run: (env: Record<string, string | undefined>) => Promise<T>): Promise<T> {
  const use = worktreeUse(args)
  if (use === undefined) return run({ ...env })
  const own = env?.GIT_INDEX_FILE
  const index = own ?? join(dir, '.git', 'index')
  // The work tree is the twin, whatever core.worktree says (git reads that from .git/config alone, never from -c).
  const worktree = { ...env, GIT_WORK_TREE: resolve(dir) }
  if (use === 'write') {
    // Entries it records that git's own stat check cannot vouch for: smudged (smudgeWrittenIndex).
    const started = Date.now()
    if (indexFlagsOf(index) !== 'plain') await clearIndexFlags(dir, index)
    const out = await run(worktree)
    // Not after a refresh of git's own index: it is there for the command after it (`reset --keep`,
    // `read-tree -m -u`, which refresh nothing and refuse a smudged entry as "not uptodate"); that
    // command's own write of the index is smudged.
    if (own !== undefined || subcommandOf(args) !== 'update-index') smudgeWrittenIndex(index, started, own === undefined)
    return out
  }
  if (indexFlagsOf(index) === 'plain') return run(worktree)
  if (own !== undefined) {
    await clearIndexFlags(dir, index)
    return run(worktree)
  }
  // Read-only on git's own index: a private copy, cleared; git's index is left as it is.
  const copy = join(tmpdir(), `twinsync-look-${process.pid}-${randomBytes(6).toString('hex')}.index`)
  try {
    await copyIndex(index, copy)
    await clearIndexFlags(dir, copy)
    return await run({ ...worktree, GIT_INDEX_FILE: copy })
  } finally {
    await rm(copy, { force: true })
  }
}

/** Whether a git command compares the working twin with an index ('read'), or also writes it ('write'). */
function worktreeUse(args: readonly string[]): 'read' | 'write' | undefined {
  const sub = subcommandOf(args)
  const has = (...flags: string[]) => flags.some((f) => args.includes(f))
  switch (sub) {
    case 'status':
      return 'read'
    case 'diff':
      return has('--cached', '--staged') ? undefined : 'read'
    case 'add':
    case 'checkout':
    case 'checkout-index':
    case 'merge':
    case 'reset':
    // `git commit` refreshes the index's stat data and writes it (init's fallback commit, adopt's
    // commit after its `add --all`): smudged like the others (session 44; it was not).
    case 'commit':
      return 'write'
    case 'rm':
      return has('--cached') ? undefined : 'write'
    case 'read-tree':
      return has('-u') ? 'write' : undefined
    case 'update-index':
      return has('--refresh', '--really-refresh') ? 'write' : undefined
    default:
      return undefined
  }
}

/**
 * Clear every assume-unchanged and skip-worktree flag in the index file `index` (BASE_CONFIG's
 * `index.sparse=false` writes a sparse index whole). `ls-files -v` tags an assume-unchanged entry
 * with a lower-case letter and a skip-worktree one with S.
 */
async function clearIndexFlags(dir: string, index: string): Promise<void> {
  const env = { GIT_INDEX_FILE: resolve(index), GIT_LITERAL_PATHSPECS: '1' }
  const listed = (await spawnGitBytes(dir, ['ls-files', '-v', '-z'], { env })).toString('utf8').split('\0')
  const valid: string[] = []
  const skip: string[] = []
  for (const line of listed) {
    if (line.length < 3) continue
    const tag = line[0] as string
    const path = line.slice(2)
    if (tag !== tag.toUpperCase()) valid.push(path)
    if (tag.toUpperCase() === 'S') skip.push(path)
  }
  await refuseSparseCheckout(dir, skip)
  if (valid.length > 0) await spawnGitBytes(dir, ['update-index', '--no-assume-unchanged', '-z', '--stdin'], { env, input: valid.map((p) => `${p}\0`).join('') })
  if (skip.length > 0) await spawnGitBytes(dir, ['update-index', '--no-skip-worktree', '-z', '--stdin'], { env, input: skip.map((p) => `${p}\0`).join('') })
}

/**
 * A skip-worktree entry whose file is not in the working twin is what a sparse checkout leaves
 * out (`git sparse-checkout set`), not a person's deletion: read with the flag cleared it would
 * be a deleted twin file, and every one of them a planned delete of the machine's file (which
 * `apply --yes` runs, as a forgotten path's once did: session 25). So the twin is refused until
 * the checkout is whole again, nothing read, written or planned. A file so marked that is there
 * is compared like any other (its edit is seen).
 */
async function refuseSparseCheckout(dir: string, skipped: readonly string[]): Promise<void> {
  const missing: string[] = []
  for (const path of skipped) {
    try {
      await lstat(join(dir, path))
    } catch {
      missing.push(path)
    }
  }
  if (missing.length === 0) return
  throw new TwinSyncError('TWIN_SPARSE', `The working twin ${dir} is a sparse checkout: ${missing.length} twin file(s) git leaves out are not there (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}); read as they are, each would be a delete of the machine's file`, {
    nextStep: `Make the checkout whole: \`git -C ${dir} sparse-checkout disable\` (or \`git -C ${dir} update-index --no-skip-worktree PATH\` and \`git -C ${dir} checkout -- PATH\` for each), then run the command again. To delete such a file on purpose, clear its flag first, then delete it.`,
    details: { repo: dir, missing: missing.slice(0, 20) },
  })
}

/**
 * git as simple-git's `raw` runs it (the same `-c` settings, the twin as the working folder,
 * the environment added to this process's), with its verdict: a failure is a non-zero exit
 * with something on standard error, its message standard output then standard error; a
 * non-zero exit that says nothing gives its output (`rev-parse --verify --quiet` of an
 * unknown name: empty). A git killed by a signal fails.
 */
function plainGit(dir: string, args: readonly string[], env: Record<string, string | undefined> | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...BASE_ARGS, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: gitEnvWith(env),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (error: NodeJS.ErrnoException) => {
      // spawn reports a missing working folder as ENOENT too: that is not a missing git.
      if (error.code === 'ENOENT' && !existsSync(dir)) reject(new Error(`fatal: cannot change to '${dir}': No such file or directory`))
      else reject(new Error(`spawn git ${error.message}`))
    })
    child.on('close', (code, signal) => {
      if (signal !== null) reject(new Error(`git was killed by ${signal}\n${Buffer.concat(err).toString('utf8')}`))
      else if (code !== 0 && err.length > 0) reject(new Error(Buffer.concat([...out, ...err]).toString('utf8')))
      else resolve(Buffer.concat(out).toString('utf8'))
    })
  })
}

/**
 * plainGit's run, made synchronously: the same process, environment and verdicts (git's output,
 * or an Error with the same message). Speed (issue 22, session 37): for a `git log` pass read
 * whole (logFields). An asynchronous spawn makes pipes, two sockets and their streams, and Node
 * compiles each of their functions the first time it runs (no code cache holds Node's inner
 * functions); a synchronous one reads both pipes in C++ and hands back two Buffers. Nothing else
 * runs meanwhile either way: the caller awaits the pass before anything else. `history --limit
 * 1000 --json` of the bench's twin: 338.7 → 330.9 M instructions of node (callgrind, 3
 * interleaved pairs, each build its own code cache, the short run's flags; git's own not counted).
 */
function plainGitSync(dir: string, args: readonly string[], env: Record<string, string | undefined> | undefined): string {
  const run = spawnSync('git', [...BASE_ARGS, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: gitEnvWith(env), maxBuffer: Infinity })
  if (run.error !== undefined) {
    const error = run.error as NodeJS.ErrnoException
    // As plainGit's 'error': a missing working folder is not a missing git; the message as spawn's.
    if (error.code === 'ENOENT' && !existsSync(dir)) throw new Error(`fatal: cannot change to '${dir}': No such file or directory`)
    throw new Error(`spawn git ${error.message.replace(/^spawnSync git /, '')}`)
  }
  if (run.signal !== null) throw new Error(`git was killed by ${run.signal}\n${run.stderr.toString('utf8')}`)
  if (run.status !== 0 && run.stderr.length > 0) throw new Error(Buffer.concat([run.stdout, run.stderr]).toString('utf8'))
  return run.stdout.toString('utf8')
}

/** A read-only `git log` pass (no index, no work tree) through plainGitSync, its failure named as runGit names it. */
function logPass(dir: string, args: readonly string[]): string {
  try {
    return plainGitSync(dir, args, LOG_PASS_ENV)
  } catch (error) {
    throw gitError(dir, args, error instanceof Error ? error.message : String(error))
  }
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/

/**
 * Speed (issue 22, session 26): the environment of a `git log` pass whose whole output is read
 * at once (logFields, SnapshotLog.listWithChanges). Writing to a pipe, git flushes its output
 * after every commit unless GIT_FLUSH=0 (git's maybe_flush_or_die), so a pass over 1,000
 * commits came as about 1,000 small writes, each a wake-up, a read and a stream 'data' event of
 * this process; with it git writes whole buffers. `history --limit 1000` of the bench's twin:
 * figures in docs/architecture.md (Session 26, history). The output is the same bytes.
 */
export const LOG_PASS_ENV: Readonly<Record<string, string>> = Object.freeze({ GIT_FLUSH: '0' })

/**
 * Commits from one `git log` pass, each as its fields in the order of `placeholders` ('%H',
 * '%P', '%T', '%s', '%b', '%an', …). A commit's message and idents are untrusted text (a mirror
 * anyone with the token can push to, then `pull`): each field ends with a NUL, which none of
 * them can hold, so nothing a commit carries shifts another field or another commit. A field
 * of ids ('%H', '%T', '%P') that does not hold ids means the output was misread: refused
 * (REPO_INVALID), never passed on to git as an argument.
 */
export async function logFields(dir: string, placeholders: readonly string[], args: readonly string[]): Promise<string[][]> {
  const out = logPass(dir, ['log', '-z', `--format=${placeholders.map((p) => `${p}%x00`).join('')}`, ...args])
  const tokens = out.split('\0')
  const records: string[][] = []
  // Each commit: its fields, then the empty token of -z's record end.
  for (let at = 0; at + placeholders.length < tokens.length; at += placeholders.length + 1) {
    const fields = tokens.slice(at, at + placeholders.length)
    const first = fields[0] ?? ''
    fields[0] = first.charCodeAt(0) === 10 ? first.slice(1) : first
    for (let i = 0; i < placeholders.length; i++) checkIdField(dir, placeholders[i] as string, fields[i] ?? '')
    records.push(fields)
  }
  return records
}

/**
 * What checkIdField accepts of '%P', as one test: ids (40 or 64 hex digits) each followed by
 * spaces or the end, with spaces before the first (the same as splitting on spaces and testing
 * every piece). Speed: `history --limit 1000` checks 3,000 fields (session 19).
 */
const PARENT_IDS = /^ *(?:[0-9a-f]{40}(?:[0-9a-f]{24})?(?: +|$))*$/

/** A field of ids ('%H', '%T'; '%P' space-separated) holds only ids, else REPO_INVALID. */
export function checkIdField(dir: string, placeholder: string, value: string): void {
  if (placeholder === '%P' ? PARENT_IDS.test(value) : (placeholder === '%H' || placeholder === '%T') && OBJECT_ID.test(value)) return
  const ids = placeholder === '%P' ? value.split(' ').filter(Boolean) : placeholder === '%H' || placeholder === '%T' ? [value] : []
  if (ids.every((id) => OBJECT_ID.test(id))) return
  throw new TwinSyncError('REPO_INVALID', `The twin's history in ${dir} could not be read: git log gave ${JSON.stringify(value.slice(0, 80))} where ${placeholder} should be`, {
    nextStep: `Look at the twin with \`git -C ${dir} log --format=raw -3\`; a commit TwinSync cannot read may have come from the mirror.`,
    details: { repo: dir },
  })
}

/**
 * Like runGit, but a failure of the command itself comes back as its output (the mirror reads
 * git's words to tell a refused token from an unreachable host). A missing git, a damaged
 * repository, still throw.
 */
export async function tryGit(dir: string, args: readonly string[], options: GitRunOptions = {}): Promise<{ ok: boolean; output: string }> {
  try {
    return { ok: true, output: await runGit(dir, args, options) }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'GIT_FAILED') return { ok: false, output: String((error.details as { git?: string } | undefined)?.git ?? error.message) }
    throw error
  }
}

/**
 * Copy git's index to `copy` for a private GIT_INDEX_FILE; false when there is no index.
 *
 * git trusts an entry whose stat data is unchanged unless its file is as new as the index
 * itself ("racy git"; quick-status.ts applies the same rule). A copy dated now would look newer
 * than a file written in the same second with the same size (a 0644 → 0600 edit, a same-size
 * rewrite), and such a file would pass for unchanged: the copy is back-dated 2 s behind the
 * index it copies, so git hashes those files instead of trusting their stat data. The entries
 * this process's look found git blind to (quick-status.ts's noteBlind: an edit git's
 * second-grained stat check cannot see) are smudged in the copy, so a `git add` on it reads them.
 */
export async function copyIndex(index: string, copy: string): Promise<boolean> {
  const before = lstatBigData(index)
  const plainAs = before !== undefined && indexFlagsOf(index) === 'plain' ? indexIdentity(before) : undefined
  const copied = await copyFile(index, copy).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
      return false
    },
  )
  if (copied) {
    if (hasNotedBlind(index)) {
      const bytes = await readFile(copy)
      if (smudgeNotedBlind(index, bytes)) await writeFile(copy, bytes)
    }
    const { atime, mtime } = await stat(index)
    await utimes(copy, atime, new Date(mtime.getTime() - 2000))
    // The copy of an index known plain, not rewritten meanwhile, is plain (index-flags.ts): a snapshot's `add` on it does not scan it again.
    const now = lstatBigData(index)
    const info = lstatBigData(copy)
    if (plainAs !== undefined && now !== undefined && indexIdentity(now) === plainAs && info !== undefined) notePlainIndex(copy, indexIdentity(info))
  }
  return copied
}

/**
 * Removes the `<ref>.lock` beside a ref (`HEAD` or `refs/…`) that is provably stale: one a killed
 * TwinSync recorded as its own, by inode, whose run is gone (ref-lock-record.ts), or one no git
 * process holds any more (stale-git-lock.ts: made before this run, and no git at work in the
 * twin). Any other lock may be a git at work (a person's, in the twin, or a second TwinSync's)
 * and is never removed: TWIN_REF_LOCKED, with the command to remove it once no git is running.
 * Returns the lock's path inside the twin (`.git/HEAD.lock`) when it removed one.
 */
export async function dropStaleRefLock(dir: string, ref: string): Promise<string | undefined> {
  if ((ref !== 'HEAD' && !ref.startsWith('refs/')) || ref.split('/').some((part) => part === '..' || part === '.' || part === '')) return undefined
  const lock = `.git/${ref}.lock`
  // Synchronous, as the ref updates around it (ref-update.ts): the twin's own lock, looked at by
  // the core in no provider call; fs/promises loaded for this look alone after a commit (session 53).
  let info: Stats
  try {
    info = lstatSync(join(dir, lock))
  } catch {
    return undefined
  }
  if (!info.isFile()) throw refLocked(join(dir, lock))
  // Recorded as a killed run's own (ref-lock-record.ts), or held by no git any more (stale-git-lock.ts).
  if (!isOwnStaleLock(join(dir, '.git'), `${ref}.lock`, info.ino) && !isStaleGitLock(dir, join(dir, lock))) throw refLocked(join(dir, lock))
  await rm(join(dir, lock), { force: true })
  return lock
}

function refLocked(lock: string): TwinSyncError {
  return new TwinSyncError('TWIN_REF_LOCKED', `git's ref lock ${lock} exists: a git process is at work in the twin, or one TwinSync may not look at; TwinSync removes only locks it can prove stale, and changed nothing`, {
    nextStep: `Wait for the git process at work in the twin (\`pgrep -a git\`); once none runs, remove the lock: rm ${lock}; then run the command again.`,
    details: { lock },
  })
}

/** The full id of a commit, or undefined when `ref` names none (unknown, or no commit yet). */
export async function revParseCommit(dir: string, ref: string): Promise<string | undefined> {
  // --quiet: an unknown name exits 1 with no message, which simple-git passes as empty output. A
  // range (`A..B`, `A...B`, `B^!`) exits 1 too, having printed its ends (`B` and `^A`): not one
  // commit either (session 44: `show HEAD..HEAD~1` was a GIT_FAILED of the rev-list after it).
  const out = (await runGit(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim()
  return OBJECT_ID.test(out) ? out : undefined
}

export interface GitObject {
  type: string
  bytes: Uint8Array
}

interface Waiter {
  resolve: (object: GitObject | undefined) => void
  reject: (error: Error) => void
}

/** One long-lived `git cat-file --batch`; requests (`<commit>:<path>` or a blob id) are answered in order. */
export class BatchReader {
  private readonly child: ChildProcessWithoutNullStreams | undefined
  private buffer = Buffer.alloc(0)
  /**
   * Output not yet joined to `buffer`, and how long `buffer` must be before the object at its
   * head is complete: a large blob (the scale root's 8.6 MB manifest) is joined once, not once
   * a 64 KB chunk (that copied it over and over: 350 ms of a one-file snapshot's CPU).
   */
  private pending: Buffer[] = []
  private pendingLength = 0
  private needed = 0
  /**
   * The requests git has not answered yet, oldest first from `next`. Speed (session 40): taken
   * with `shift()` they were quadratic, since V8 moves every element of a large array on each
   * shift: a snapshot with 131,000 pending files asked for them all at once (readBlobs), and
   * answering them cost 13 s of Node's CPU (`drain`, self time), 0.16 s at 20,000. Now a
   * position moves on, and the answered part is dropped once it is half the array: readBlobs of
   * 100,000 blobs 4.8 s → 0.6 s of Node's CPU; the snapshot 65.6 → 60.4 s of CPU with git's
   * (docs/architecture.md, Speed).
   */
  private waiting: Array<Waiter | undefined> = []
  private next = 0
  private corked = false
  private failed: TwinSyncError | undefined
  private readonly stderr: Buffer[] = []

  constructor(private readonly dir: string) {
    // spawn throws at once for some errors (it reports others as 'error'): either is GIT_FAILED at
    // the first read, as for runGit (session 35's push sweep: thrown as it was, a bug in TwinSync).
    try {
      this.child = spawn('git', [...BASE_ARGS, '-C', dir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'], env: gitEnv() })
    } catch (error) {
      this.child = undefined
      this.failed = gitError(dir, ['cat-file', '--batch'], `spawn git ${(error as Error)?.message ?? String(error)}`)
      return
    }
    this.child.on('error', (error) => this.fail(gitError(dir, ['cat-file', '--batch'], `spawn git ${error.message}`)))
    this.child.stdin.on('error', () => undefined)
    this.child.stderr.on('data', (c: Buffer) => this.stderr.push(c))
    this.child.on('close', (code) => {
      if (this.unanswered() > 0) {
        this.fail(gitError(dir, ['cat-file', '--batch'], Buffer.concat(this.stderr).toString('utf8') || `git cat-file exited ${code}`))
      }
    })
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.pending.push(chunk)
      this.pendingLength += chunk.length
      if (this.buffer.length + this.pendingLength < this.needed) return
      this.buffer = Buffer.concat([this.buffer, ...this.pending])
      this.pending = []
      this.pendingLength = 0
      this.drain()
    })
  }

  read(spec: string): Promise<Uint8Array | undefined> {
    return this.readObject(spec).then((o) => o?.bytes)
  }

  /** An object with its type (blob, tree, commit, tag): the push scan reads every kind. */
  readObject(spec: string): Promise<GitObject | undefined> {
    if (this.failed !== undefined) return Promise.reject(this.failed)
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      const stdin = this.child?.stdin
      // The requests made in one turn (readBlobs asks for all at once) go to git in one write, not one each.
      if (stdin !== undefined && !this.corked) {
        this.corked = true
        stdin.cork()
        process.nextTick(() => {
          this.corked = false
          stdin.uncork()
        })
      }
      stdin?.write(`${spec}\n`)
    })
  }

  close(): void {
    this.child?.stdin.end()
  }

  private fail(error: TwinSyncError): void {
    this.failed ??= error
    const left = this.waiting.slice(this.next)
    this.waiting = []
    this.next = 0
    for (const w of left) w?.reject(this.failed)
  }

  private unanswered(): number {
    return this.waiting.length - this.next
  }

  /** The oldest request, taken off the queue. */
  private answer(): Waiter | undefined {
    const w = this.waiting[this.next]
    this.waiting[this.next++] = undefined
    if (this.next === this.waiting.length) {
      this.waiting = []
      this.next = 0
    } else if (this.next >= 1024 && this.next * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.next)
      this.next = 0
    }
    return w
  }

  private drain(): void {
    this.needed = 0
    for (;;) {
      const newline = this.buffer.indexOf(10)
      if (newline < 0 || this.unanswered() === 0) return
      const header = this.buffer.subarray(0, newline).toString('utf8')
      if (header.endsWith(' missing')) {
        this.buffer = this.buffer.subarray(newline + 1)
        this.answer()?.resolve(undefined)
        continue
      }
      const [, type = '', sizeText] = header.split(' ')
      const size = Number(sizeText)
      if (this.buffer.length < newline + 1 + size + 1) {
        this.needed = newline + 1 + size + 1
        return
      }
      const body = this.buffer.subarray(newline + 1, newline + 1 + size)
      this.buffer = this.buffer.subarray(newline + 1 + size + 1)
      this.answer()?.resolve({ type, bytes: Buffer.from(body) })
    }
  }
}

/** Read many blobs by id through one batch reader; missing ones are left out. */
export async function readBlobs(dir: string, shas: readonly string[]): Promise<Map<string, Uint8Array>> {
  const result = new Map<string, Uint8Array>()
  if (shas.length === 0) return result
  const reader = new BatchReader(dir)
  try {
    // Each blob asked once: the same bytes at many paths (empty files, a copied config) are one object.
    const unique = [...new Set(shas)]
    const blobs = await Promise.all(unique.map((sha) => reader.read(sha)))
    unique.forEach((sha, i) => {
      const bytes = blobs[i]
      if (bytes !== undefined) result.set(sha, bytes)
    })
  } finally {
    reader.close()
  }
  return result
}

export interface GitStatusEntry {
  path: string
  /** A added, M modified, D deleted (relative to HEAD, after staging everything). */
  change: 'A' | 'M' | 'D'
}

/** The git operations the twin needs; tests can hand in a fake through Tokens.GitFactory. */
export interface GitClient {
  init(): Promise<void>
  addAll(): Promise<void>
  /** Staged changes against HEAD (everything when there is no HEAD yet). */
  stagedChanges(): Promise<GitStatusEntry[]>
  commit(message: string): Promise<string>
  head(): Promise<string | undefined>
  /**
   * Paths that differ from HEAD in the working tree, untracked files included (ignored ones
   * too); `indexedOnly`: the caller knows there is no file the index does not hold, and only
   * the indexed files are compared.
   */
  dirtyPaths(options?: { indexedOnly?: boolean }): Promise<string[]>
}

export type GitClientFactory = (dir: string) => GitClient

/** The twin's git client over runGit (simple-git). */
export class SimpleGitClient implements GitClient {
  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await runGit(this.dir, ['init', '--initial-branch=main', '--quiet'])
  }

  async addAll(): Promise<void> {
    await runGit(this.dir, ['add', '--all', '--force', '--', '.'])
  }

  async stagedChanges(): Promise<GitStatusEntry[]> {
    // Against the empty tree when there is no commit yet, so every file counts as added.
    const base = (await this.head()) ?? EMPTY_TREE
    return parseNameStatus(await runGit(this.dir, ['diff', '--cached', '--name-status', '--no-renames', '-z', base]))
  }

  async commit(message: string): Promise<string> {
    // No `git maintenance run --auto` after it (a process): auto-pack.ts keeps the twin packed.
    await runGit(this.dir, ['-c', 'maintenance.auto=false', 'commit', '--quiet', '--no-verify', '-m', message])
    return (await this.head()) as string
  }

  async head(): Promise<string | undefined> {
    const quick = readHead(this.dir) // from .git when it can be (quick-status.ts)
    return quick === undefined ? revParseCommit(this.dir, 'HEAD') : (quick ?? undefined)
  }

  async dirtyPaths(options: { indexedOnly?: boolean } = {}): Promise<string[]> {
    // No optional locks: a status killed half way must not leave git's index lock behind.
    // Without untracked files git reads no ignore rule: a .gitignore (which the twin may bring) hides nothing it compares.
    const untracked = options.indexedOnly === true ? ['--untracked-files=no'] : ['--untracked-files=all', '--ignored=traditional']
    const out = await runGit(this.dir, ['status', '--porcelain=v1', '-z', ...untracked], { env: { GIT_OPTIONAL_LOCKS: '0' } })
    return out.split('\0').filter((e) => e.length > 3).map((e) => e.slice(3))
  }
}

/** One entry of `git ls-tree -z` output; `size` with `-l` ('-' for a tree or a gitlink). */
export interface LsTreeEntry {
  mode: string
  type: string
  sha: string
  size: string | undefined
  path: string
}

/**
 * The entries of `git ls-tree -z [-l]` output, in its order: the one parser of it (a snapshot's
 * move, a tree read, intent, forget and a pulled tree's checks read trees this way).
 */
export function* lsTreeEntries(out: string): Generator<LsTreeEntry> {
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf('\0', start)
    if (end < 0) end = out.length
    const tab = out.indexOf('\t', start)
    if (tab >= 0 && tab < end) {
      const [mode = '', type = '', sha = '', size] = out.slice(start, tab).split(/ +/)
      yield { mode, type, sha, size, path: out.slice(tab + 1, end) }
    }
    start = end + 1
  }
}

/** One entry of `git ls-files --stage -z` output (`-s`); `tag` with `-v` ('H' cached, 'h' assume-unchanged, 'S' skip-worktree…). */
export interface LsFilesEntry {
  tag: string | undefined
  mode: string
  sha: string
  stage: string
  path: string
}

/**
 * The entries of `git ls-files --stage -z [-v]` output, in its order: the one parser of it (a
 * snapshot's draft lists its index, a put-back compares the index with a commit).
 */
export function* lsFilesEntries(out: string): Generator<LsFilesEntry> {
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf('\0', start)
    if (end < 0) end = out.length
    const tab = out.indexOf('\t', start)
    if (tab >= 0 && tab < end) {
      const fields = out.slice(start, tab).split(' ')
      // "H 100644 <id> 0" with -v, "100644 <id> 0" without.
      const tag = fields.length === 4 ? fields.shift() : undefined
      const [mode = '', sha = '', stage = ''] = fields
      yield { tag, mode, sha, stage, path: out.slice(tab + 1, end) }
    }
    start = end + 1
  }
}

export function parseNameStatus(out: string): GitStatusEntry[] {
  const parts = out.split('\0').filter((p) => p.length > 0)
  const entries: GitStatusEntry[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const code = (parts[i] as string)[0]
    const path = parts[i + 1] as string
    entries.push({ path, change: code === 'A' ? 'A' : code === 'D' ? 'D' : 'M' })
  }
  return entries
}

/**
 * git with bytes in and out and an environment of its own (a private index, GIT_INDEX_FILE),
 * for the all-or-nothing snapshot's plumbing (update-index --index-info and index-pack read their standard input).
 * The input is a string or bytes, or chunks made one at a time (a pack streamed into index-pack):
 * each is written when git has taken the one before ('drain'), so only one is held at a time.
 */
export function runGitBytes(dir: string, args: readonly string[], options: { env?: Record<string, string>; input?: string | Buffer | Iterable<Buffer> } = {}): Promise<Buffer> {
  return seeEveryEdit(dir, args, options.env, (env) => spawnGitBytes(dir, args, { ...options, env }))
}

function spawnGitBytes(dir: string, args: readonly string[], options: { env?: Record<string, string | undefined>; input?: string | Buffer | Iterable<Buffer> }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...BASE_ARGS, '-C', dir, ...args], {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: gitEnvWith(options.env),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let feedError: unknown
    child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.stderr?.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e) => reject(gitError(dir, args, `spawn git ${e.message}`)))
    child.on('close', (code) => {
      if (feedError !== undefined) reject(feedError)
      else if (code === 0) resolve(Buffer.concat(out))
      else reject(gitError(dir, args, Buffer.concat(err).toString('utf8') || `git exited ${code}`))
    })
    child.stdin?.on('error', () => undefined)
    const input = options.input
    if (input === undefined || child.stdin === null) return
    if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input)
    else {
      const stdin = child.stdin
      // Our own failure making the input (not git's) ends git's input short and is reported as is.
      feed(stdin, input).catch((error: unknown) => {
        feedError = error
        stdin.destroy()
      })
    }
  })
}

/** Write chunks one at a time, waiting for 'drain'; stops when git has closed its input (git's exit then tells). */
async function feed(stdin: Writable, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (stdin.destroyed) return
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done)
          stdin.off('close', done)
          resolve()
        }
        stdin.on('drain', done)
        stdin.on('close', done)
      })
    }
  }
  if (!stdin.destroyed) stdin.end()
}
