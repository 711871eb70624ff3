import { isWithin, twinsyncLines, warningDiagnostic, type Change, type Diagnostic, type ProviderContext, type TwinsyncLine } from '@twinsync/sdk'
import { classOf, LEFTOVER, resolveScope, WALK, type FilesScope } from './collect.js'
import { NameScreen } from './secret-names.js'

/**
 * Why the files provider does not manage `path` on this machine now, or undefined when it does.
 * The rule of what a collect lists (collect.ts's walk, its classOf from the root down): a path under one of the include roots
 * (files.include, or the defaults, "~/x" once per selected user), with nothing from that root
 * down to the path itself claimed by another provider, ignored (files.ignore and the built-in
 * list), or a dpkg/ucf leftover (listed apart, never an entry). A collect never lists anything
 * else, so a twin entry elsewhere comes from a hand edit, a forged twin, or an include set
 * narrowed since the snapshot: never planned, never applied. `classes`: the classes (classOf)
 * already asked in this round, kept by path, so a folder above many changes is asked once.
 */
export function outsideScope(ctx: ProviderContext, scope: FilesScope, path: string, classes?: Map<string, number>): string | undefined {
  const root = scope.roots.find((r) => isWithin(path, r))
  if (root === undefined) return 'not under any path of files.include'
  for (let at = path; ; at = at.slice(0, Math.max(at.lastIndexOf('/'), 1))) {
    let kind = classes?.get(at)
    if (kind === undefined) {
      kind = classOf(ctx, scope, at)
      classes?.set(at, kind)
    }
    if (kind === LEFTOVER) return `${at} is a dpkg/ucf leftover, listed apart and never mirrored`
    if (kind !== WALK) {
      if (ctx.claims.isClaimedByOther('files', at)) return `${at} belongs to the ${ctx.claims.ownerOf(at)} provider`
      return at === path ? 'ignored (files.ignore or the built-in ignore list)' : `${at} is ignored (files.ignore or the built-in ignore list)`
    }
    if (at === root) return undefined
  }
}

/**
 * Why a change at `path` would act through a symlinked folder, or undefined when it would not:
 * the first folder from its include root down to its parent that is a symlink on the machine
 * (lstat, never followed), or that the same plan makes one (`plan.links`). A collect never walks
 * into a symlinked folder, so nothing below one is the files provider's; a write there would land
 * wherever the link leads (/etc/keys -> /root/.ssh: /etc/keys/authorized_keys is root's). A folder
 * the plan makes a real one first (`plan.folders`, a mkdir that replaces the link) counts as one.
 * Asked when a plan is made and when it is applied (PlanScope), and again by apply right before
 * each change, when the earlier changes of the plan are in place.
 */
export async function throughSymlink(
  ctx: ProviderContext,
  scope: FilesScope,
  path: string,
  plan: { links: ReadonlySet<string>; folders: ReadonlySet<string> } = { links: new Set(), folders: new Set() },
): Promise<string | undefined> {
  const root = scope.roots.find((r) => isWithin(path, r))
  if (root === undefined || path === root) return undefined
  // The include root itself, then each folder below it down to the parent.
  const folders = [root, ...path.slice(root.length + (root === '/' ? 0 : 1), path.lastIndexOf('/')).split('/').filter(Boolean)]
  let at = ''
  for (const [i, name] of folders.entries()) {
    at = i === 0 ? name : `${at === '/' ? '' : at}/${name}`
    if (plan.links.has(at)) return `${at} is made a symlink by this plan; the files provider never writes through one`
    if (plan.folders.has(at)) continue
    const stat = await ctx.host.lstat(at)
    if (stat === undefined || stat.type === 'directory') {
      if (stat === undefined) return undefined
      continue
    }
    if (stat.type === 'symlink') return `${at} is a symlink on the machine (to ${await ctx.host.readlink(at).catch(() => '?')}); the files provider never writes through one`
    return undefined
  }
  return undefined
}

