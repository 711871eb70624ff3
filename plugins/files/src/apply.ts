import { Value } from 'typebox/value'
import {
  isTwinSyncError,
  isWithin,
  sameXattrs,
  warningDiagnostic,
  type ApplyResult,
  type Change,
  type ChangeResult,
  type Diagnostic,
  type ProviderContext,
  twinsyncLines,
} from '@twinsync/sdk'
import { FilesChangeData } from './change-data.js'
import { classOf, judge, LEFTOVER, resolveScope, WALK, type FilesScope } from './collect.js'
import { sha256 } from './content.js'
import { ABSENT, fingerprintOf, type LiveFacts } from './fingerprint.js'
import { formatMode } from './mode.js'
import { readPackageIndex } from './package-origin.js'
import { linkOverClaims, notMirrored, notText, outsideScope, secretWrite, throughSymlink, tooLarge } from './scope.js'
import { onlyRootCanRead } from './secrets.js'
import { validateContent } from './validation.js'

/** Beyond this size apply does not hash a live file (collect does not either). */
const MAX_HASHED_SIZE = 64 * 1024 * 1024

interface LiveEntry extends LiveFacts {
  secret: boolean
  /** False when getfattr is installed in neither the host nor the target: nothing is known of its extended attributes. */
  attributesKnown: boolean
  /** A file exactly as a package ships it (its md5 is the one dpkg recorded for that path). */
  packaged?: boolean
}

/**
 * Carry out approved file changes, one by one, in the order given (the planner has ordered them).
 * Each change is checked again against the machine first: already done gives `unchanged`, a live
 * entry that moved since the plan (liveFingerprint) or turns out to be a secret fails the change.
 */
export async function applyFiles(ctx: ProviderContext, changes: readonly Change[], onResult?: (r: ChangeResult) => void): Promise<ApplyResult> {
  const { scope } = await resolveScope(ctx)
  const results: ChangeResult[] = []
  for (const change of changes) {
    let result: ChangeResult
    try {
      ctx.signal.throwIfAborted()
      result = await applyOne(ctx, scope, change)
    } catch (error) {
      result = failed(change, (await diskFullMessage(ctx, change, error)) ?? messageOf(error))
    }
    results.push(result)
    onResult?.(result)
  }
  return { results, diagnostics: [] }
}

