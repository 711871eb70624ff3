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
    if (why === undefined) continue
    out.push(
      warningDiagnostic('FILES_OUTSIDE_SCOPE', `${change.summary}: left out, ${where} is outside the files provider's scope (${why})`, {
        provider: 'files',
        path: where,
        change: change.id,
        detail: OUTSIDE_SCOPE_NEXT_STEP,
      }),
    )
  }
  return out
}