/**
 * Why the files provider must not make `path` a symlink, or give one there an owner (`data`, a
 * change's payload), or undefined when it may: another provider writes below it (one of its
 * claims matches a path below: /etc/rc2.d holds systemd's boot links, /etc/xdg/autostart
 * autostart's entries, the crontab spool cron's). A folder link only root can have placed is
 * followed by every read and write (sdk/src/linked-folder.ts's walkLinks), and a link TwinSync
 * made is root's in the next run: a twin that had /etc/rc2.d made a link to /etc/sudoers.d
 * would have the next "enable nginx" write its boot link there, sudo broken (session 15).
 */
export async function linkOverClaims(ctx: ProviderContext, data: { action?: unknown; path?: unknown }): Promise<string | undefined> {
  if (typeof data.path !== 'string') return undefined
  const path = data.path
  if (data.action !== 'symlink') {
    if (data.action !== 'chown' && data.action !== 'attributes') return undefined
    if ((await ctx.host.lstat(path))?.type !== 'symlink') return undefined
  }
  const below = ctx.claims.claimBelow(path, 'files')
  if (below !== undefined) return `${below.provider} writes below it (${below.pattern}): the files provider never makes it a symlink, nor gives one there an owner`
  return undefined
}

/** What to do about a symlink over another provider's paths, pasted into the diagnostic. */
export function linkOverClaimsNextStep(line: TwinsyncLine, id: string): string {
  return `Another provider writes in that folder, and would write wherever a link there leads. Keep it a real folder: remove the symlink entry from system/files/manifest.json in the twin (\`${line(['discard', id])}\`). If the machine needs the link, make it by hand (root-owned, TwinSync then goes through it).`
}

/** What to do about a change below a symlinked folder, pasted into the diagnostic. */
export function throughSymlinkNextStep(line: TwinsyncLine, id: string): string {
  return `A snapshot never follows a symlinked folder either. If the twin means that folder to be a real one, make it a directory entry in system/files/manifest.json (the plan then replaces the link first, for you to approve); otherwise remove the entries below it from the twin (\`${line(['discard', id])}\` for this one).`
}

/**
 * Why a change writes more than the files provider takes into the twin, or undefined: the twin's
 * document was bigger than maxFileSize (`too-large`: the plan never read it), or a write's text
 * is (a plan file made by hand). A snapshot records such a file (size, hash) and never copies
 * it, so a twin that holds one (a mirror's push, an edit) asks for what TwinSync never reviews
 * whole; the change is left out (FILES_TOO_LARGE_NOT_PLANNED) and stays pending, shown.
 */
export function tooLarge(data: { action?: unknown; size?: unknown; text?: unknown }, maxFileSize: number): string | undefined {
  const size = data.action === 'too-large' ? Number(data.size) : data.action === 'write' && typeof data.text === 'string' && data.text.length > maxFileSize / 3 ? Buffer.byteLength(data.text) : undefined
  if (size === undefined || (data.action === 'write' && size <= maxFileSize)) return undefined
  return `the twin's file is ${size} bytes, more than the ${maxFileSize} bytes of maxFileSize (a snapshot records such a file, never copies it)`
}

/** What to do about a file bigger than maxFileSize in the twin, pasted into the diagnostic. */
export function tooLargeNextStep(line: TwinsyncLine, id: string): string {
  return `If the machine should have this file, raise limits.maxFileSize (or files.maxFileSize) in the configuration above its size and plan again; otherwise take the file out of the twin (\`${line(['discard', id])}\`, or \`git rm\` it under filesystem/).`
}

/**
 * Why a change would set content the twin never holds, or undefined: the twin's document for a
 * file its manifest lists as not mirrored (`not-mirrored`, diff.ts): a secret (its hash is
 * recorded, never its content), a binary file, one bigger than maxFileSize. A snapshot never
 * writes such a document, so a person committed it or a pull brought it; what the twin never saw
 * is never overwritten from it, and a secret's content is never taken from a twin. The change
 * carries no content; it is left out (FILES_NOT_MIRRORED_NOT_PLANNED) and stays pending, shown,
 * until it is discarded. Asked when a plan is made (filesOutOfScope) and by apply, whoever calls.
 */
