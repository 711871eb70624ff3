import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { findSecrets, mirrorPath, REDACTED, TwinSyncError, writeFileAtomic } from '@twinsync/sdk/light'
import { logFields, lsTreeEntries, readBlobs, revParseCommit, runGit, runGitBytes, tryGit } from '../twin/git.js'
import { gcWhole } from '../twin/auto-pack.js'
import { FORGET_RECORD, type ForgetRecord } from './forget-record.js'
import { quoteArg, twinOnlyLines, type LineFor } from '../plan/command-text.js'
import { commitTree } from '../intent/intent-git.js'
import { moving } from '../twin/move-stamp.js'
import { COMMANDS_LEDGER } from '../plan/plan-instructions.js'

export interface ForgetRequest {
  /** Machine paths (/etc/x: its mirrored copy filesystem/etc/x) or twin paths (system/logs/journal.txt); folders too. */
  paths: readonly string[]
  /** Detector rules ("credential-assignment", "private-key"…, or "any"): every finding of them is forgotten. */
  rules: readonly string[]
}

export interface ForgetReport {
  /** Twin paths removed from every snapshot. */
  removed: string[]
  /** Twin paths whose findings were redacted in place (documents other than mirrored files). */
  redacted: string[]
  /** Snapshots whose content changed. */
  rewritten: number
  commits: number
}

interface CommitMeta {
  commit: string
  parents: string[]
  tree: string
  env: Record<string, string>
  body: string
}

/**
 * The twin path a person means: a machine path is its mirrored copy. Spelled with `//`, `.` or
 * `..` it is the same file (session 24: `/etc//app/db.conf` forgot nothing, "no snapshot holds",
 * and the secret stayed in every snapshot).
 */
export function twinPathOf(path: string): string {
  const trimmed = posix.normalize(path).replace(/\/+$/, '')
  return trimmed.startsWith('/') ? mirrorPath(trimmed) : trimmed
}

/**
 * Take paths, or every finding of some detector rules, out of the whole history: every commit is
 * written again without them (dates, authors and messages kept) and labels move along. Mirrored
 * files with a finding are removed whole (they are applied back, so they never hold a redaction
 * marker); other documents (logs, facts) keep their lines with the value redacted. The old
 * objects are pruned here unless a mirror ref still reaches them (then after the forced push and gc).
 */