async function applyOne(ctx: ProviderContext, scope: FilesScope, change: Change): Promise<ChangeResult> {
  if (change.provider !== 'files') return failed(change, `not a files change (provider ${change.provider})`)
  if (!Value.Check(FilesChangeData(), change.data)) return failed(change, 'the change has no valid files payload (was the plan edited?)')
  const data = change.data as FilesChangeData
  // Never more than a snapshot would copy, whoever calls (ApplyService refuses such a plan first: scope.ts's tooLarge).
  const large = tooLarge(data, scope.maxFileSize)
  if (large !== undefined) return failed(change, `${data.path}: ${large}; not applied`)
  // Content the twin never holds (a secret, a binary file), whoever calls (scope.ts's notMirrored).
  const unmirrored = notMirrored(data) ?? notText(data)
  if (unmirrored !== undefined) return failed(change, `${data.path}: ${unmirrored}; not applied`)
  // Only inside the provider's scope, whoever calls (ApplyService refuses such a plan first).
  const outside = outsideScope(ctx, scope, data.path)
  if (outside !== undefined) return failed(change, `${data.path} is outside the files provider's scope (${outside}); not applied`)
  const secret = secretWrite(scope, data)
  if (secret !== undefined) return failed(change, `${data.path} is outside the files provider's scope (${secret}); not applied`)
  // The machine as it is now, the plan's earlier changes made: never through a symlinked folder.
  const through = await throughSymlink(ctx, scope, data.path)
  if (through !== undefined) return failed(change, `${data.path} is outside the files provider's scope (${through}); not applied`)
  const overClaims = await linkOverClaims(ctx, data)
  if (overClaims !== undefined) return failed(change, `${data.path} is outside the files provider's scope (${overClaims}); not applied`)
  const host = ctx.host
  const live = await readLive(ctx, scope, data.path)
  if (isDone(data, live)) return { id: change.id, status: 'unchanged', message: `${data.path} is already as the twin says` }
  if (change.liveFingerprint !== undefined && fingerprintOf(live) !== change.liveFingerprint && !packageDefaultWhereNoneWas(change, live)) {
    return failed(change, `${data.path} changed on the machine since the plan was made; make a new plan`)
  }
  if (live?.secret === true && data.action !== 'chmod' && data.action !== 'chown' && data.action !== 'attributes') {
    return failed(change, `${data.path} holds a secret the twin never saw; TwinSync does not overwrite or delete it`)
  }
  const replaceType = 'replaceType' in data && data.replaceType === true
  if (live !== undefined && (data.action === 'write' || data.action === 'symlink' || data.action === 'mkdir')) {
    const sameType = live.type === (data.action === 'write' ? 'file' : data.action === 'symlink' ? 'symlink' : 'directory')
    if (!sameType && !replaceType) return failed(change, `${data.path} is a ${live.type} on the machine; the plan did not expect that`)
  }

  const diagnostics: Diagnostic[] = []
  // Extended attributes and capabilities: as the change says, or the live entry's carried over.
  // Unknown (getfattr installed nowhere): a rewrite keeps the live file's as they are (WriteOptions.keepAttributes).
  const attributes = wantedAttributes(data, live)
  const extended = attributes === 'unknown' ? {} : attributes
  const keep = attributes === 'unknown' ? { keepAttributes: true } : {}
  switch (data.action) {
    case 'write': {
      const outcome = await validateContent(host, data.path, data.text)
      if (outcome.status === 'invalid') {
        return failed(change, `${outcome.tool} rejects the new content of ${data.path}; the live file is untouched`, outcome.output)
      }
      if (outcome.status === 'unchecked' && outcome.reason !== 'no validator for this path') {
        diagnostics.push(warningDiagnostic('FILES_NOT_VALIDATED', `${data.path} was written without validation: ${outcome.reason}`, { path: data.path, provider: 'files' }))
      }
      if (live?.type === 'directory') {
        const kept = await removeReplacedFolder(ctx, change, data.path)
        if (kept !== undefined) return kept
      } else if (live !== undefined && live.type !== 'file') await host.remove(data.path)
      // One step: the temp file gets content, owner, mode, extended attributes and capabilities, then the rename.
      await host.writeFileAtomic(data.path, data.text, { mode: data.mode, uid: data.uid, gid: data.gid, ...extended, ...keep })
      break
    }
    case 'symlink':
      // Not atomic: the port has no rename. The gap is one unlink and one symlink call.
      if (live?.type === 'directory') {
        const kept = await removeReplacedFolder(ctx, change, data.path)
        if (kept !== undefined) return kept
      } else if (live !== undefined) await host.remove(data.path)
      await host.symlink(data.target, data.path, { uid: data.uid, gid: data.gid })
      break
    case 'mkdir':
      if (live !== undefined && live.type !== 'directory') await host.remove(data.path)
      if (live?.type === 'directory') {
        await host.setAttributes(data.path, { uid: data.uid, gid: data.gid, mode: data.mode, ...extended })
      } else {
        await host.mkdir(data.path, { mode: data.mode, uid: data.uid, gid: data.gid })
        if (extended.xattrs !== undefined || extended.capabilities !== undefined) await host.setAttributes(data.path, { mode: data.mode, ...extended })
      }
      break
    case 'chmod':
      if (live === undefined) return failed(change, `${data.path} does not exist`)
      await host.chmod(data.path, data.mode)
      break
    case 'chown':
      if (live === undefined) return failed(change, `${data.path} does not exist`)
      // chown clears setuid, setgid and capabilities: the port puts the mode back, the capabilities go back here.
      await host.setAttributes(data.path, { uid: data.uid, gid: data.gid, ...(extended.capabilities === undefined ? {} : { capabilities: extended.capabilities }) })
      break
    case 'attributes':
      if (live === undefined) return failed(change, `${data.path} does not exist`)
      // One step in the port: owner, extended attributes, mode, capabilities.
      await host.setAttributes(data.path, { uid: data.uid, gid: data.gid, mode: data.mode, ...extended })
      break
    case 'delete':
      // A folder goes entry by entry, as the plan names them; never a blind recursive removal.
      if (live?.type === 'directory') return deleteFolder(ctx, scope, change, data.path, data.below ?? [], diagnostics)
      // What was checked goes, nothing else: a folder put in its place since is kept (unlink, never rm -r).
      if ((await host.unlink(data.path)) === 'directory') return failed(change, `${data.path} is a folder now (something was put in place of what the plan deletes); it is kept`)
      break
  }
  return { id: change.id, status: 'applied', ...(diagnostics.length > 0 ? { diagnostics } : {}) }
}