export function notMirrored(data: { action?: unknown; content?: unknown }): string | undefined {
  if (data.action !== 'not-mirrored') return undefined
  const kind =
    data.content === 'secret'
      ? 'holds a secret (the twin records its keyed hash, never its content)'
      : data.content === 'binary'
        ? 'is binary (the twin records its size and hash, never its content)'
        : data.content === 'too-large'
          ? 'is bigger than maxFileSize (the twin records its size and hash, never its content)'
          : 'is not mirrored (its manifest entry does not say "content": "mirrored")'
  return `the twin has a document for it, but the file ${kind}: its content is never taken from the twin`
}

/**
 * Why a change would write a twin document that is not text, or undefined: `not-text` (diff.ts),
 * a document under filesystem/ that is not UTF-8 or holds a NUL byte. No snapshot writes one (a
 * collect records such a file as binary: size and hash), and TwinSync writes only content it can
 * show in a plan and a review; a person or a pull put it there. The change carries no content; it
 * is left out (FILES_NOT_TEXT_NOT_PLANNED) and stays pending, shown, until it is discarded. Asked
 * when a plan is made (filesOutOfScope) and by apply, whoever calls.
 */
export function notText(data: { action?: unknown; symlink?: unknown }): string | undefined {
  if (data.action !== 'not-text') return undefined
  if (data.symlink === true) return "the twin's document for it is a symlink, which is never followed: a file's content is its document's text (a symlink on the machine is a manifest entry of type \"symlink\")"
  return "the twin's document for it is not UTF-8 text (or holds a NUL byte): TwinSync writes only text it can show in a plan, never a binary file from the twin"
}

/** What to do about a twin's document that is not text, pasted into the diagnostic. */
export function notTextNextStep(line: TwinsyncLine, id: string): string {
  return `Save the file under filesystem/ as UTF-8 text, or put a binary file on the machine itself (a snapshot then records it as binary); to drop the edit, \`${line(['discard', id])}\`.`
}

/** What to do about a twin's document that is a symlink, pasted into the diagnostic. */
export function twinSymlinkNextStep(line: TwinsyncLine, id: string): string {
  return `Replace the link under filesystem/ with the file's content, or record a symlink in system/files/manifest.json (type "symlink", "target"); to drop the edit, \`${line(['discard', id])}\`.`
}

/** What to do about a twin's document for a file that is not mirrored, pasted into the diagnostic. */
export function notMirroredNextStep(line: TwinsyncLine, id: string): string {
  return `Change the file on the machine itself (a snapshot then records it as it records any file of its kind); take the document out of filesystem/ in the twin (\`${line(['discard', id])}\`).`
}

/**
 * A change at a path whose name holds a secret, or that makes a symlink whose target does
 * (secret-names.ts): a snapshot never takes such a path into the twin (FILES_NAME_SECRET), so
 * only a hand edit or a forged twin asks for one. Left out, named by its folder and the rule,
 * never by the name (the change's summary would spell it); pending until the twin no longer asks.
 */
async function secretInChange(screen: NameScreen, line: TwinsyncLine, change: Change, data: { path?: unknown; action?: unknown; target?: unknown } | undefined): Promise<Diagnostic | undefined> {
  const paths = new Set([change.resource, ...(typeof data?.path === 'string' ? [data.path] : [])])
  for (const path of paths) {
    if (!path.startsWith('/')) continue
    const target = path === data?.path && data.action === 'symlink' && typeof data.target === 'string' ? data.target : undefined
    const found = await screen.inPath(path, target)
    if (found === undefined) continue
    const what = found.link === true ? `it makes a symlink whose target holds a secret (${found.rule})` : `a name there holds a secret (${found.rule})`
    return warningDiagnostic('FILES_NAME_SECRET_NOT_PLANNED', `A change in ${found.folder} (${change.operation}) is left out: ${what}, which no snapshot takes into the twin`, {
      provider: 'files',
      path: found.folder,
      change: change.id,
      detail: secretNameNextStep(line),
    })
  }
  return undefined
}

