import { isWithin, warningDiagnostic, type Change, type Diagnostic, type ProviderContext } from '@twinsync/sdk'
import { classOf, LEFTOVER, resolveScope, WALK, type FilesScope } from './collect.js'

/**
 * Why the files provider does not manage `path` on this machine now, or undefined when it does.
 * The rule of what a collect lists (collect.ts's walk, its classOf from the root down): a path under one of the include roots
 * (files.include, or the defaults, "~/x" once per selected user), with nothing from that root
 * down to the path itself claimed by another provider, ignored (files.ignore and the built-in
 * list), or a dpkg/ucf leftover (listed apart, never an entry). A collect never lists anything
 * else, so a twin entry elsewhere comes from a hand edit, a forged twin, or an include set
 * narrowed since the snapshot: never planned, never applied.
 */
export function outsideScope(ctx: ProviderContext, scope: FilesScope, path: string): string | undefined {
  const root = scope.roots.find((r) => isWithin(path, r))
  if (root === undefined) return 'not under any path of files.include'
  for (let at = path; ; at = at.slice(0, Math.max(at.lastIndexOf('/'), 1))) {
    const kind = classOf(ctx, scope, at)
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

/** What to do about a change below a symlinked folder, pasted into the diagnostic. */
export const THROUGH_SYMLINK_NEXT_STEP =
  'A snapshot never follows a symlinked folder either. If the twin means that folder to be a real one, make it a directory entry in system/files/manifest.json (the plan then replaces the link first, for you to approve); otherwise remove the entries below it from the twin (`twinsync discard` them).'

/** What to do about a path outside the scope, pasted into the diagnostic. */
export const OUTSIDE_SCOPE_NEXT_STEP =
  'If you meant it, add the path (or a folder above it) to files.include in the configuration (and take it out of files.ignore), snapshot, and plan again; otherwise remove it from system/files/manifest.json (or filesystem/) in the twin.'

/**
 * The files changes that would act outside the provider's scope (outsideScope): one
 * FILES_OUTSIDE_SCOPE warning each, naming the change. A change whose data names no path is
 * one too: nothing outside the scope may slip through an odd payload.
 */
export async function filesOutOfScope(ctx: ProviderContext, changes: readonly Change[]): Promise<Diagnostic[]> {
  if (changes.length === 0) return []
  const { scope } = await resolveScope(ctx)
  const out: Diagnostic[] = []
  // What the plan itself makes of a folder: a symlink (never written through), or a real folder in place of a link.
  const made = (action: string) => new Set(changes.flatMap((c) => (c.data as { action?: unknown; path?: unknown } | undefined)?.action === action ? [String((c.data as { path: unknown }).path)] : []))
  const plan = { links: made('symlink'), folders: made('mkdir') }
  for (const change of changes) {
    const data = change.data as { path?: unknown } | undefined
    const paths = [typeof data?.path === 'string' ? data.path : undefined, change.resource]
    let why: string | undefined
    let where = change.resource
    for (const path of paths) {
      if (path === undefined || !path.startsWith('/')) {
        why = 'the change names no machine path'
        break
      }
      why = outsideScope(ctx, scope, path)
      if (why !== undefined) {
        where = path
        break
      }
    }
    let next = OUTSIDE_SCOPE_NEXT_STEP
    for (const path of why === undefined ? paths : []) {
      why = await throughSymlink(ctx, scope, path as string, plan)
      if (why === undefined) continue
      where = path as string
      next = THROUGH_SYMLINK_NEXT_STEP
      break
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