export async function forgetInHistory(
  dir: string,
  request: ForgetRequest,
  /** `line`: the run's `twinsync ARGS` (RunTarget.line; alone, twinOnlyLines: --repo only). */
  options: { pending?: { paths: readonly string[]; nextStep: string }; line?: LineFor } = {},
): Promise<ForgetReport> {
  const line = options.line ?? twinOnlyLines(dir)
  const wanted = request.paths.map(twinPathOf)
  refuseOwnRecords(request.paths, wanted, line)
  await refuseStaged(dir)
  const rules = new Set(request.rules)
  const refs = await localRefs(dir)
  const commits = await commitsOldestFirst(dir, [...new Set(refs.map((r) => r.commit))])
  const tmp = await mkdtemp(join(tmpdir(), 'twinsync-forget-'))
  const index = join(tmp, 'index')
  const indexEnv = { GIT_INDEX_FILE: index }
  const removed = new Set<string>()
  const redacted = new Set<string>()
  /** A blob at a path (verdictKey) → what becomes of it under the rules: kept, dropped, or a new blob id. */
  const verdicts = new Map<string, 'keep' | 'drop' | { blob: string }>()
  const moved = new Map<string, string>()
  let rewritten = 0
  try {
    for (const c of commits) {
      let tree = c.tree
      const entries = await treeEntries(dir, c.tree)
      const drop = new Set<string>()
      const replace: Array<{ mode: string; blob: string; path: string }> = []
      for (const e of entries) {
        if (wanted.some((w) => e.path === w || e.path.startsWith(`${w}/`))) drop.add(e.path)
      }
      if (rules.size > 0) {
        await judgeBlobs(dir, entries.filter((e) => !drop.has(e.path)), rules, verdicts)
        for (const e of entries) {
          if (drop.has(e.path)) continue
          const v = verdicts.get(verdictKey(e))
          if (v === 'drop') drop.add(e.path)
          else if (v !== undefined && v !== 'keep') {
            replace.push({ mode: e.mode, blob: v.blob, path: e.path })
            redacted.add(e.path)
          }
        }
      }
      if (drop.size > 0 || replace.length > 0) {
        for (const p of drop) removed.add(p)
        await runGit(dir, ['read-tree', c.tree], { env: indexEnv })
        if (drop.size > 0) await runGitBytes(dir, ['update-index', '--force-remove', '-z', '--stdin'], { input: [...drop].map((p) => `${p}\0`).join(''), env: indexEnv })
        if (replace.length > 0) await runGitBytes(dir, ['update-index', '-z', '--index-info'], { input: replace.map((r) => `${r.mode} ${r.blob}\t${r.path}\0`).join(''), env: indexEnv })
        tree = (await runGit(dir, ['write-tree'], { env: indexEnv })).trim()
        rewritten++
      }
      const parents = c.parents.map((p) => moved.get(p) ?? p)
      if (tree === c.tree && parents.every((p, i) => p === c.parents[i])) {
        moved.set(c.commit, c.commit)
        continue
      }
      moved.set(c.commit, await commitTree(dir, tree, parents, c.body.replace(/\n+$/, ''), c.env))
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  if (removed.size === 0 && redacted.size === 0) {
    const what = [...wanted, ...[...rules].map((r) => `findings of ${r}`)].join(', ')
    throw new TwinSyncError('FORGET_NOTHING', `Nothing to forget: no snapshot holds ${what}`, {
      nextStep: `Check the path (a machine path like /etc/app.conf, or a twin path like system/logs/journal.txt) or the rule name; \`${line(['history', '--json'])}\` lists the snapshots.`,
    })
  }
  // A person's pending edit stays in the working twin through the rewrite (settleForgotten's
  // two-tree merge keeps it, a kill included); one on what is forgotten cannot: refused here,
  // before the record, so nothing has changed (the new objects are unreferenced).
  const touched = (options.pending?.paths ?? []).filter((p) => removed.has(p) || redacted.has(p) || wanted.some((w) => p === w || p.startsWith(`${w}/`)))
  if (touched.length > 0) {
    throw new TwinSyncError('TWIN_DIRTY', `The twin has uncommitted edits of what forget takes out of history (${touched.slice(0, 3).join(', ')}${touched.length > 3 ? '…' : ''}); forget would lose them`, {
      nextStep: `${options.pending?.nextStep ?? ''} Edits of other paths stay pending through a forget.`.trim(),
      details: { dirty: touched },
    })
  }
  const report = { removed: [...removed].sort(), redacted: [...redacted].sort(), rewritten, commits: commits.length }
  const head = await revParseCommit(dir, 'HEAD')
  // On disk before the refs move: a run killed after the move and before the working twin follows
  // leaves the forgotten files there, which the next snapshot took for an edit and committed
  // back (refs/twinsync/intended). Until a rerun finishes, every command refuses the twin (open()).
  // The rewrite moves HEAD and the working twin: one move, from the record on (move-stamp.ts).
  await moving(dir, async () => {
    await mkdir(dirname(join(dir, FORGET_RECORD)), { recursive: true })
    await writeFileAtomic(join(dir, FORGET_RECORD), JSON.stringify({ version: 1, head: head === undefined ? undefined : moved.get(head), ...report } satisfies ForgetRecord))
    await moveRefs(dir, refs, moved)
    await settleForgotten(dir, line)
  })
  return report
}

/** The twin's own records (refuseOwnRecords): `forget PATH` refuses them, `forget --rule` redacts a secret in them (and the push's refusal says so). */
export const TWIN_OWN_RECORDS: readonly string[] = ['twin.json', COMMANDS_LEDGER]

/**
 * The twin's own records, which no snapshot of the machine makes again: twin.json (whose twin it
 * is: without it the twin is none, REPO_NOT_TWIN for every command) and the record of the run-once
 * commands that ran (COMMANDS_LEDGER: without it every such command is planned again as a new one,
 * with no COMMAND_RAN_BEFORE warning either, the last snapshot's record being forgotten too).
 * Session 44 (attack): `forget twin.json` (the hostname is in it) left a twin no command would
 * open, whose next step was to make a new one; `forget system/journal/commands.json` (a command's
 * password is in its summary) had `sh -c '…'` planned to run again. Refused (FORGET_INVALID, exit
 * 2, nothing changed), a folder holding one too; a secret inside one is forgotten with `--rule`,
 * which redacts it and keeps the record.
 */
function refuseOwnRecords(asked: readonly string[], wanted: readonly string[], line: LineFor): void {
  const hit = wanted.flatMap((w, i) => (TWIN_OWN_RECORDS.some((o) => o === w || o.startsWith(`${w}/`)) ? [asked[i] ?? w] : []))
  if (hit.length === 0) return
  throw new TwinSyncError('FORGET_INVALID', `Not forgotten: ${hit.join(', ')} ${hit.length === 1 ? 'is or holds' : 'are or hold'} the twin's own records (twin.json: whose twin it is; ${COMMANDS_LEDGER}: which run-once commands ran), which no snapshot writes again; nothing was changed`, {
    nextStep: `To take a secret out of them, forget the finding instead: \`${line(['forget', '--rule', 'any'])}\` redacts it in every snapshot and keeps the records (or name its rule).`,
    details: { paths: hit },
  })
}

/**
 * An edit staged in git's index (a person's `git add` in the twin; TwinSync stages nothing there)
 * would be taken back by settleForgotten, which moves the index's tree to the rewritten branch:
 * refused before anything changes.
 */
async function refuseStaged(dir: string): Promise<void> {
  if ((await revParseCommit(dir, 'HEAD')) === undefined) return
  const staged = (await runGit(dir, ['diff', '--cached', '--name-only', '-z', 'HEAD'], { env: { GIT_OPTIONAL_LOCKS: '0' } })).split('\0').filter(Boolean)
  if (staged.length === 0) return
  throw new TwinSyncError('TWIN_DIRTY', `The twin has edits staged in git's index (${staged.slice(0, 3).join(', ')}${staged.length > 3 ? '…' : ''}); forget would lose them`, {
    nextStep: 'Unstage them (`git -C TWIN restore --staged .` keeps the edits as pending changes), then run forget again.',
    details: { dirty: staged },
  })
}

/**
 * Finish a forget that was killed (under the twin lock): refs moved — the working twin follows the
 * rewritten branch (forgotten files removed, redacted documents as committed; any other edit a
 * person made since is kept) and the old objects are pruned; refs not moved — nothing happened,
 * the record goes. Returns what the interrupted forget did, or undefined when none was.
 */
export async function finishInterruptedForget(dir: string, line: LineFor = twinOnlyLines(dir)): Promise<ForgetReport | undefined> {
  const path = join(dir, FORGET_RECORD)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let record: ForgetRecord | undefined
  try {
    const value = JSON.parse(text) as ForgetRecord
    if (value.version === 1 && Array.isArray(value.removed) && Array.isArray(value.redacted)) record = value
  } catch {}
  if (record === undefined) {
    throw new TwinSyncError('REPO_INVALID', `The record of an interrupted forget (${path}) cannot be read`, {
      nextStep: `Look at it and at \`git -C ${quoteArg(dir)} status\`, then remove it (\`rm ${quoteArg(path)}\`) and run \`${line(['forget', 'PATH'])}\` with what to forget again.`,
      details: { path },
    })
  }
  if (record.head !== undefined && (await revParseCommit(dir, 'HEAD')) !== record.head) {
    // Killed before the refs moved (one transaction): history and working twin are as they were.
    await rm(path, { force: true })
    return undefined
  }
  await moving(dir, () => settleForgotten(dir, line))
  return { removed: record.removed, redacted: record.redacted, rewritten: record.rewritten, commits: record.commits }
}

/**
 * The working twin to the rewritten branch, then the old objects pruned, then the record removed.
 * A two-tree `read-tree -m -u` from the index's tree (the old branch's, as the run left it) to
 * the branch, as `git checkout` moves between commits: each forgotten file is deleted, each
 * redacted document is written as committed, and git keeps any other edit a person made since
 * (a kill leaves a rerun to finish; `reset --hard` would drop it).
 */
async function settleForgotten(dir: string, line: LineFor): Promise<void> {
  try {
    await stageWhatMoved(dir)
    const indexTree = (await runGit(dir, ['write-tree'])).trim()
    // The index's stat data first: `read-tree -m -u` refreshes nothing and refuses an entry whose
    // stat data is smudged (quick-status.ts's smudgeCtimeRacy: a refresh's, an add's) as "not
    // uptodate", as remote-service's `reset --keep` did (session 41). A file that differs stays refused.
    await tryGit(dir, ['update-index', '-q', '--refresh'])
    await runGit(dir, ['read-tree', '-m', '-u', indexTree, 'HEAD'])
  } catch (error) {
    throw new TwinSyncError('FORGET_UNFINISHED', `The twin's files could not be brought to the rewritten history: ${(error as Error).message.split('\n')[0]}`, {
      nextStep: `Run \`${line(['forget'])}\` again to finish; if a forgotten file was edited since, look at \`git -C ${quoteArg(dir)} status\` and drop the edits (\`git -C ${quoteArg(dir)} reset --hard\`) first.`,
    })
  }
  await runGit(dir, ['reflog', 'expire', '--expire=now', '--all'])
  await gcWhole(dir)
  await rm(join(dir, FORGET_RECORD), { force: true })
}

/**
 * A settle killed inside its `read-tree -m -u` after git rewrote part of the working twin and
 * before it renamed the new index into place (session 21, reproduced with a kill -9 at that
 * rename): the index still has the old branch's entries while those files already hold the
 * rewritten branch's, and the rerun's merge refused each as "not uptodate". Of the paths the
 * merge would move (index against HEAD), those whose working file is already HEAD's are staged
 * as they are, so the merge has nothing left to do for them; the others move as before. A
 * person's edit of such a path was refused before the refs moved (forgetInHistory), and a file
 * that is not HEAD's is left to the merge. Nothing is staged on an ordinary run (none is HEAD's).
 */
async function stageWhatMoved(dir: string): Promise<void> {
  const env = { GIT_OPTIONAL_LOCKS: '0', GIT_LITERAL_PATHSPECS: '1' }
  const toMove = (await runGit(dir, ['diff', '--cached', '--name-only', '--no-renames', '-z', 'HEAD'], { env })).split('\0').filter(Boolean)
  if (toMove.length === 0) return
  // The working twin against HEAD, whole (no path list on a command line, however many moved).
  const notHeads = new Set((await runGit(dir, ['diff', '--name-only', '--no-renames', '-z', 'HEAD'], { env })).split('\0').filter(Boolean))
  const moved = toMove.filter((p) => !notHeads.has(p))
  if (moved.length > 0) await runGitBytes(dir, ['add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], { env: { GIT_LITERAL_PATHSPECS: '1' }, input: moved.map((p) => `${p}\0`).join('') })
}

/** The branches and TwinSync's own refs; not the mirror's (it moves with the forced push) nor tags (moveRefs moves both). */
export async function localRefs(dir: string): Promise<Array<{ name: string; commit: string }>> {
  const out = await runGit(dir, ['for-each-ref', '--format=%(refname)%09%(objectname)%09%(objecttype)', 'refs/heads', 'refs/twinsync'])
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .filter(([, , type]) => type === 'commit')
    .map(([name = '', commit = '']) => ({ name, commit }))
}

async function commitsOldestFirst(dir: string, tips: readonly string[]): Promise<CommitMeta[]> {
  const rows = await logFields(dir, ['%H', '%P', '%T', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'], ['--reverse', '--topo-order', ...tips])
  return rows.map(([commit = '', parents = '', tree = '', an = '', ae = '', ad = '', cn = '', ce = '', cd = '', body = '']) => ({
    commit,
    parents: parents.split(' ').filter(Boolean),
    tree,
    env: { GIT_AUTHOR_NAME: an, GIT_AUTHOR_EMAIL: ae, GIT_AUTHOR_DATE: ad, GIT_COMMITTER_NAME: cn, GIT_COMMITTER_EMAIL: ce, GIT_COMMITTER_DATE: cd },
    body,
  }))
}

async function treeEntries(dir: string, tree: string): Promise<Array<{ mode: string; blob: string; path: string }>> {
  return [...lsTreeEntries(await runGit(dir, ['ls-tree', '-r', '-z', tree]))].filter((e) => e.type === 'blob').map(({ mode, sha, path }) => ({ mode, blob: sha, path }))
}

/**
 * A verdict is a blob's at one path: what the detector finds depends on the path (a key file's
 * name), and what becomes of a finding on where it lies. Session 44 (attack): keyed by the blob
 * alone, a log line of `password = …` committed first under system/logs/ and later, byte for byte,
 * as a mirrored file got that file redacted to `password = <redacted>` (the report said
 * "redacted", not "forgot"), which mirrored files never hold; the other way round the log was
 * dropped whole. A blob repeated at the same path over the commits is still judged once.
 */
function verdictKey(entry: { blob: string; path: string }): string {
  return `${entry.path}\0${entry.blob}`
}

/** Run each new blob through the detector once at each of its paths: its findings of the rules drop it (mirrored files) or redact it. */
async function judgeBlobs(
  dir: string,
  entries: ReadonlyArray<{ blob: string; path: string }>,
  rules: ReadonlySet<string>,
  verdicts: Map<string, 'keep' | 'drop' | { blob: string }>,
): Promise<void> {
  const fresh = entries.filter((e) => !verdicts.has(verdictKey(e)))
  if (fresh.length === 0) return
  const blobs = await readBlobs(dir, [...new Set(fresh.map((e) => e.blob))])
  for (const e of fresh) {
    const key = verdictKey(e)
    if (verdicts.has(key)) continue
    const bytes = blobs.get(e.blob)
    if (bytes === undefined) {
      verdicts.set(key, 'keep')
      continue
    }
    const text = Buffer.from(bytes).toString('latin1')
    const hits = (await findSecrets(text, { path: e.path })).filter((f) => rules.has('any') || rules.has(f.rule))
    if (hits.length === 0) verdicts.set(key, 'keep')
    else if (e.path.startsWith('filesystem/')) verdicts.set(key, 'drop')
    else {
      let out = ''
      let at = 0
      for (const f of hits) {
        out += text.slice(at, f.start) + REDACTED
        at = f.end
      }
      out += text.slice(at)
      const blob = (await runGitBytes(dir, ['hash-object', '-w', '--stdin'], { input: Buffer.from(out, 'latin1') })).toString('utf8').trim()
      verdicts.set(key, { blob })
    }
  }
}

/**
 * The branch, TwinSync's own refs (refs/twinsync/observed, …/intended) and the labels move to the
 * rewritten commits in one git transaction (`update-ref --stdin`, each from the id it was read
 * at): all or none. Moved one by one, a failure or a kill between them left the branch rewritten
 * and `observed` (the last snapshot) on the old history, which still held what was forgotten, so
 * the twin differed from its last snapshot by an edit no one made. An annotated tag (not one
 * TwinSync makes) gets a new tag object of the same name, tagger and message that points at the
 * rewritten commit, moved in the same transaction (session 19: it was moved after, by `git tag -f`,
 * which made it a lightweight tag and, killed between, left it on the old chain for good: a rerun
 * never saw it again and gc kept that chain, with what forget took out). A signature on it no
 * longer matches and is left off.
 */
export async function moveRefs(dir: string, refs: ReadonlyArray<{ name: string; commit: string }>, moved: ReadonlyMap<string, string>): Promise<void> {
  const lines: string[] = []
  for (const ref of refs) {
    const target = moved.get(ref.commit)
    if (target !== undefined && target !== ref.commit) lines.push(`update ${ref.name}\0${target}\0${ref.commit}\0`)
  }
  const out = (await runGit(dir, ['for-each-ref', '--format=%(objectname)%09%(*objectname)%09%(refname)', 'refs/tags']))
  for (const line of out.split('\n').filter(Boolean)) {
    const [object = '', peeled = '', name = ''] = line.split('\t')
    const target = moved.get(peeled || object)
    if (target === undefined || target === (peeled || object)) continue
    const next = peeled === '' ? target : await retargetTag(dir, object, target)
    lines.push(`update ${name}\0${next}\0${object}\0`)
  }
  // HEAD moves under the working twin (forget's rewrite, gc's fold): a move (move-stamp.ts), stamped here for both.
  if (lines.length > 0) await moving(dir, () => runGitBytes(dir, ['update-ref', '-m', 'twinsync forget', '-z', '--stdin'], { input: `start\0${lines.join('')}prepare\0commit\0` }))
}

/** A copy of the tag object `tag` that points at `commit` (name, tagger and message kept, a signature left off): its id. */
async function retargetTag(dir: string, tag: string, commit: string): Promise<string> {
  const text = (await runGitBytes(dir, ['cat-file', 'tag', tag])).toString('utf8')
  const split = text.indexOf('\n\n')
  const header = (split < 0 ? text : text.slice(0, split + 1)).split('\n').filter((l) => l !== '' && !l.startsWith('object ') && !l.startsWith('type '))
  let message = split < 0 ? '' : text.slice(split + 2)
  const signed = /^-----BEGIN (PGP|SSH) SIGNATURE-----$/m.exec(message)
  if (signed !== null) message = message.slice(0, signed.index)
  const body = `object ${commit}\ntype commit\n${header.join('\n')}\n\n${message}`
  return (await runGitBytes(dir, ['hash-object', '-t', 'tag', '-w', '--stdin'], { input: body })).toString('utf8').trim()
}