/** What to do about a twin's change at a name that holds a secret, pasted into the diagnostic. */
/** Never the change's id in it: the id spells the name (the diagnostic names the folder only). */
export function secretNameNextStep(line: TwinsyncLine): string {
  return `The twin asks for a path whose name (or, for a symlink, whose target) holds a secret: a name reaches commits, so no snapshot records one, and no plan makes one. Take the entry out of system/files/manifest.json (and its file out of filesystem/) in the twin (or \`${line(['discard', 'files'])}\`, which drops every pending file edit); make such a path by hand if the machine needs it.`
}

/** What to do about a path outside the scope, pasted into the diagnostic. */
export const OUTSIDE_SCOPE_NEXT_STEP =
  'If you meant it, add the path (or a folder above it) to files.include in the configuration (and take it out of files.ignore), snapshot, and plan again; otherwise remove it from system/files/manifest.json (or filesystem/) in the twin.'

/**
 * Why a change writes content the files provider never takes from a twin, or undefined: a write
 * at a secret path (files.secrets.paths, the built-in list). A snapshot records such a file's
 * hash, never its content, so only a hand edit or a pull brings one. Asked when a plan is made
 * (filesOutOfScope) and by apply, whoever calls.
 */
export function secretWrite(scope: FilesScope, data: { action?: unknown; path?: unknown }): string | undefined {
  if (data.action !== 'write' || typeof data.path !== 'string' || scope.secrets.pathVerdict(data.path) === undefined) return undefined
  return 'a secret path (files.secrets.paths or the built-in list), whose content a twin never sets'
}

/** What to do about a twin's content for a secret path, pasted into the diagnostic. */
export function secretPathNextStep(line: TwinsyncLine, id: string): string {
  return `Write the file on the machine itself (a snapshot then records it as secret: its hash, never its content); take it out of filesystem/ in the twin (\`${line(['discard', id])}\`).`
}

/**
 * The files changes that would act outside the provider's scope (outsideScope): one
 * FILES_OUTSIDE_SCOPE warning each, naming the change. A change whose data names no path is
 * one too: nothing outside the scope may slip through an odd payload.
 */