/** Beyond this many, the entries a folder delete kept are counted, not listed, in its warning. */
const KEPT_LISTED = 10

/**
 * The folder a twin's file or symlink takes the place of: rmdir, never a recursive removal. The
 * plan's deletes below it ran first (diff.ts links them); what is left — an ignored file, one
 * put there since — is no one's approved deletion and no checkpoint holds it, so the folder is
 * kept and the change fails (pending). Before session 17: rm -r, silently.
 */
async function removeReplacedFolder(ctx: ProviderContext, change: Change, path: string): Promise<ChangeResult | undefined> {
  const outcome = await ctx.host.rmdir(path)
  if (outcome !== 'not-empty') return undefined
  return failed(change, `${path} is a folder that still holds what the plan does not name (an ignored file, or one put there since); it is kept: move those out, then apply again`)
}

/**
 * Delete a folder the plan deletes with the entries it names below it (`below`), and nothing
 * else: each named entry goes only while it is as the plan saw it (its live fingerprint) and holds
 * no secret, deepest first, and a folder only once it is empty. Whatever the plan did not name
 * (ignored or another provider's entries, a dpkg leftover, anything new since the plan) stays,
 * and so do the folders holding it: the change then fails with FILES_DELETE_KEPT, so the
 * deletion stays pending and visible instead of being reported done.
 */
async function deleteFolder(
  ctx: ProviderContext,
  scope: FilesScope,
  change: Change,
  path: string,
  below: ReadonlyArray<{ path: string; liveFingerprint: string }>,
  diagnostics: Diagnostic[],
): Promise<ChangeResult> {
  const named = new Map(below.map((e) => [e.path, e.liveFingerprint]))
  const kept: Array<{ path: string; why: string }> = []
  let removed = 0
  /** Empties a folder of what the plan names; true when nothing is left in it. */
  const clear = async (folder: string): Promise<boolean> => {
    let empty = true
    for (const entry of await ctx.host.readdir(folder)) {
      ctx.signal.throwIfAborted()
      const at = `${folder}/${entry.name}`
      const planned = named.get(at)
      const why = planned === undefined ? notNamed(ctx, scope, at) : await moved(ctx, scope, at, planned)
      if (why === 'gone') continue
      if (why !== undefined) {
        kept.push({ path: at, why })
        empty = false
        continue
      }
      if (entry.type === 'directory') {
        // Emptied of what the plan names, then removed only if empty: never what arrived meanwhile.
        if (!(await clear(at)) || !(await removeEmpty(at))) empty = false
        continue
      }
      // unlink, not a recursive removal: a folder put in place of the checked file is kept, and said.
      if ((await ctx.host.unlink(at)) === 'directory') {
        kept.push({ path: at, why: 'a folder now: something was put in place of the file while it was being deleted' })
        empty = false
        continue
      }
      removed++
    }
    return empty
  }
  /** rmdir, not a recursive removal: a folder something was put in while it was being emptied is kept, and said. */
  const removeEmpty = async (folder: string): Promise<boolean> => {
    const outcome = await ctx.host.rmdir(folder)
    if (outcome === 'not-empty') kept.push({ path: folder, why: 'not empty: something was put in it while it was being deleted' })
    else if (outcome === 'removed' && folder !== path) removed++
    return outcome !== 'not-empty'
  }
  if ((await clear(path)) && (await removeEmpty(path))) {
    return { id: change.id, status: 'applied', ...(diagnostics.length > 0 ? { diagnostics } : {}) }
  }
  const listed = kept.slice(0, KEPT_LISTED).map((k) => `${k.path} (${k.why})`)
  if (kept.length > KEPT_LISTED) listed.push(`and ${kept.length - KEPT_LISTED} more`)
  const entries = kept.length === 1 ? 'entry' : 'entries'
  const line = twinsyncLines(ctx)
  const deleted = `${removed} named ${removed === 1 ? 'entry was' : 'entries were'} deleted`
  diagnostics.push(
    warningDiagnostic('FILES_DELETE_KEPT', `${path} was not deleted: it holds ${kept.length} ${entries} the plan did not name or that changed since, kept: ${listed.join(', ')}; ${deleted}`, {
      path,
      provider: 'files',
      change: change.id,
      detail: `Look at what is left in ${path}: if it should go too, move or delete it yourself and run \`${line(['plan'])}\` again; to keep the folder, run \`${line(['discard', change.id])}\`.`,
    }),
  )
  return failed(change, `${path} is kept, with ${kept.length} ${entries} the plan did not name; ${deleted}`, undefined, diagnostics)
}