export async function filesOutOfScope(ctx: ProviderContext, changes: readonly Change[]): Promise<Diagnostic[]> {
  if (changes.length === 0) return []
  const { scope } = await resolveScope(ctx)
  const line = twinsyncLines(ctx)
  const out: Diagnostic[] = []
  // What the plan itself makes of a folder: a symlink (never written through), or a real folder in place of a link.
  const made = (action: string) => new Set(changes.flatMap((c) => (c.data as { action?: unknown; path?: unknown } | undefined)?.action === action ? [String((c.data as { path: unknown }).path)] : []))
  const plan = { links: made('symlink'), folders: made('mkdir') }
  const screen = new NameScreen()
  // Every name secretInChange asks about, asked at once (NameScreen.ahead).
  const paths: string[] = []
  const targets: string[] = []
  for (const change of changes) {
    const data = change.data as { path?: unknown; action?: unknown; target?: unknown } | undefined
    for (const path of [change.resource, ...(typeof data?.path === 'string' ? [data.path] : [])]) if (path.startsWith('/')) paths.push(path)
    if (typeof data?.path === 'string' && data.path.startsWith('/') && data.action === 'symlink' && typeof data.target === 'string') targets.push(data.target)
  }
  await screen.ahead(paths, targets)
  // Each folder's class asked once for all the changes (outsideScope walks every change's folders
  // up to its include root). Speed (session 55): a tree 300 folders deep, 301 changes (a pulled
  // twin can bring one), asked classOf 45,852 times, each a match of the ignore and leftover
  // patterns against a path of up to 1,200 characters; now once a path, 301 (the claims asked
  // 45,852 → 403 times: plugins/files/test/scope.test.ts counts them; its case 13 s → 1 s alone
  // at load 12). hostile-write.test.ts's pull and plan of
  // such a tree: 14.2 / 12.2 → 13.5 / 11.2 s of CPU (the file alone, 2 interleaved pairs, load 11–13).
  const classes = new Map<string, number>()
  for (const change of changes) {
    const data = change.data as { path?: unknown; action?: unknown; size?: unknown; text?: unknown; target?: unknown; content?: unknown } | undefined
    const named = await secretInChange(screen, line, change, data)
    if (named !== undefined) {
      out.push(named)
      continue
    }
    const large = data === undefined ? undefined : tooLarge(data, scope.maxFileSize)
    if (large !== undefined) {
      out.push(
        warningDiagnostic('FILES_TOO_LARGE_NOT_PLANNED', `${change.summary}: left out, ${large}`, {
          provider: 'files',
          path: change.resource,
          change: change.id,
          detail: tooLargeNextStep(line, change.id),
        }),
      )
      continue
    }
    const unmirrored = data === undefined ? undefined : notMirrored(data)
    if (unmirrored !== undefined) {
      out.push(
        warningDiagnostic('FILES_NOT_MIRRORED_NOT_PLANNED', `${change.summary}: left out, ${unmirrored}`, {
          provider: 'files',
          path: change.resource,
          change: change.id,
          detail: notMirroredNextStep(line, change.id),
        }),
      )
      continue
    }
    const binary = data === undefined ? undefined : notText(data)
    if (binary !== undefined) {
      const link = (data as { symlink?: unknown }).symlink === true
      out.push(
        warningDiagnostic(link ? 'FILES_TWIN_SYMLINK_NOT_PLANNED' : 'FILES_NOT_TEXT_NOT_PLANNED', `${change.summary}: left out, ${binary}`, {
          provider: 'files',
          path: change.resource,
          change: change.id,
          detail: link ? twinSymlinkNextStep(line, change.id) : notTextNextStep(line, change.id),
        }),
      )
      continue
    }
    const paths = [typeof data?.path === 'string' ? data.path : undefined, change.resource]
    let why: string | undefined
    let where = change.resource
    for (const path of paths) {
      if (path === undefined || !path.startsWith('/')) {
        why = 'the change names no machine path'
        break
      }
      why = outsideScope(ctx, scope, path, classes)
      if (why !== undefined) {
        where = path
        break
      }
    }
    let next = OUTSIDE_SCOPE_NEXT_STEP
    // Content for a secret path (files.secrets.paths, the built-in list): a snapshot records such
    // a file's hash and never its content, so a twin that brings one (a document committed by
    // hand, a pull) asks for what TwinSync never takes from a twin. Left out, pending until discarded.
    const secret = why === undefined && data !== undefined ? secretWrite(scope, data) : undefined
    if (secret !== undefined) {
      why = secret
      where = String(data?.path)
      next = secretPathNextStep(line, change.id)
    }
    for (const path of why === undefined ? paths : []) {
      why = await throughSymlink(ctx, scope, path as string, plan)
      if (why === undefined) continue
      where = path as string
      next = throughSymlinkNextStep(line, change.id)
      break
    }
    if (why === undefined && data !== undefined) {
      why = await linkOverClaims(ctx, data as { action?: unknown; path?: unknown })
      where = typeof data.path === 'string' ? data.path : where
      next = linkOverClaimsNextStep(line, change.id)
    }
    if (why === undefined) continue
    out.push(
      warningDiagnostic('FILES_OUTSIDE_SCOPE', `${change.summary}: left out, ${where} is outside the files provider's scope (${why})`, {
        provider: 'files',
        path: where,
        change: change.id,
        detail: next,
      }),
    )
  }
  return out
}