/** Why an entry a folder delete did not name is kept: what the collect made of it. */
function notNamed(ctx: ProviderContext, scope: FilesScope, path: string): string {
  if (ctx.claims.isClaimedByOther('files', path)) return `the ${ctx.claims.ownerOf(path)} provider's`
  const kind = classOf(ctx, scope, path)
  if (kind === LEFTOVER) return 'a dpkg/ucf leftover, never mirrored'
  if (kind !== WALK) return 'ignored: files.ignore or the built-in ignore list'
  return 'not in the plan: new since it was made'
}

/** Why a named entry is kept now ('gone' when it is not there any more), or undefined when it may go. */
async function moved(ctx: ProviderContext, scope: FilesScope, path: string, planned: string): Promise<string | 'gone' | undefined> {
  const live = await readLive(ctx, scope, path)
  if (live === undefined) return 'gone'
  if (live.secret) return 'holds a secret the twin never saw'
  return fingerprintOf(live) === planned ? undefined : 'changed on the machine since the plan'
}

/** The live entry as a change sees it, judged by the same rules as collect. */
async function readLive(ctx: ProviderContext, scope: FilesScope, path: string): Promise<LiveEntry | undefined> {
  const stat = await ctx.host.lstat(path)
  if (stat === undefined) return undefined
  const facts: LiveEntry = { type: stat.type, mode: formatMode(stat.mode), uid: stat.uid, gid: stat.gid, secret: false, attributesKnown: true }
  if (stat.type === 'symlink') facts.target = await ctx.host.readlink(path)
  if (stat.type === 'file' || stat.type === 'directory') {
    const attributes = await ctx.host.readAttributes(path)
    if (attributes === undefined) facts.attributesKnown = false
    else {
      if (Object.keys(attributes.xattrs).length > 0) facts.xattrs = attributes.xattrs
      if (attributes.capabilities !== undefined) facts.capabilities = attributes.capabilities
    }
  }
  if (stat.type !== 'file') return facts
  facts.size = stat.size
  const pathSecret = scope.secrets.pathVerdict(path)
  if (pathSecret !== undefined) facts.secret = true
  else if (stat.size <= MAX_HASHED_SIZE) {
    // The same verdict as collect: a file exactly as its package ships it is public.
    const packages = isWithin(path, '/etc') ? await readPackageIndex(ctx.host, ctx.cache, (p) => p === path) : undefined
    const packagedMd5s = packages?.get(path)?.map((f) => f.md5)
    const { verdict } = await judge(await ctx.host.readFile(path), scope, { path, rootOnly: onlyRootCanRead(stat), othersRead: (stat.mode & 0o004) !== 0, packagedMd5s })
    if (verdict.content === 'secret') facts.secret = true
    else if (verdict.sha256 !== undefined) facts.sha256 = verdict.sha256
    if (verdict.content !== 'secret' && packagedMd5s?.includes(verdict.md5) === true) facts.packaged = true
  }
  return facts
}

/**
 * Where the plan saw no file, a package's own file exactly as dpkg laid it down: an earlier step
 * of this apply installed the package (a revert or a pull that brings a package back with its
 * edited configuration: apt writes the package's default, then this step writes the twin's; seen
 * with lighttpd on a services root, session 21, where the step failed "changed on the machine" and
 * the service ran the default). Replacing a package's untouched default loses no one's edit; a
 * file that differs from the package's, or any other entry, still fails the step.
 */
function packageDefaultWhereNoneWas(change: Change, live: LiveEntry | undefined): boolean {
  return change.liveFingerprint === ABSENT && live?.type === 'file' && live.packaged === true && !live.secret
}

/**
 * The extended attributes and capabilities an entry ends with: the change's, or (when the twin
 * and the machine agreed when the plan was made) the live entry's, carried over. 'unknown' when a
 * live file is rewritten and its attributes cannot be read.
 */
function wantedAttributes(data: FilesChangeData, live: LiveEntry | undefined): { xattrs?: Record<string, string>; capabilities?: string } | 'unknown' {
  if (data.action === 'symlink' || data.action === 'delete' || data.action === 'chmod') return {}
  const own = 'xattrs' in data || 'capabilities' in data ? data : undefined
  const carried = live !== undefined && live.type === (data.action === 'mkdir' ? 'directory' : 'file') ? live : undefined
  if (own === undefined && carried !== undefined && !carried.attributesKnown && data.action === 'write') return 'unknown'
  const xattrs = own?.xattrs ?? carried?.xattrs
  const capabilities = own?.capabilities ?? carried?.capabilities
  return {
    ...(xattrs === undefined ? {} : { xattrs }),
    ...(capabilities === undefined || (capabilities === '' && carried?.capabilities === undefined) ? {} : { capabilities }),
  }
}

function attributesDone(data: FilesChangeData, live: LiveEntry): boolean {
  if (!('xattrs' in data) && !('capabilities' in data)) return true
  return sameXattrs(data.xattrs ?? live.xattrs, live.xattrs) && (data.capabilities ?? live.capabilities ?? '') === (live.capabilities ?? '')
}

function isDone(data: FilesChangeData, live: LiveEntry | undefined): boolean {
  const owned = (uid: number, gid: number) => live !== undefined && live.uid === uid && live.gid === gid
  switch (data.action) {
    case 'write':
      return live?.type === 'file' && live.sha256 === sha256(data.text) && live.mode === formatMode(data.mode) && owned(data.uid, data.gid) && attributesDone(data, live)
    case 'symlink':
      return live?.type === 'symlink' && live.target === data.target && owned(data.uid, data.gid)
    case 'mkdir':
      return live?.type === 'directory' && live.mode === formatMode(data.mode) && owned(data.uid, data.gid) && attributesDone(data, live)
    case 'chmod':
      return live !== undefined && live.mode === formatMode(data.mode)
    case 'chown':
      return owned(data.uid, data.gid)
    case 'attributes':
      return live !== undefined && (live.type === 'symlink' || live.mode === formatMode(data.mode)) && owned(data.uid, data.gid) && attributesDone(data, live)
    case 'delete':
      return live === undefined
    case 'too-large':
    case 'not-mirrored':
    case 'not-text':
      return false
  }
}

function failed(change: Change, message: string, outputTail?: string, diagnostics: readonly Diagnostic[] = []): ChangeResult {
  return {
    id: change.id,
    status: 'failed',
    message,
    ...(outputTail === undefined || outputTail === '' ? {} : { outputTail }),
    ...(diagnostics.length > 0 ? { diagnostics: [...diagnostics] } : {}),
  }
}

/**
 * A write the target's file system had no room for (ENOSPC, or EDQUOT: the owner's quota), said
 * with the file system that is full: its mount point, found by walking up from the change's folder
 * while the device stays the same (the temporary file of an atomic write is made in that folder).
 * Session 28: the step said only "ENOSPC: no space left on device, write", naming no place.
 */
async function diskFullMessage(ctx: ProviderContext, change: Change, error: unknown): Promise<string | undefined> {
  const code = (error as { code?: unknown } | null)?.code
  const text = messageOf(error)
  const quota = code === 'EDQUOT' || /Disk quota exceeded/i.test(text)
  if (!quota && code !== 'ENOSPC' && !/No space left on device/i.test(text)) return undefined
  const path = (change.data as { path?: unknown } | undefined)?.path
  if (typeof path !== 'string' || !path.startsWith('/')) return undefined
  const folder = path.slice(0, path.lastIndexOf('/')) || '/'
  let where = `the file system of ${folder}`
  const dev = (await ctx.host.stat(folder).catch(() => undefined))?.dev
  if (dev !== undefined) {
    let mount = folder
    while (mount !== '/') {
      const parent = mount.slice(0, mount.lastIndexOf('/')) || '/'
      if ((await ctx.host.stat(parent).catch(() => undefined))?.dev !== dev) break
      mount = parent
    }
    // Session 30: under --root, a walk that reaches the target's "/" has found no mount inside the
    // root: the full file system holds the root folder itself ("mounted at /" sent a person to the
    // host's own /, which had room).
    const root = ctx.host.root
    where =
      mount === '/' && root !== '/'
        ? `the file system holding the target root ${root}${folder === '/' ? '' : ` (and its ${folder})`}`
        : `the file system mounted at ${mount}${mount === folder ? '' : ` (it holds ${folder})`}`
  }
  return `${path}: ${where} is full${quota ? ' for its owner (disk quota reached)' : ''}; not applied (${text})`
}

function messageOf(error: unknown): string {
  if (isTwinSyncError(error)) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}
