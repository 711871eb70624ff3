// The diagnostics a provider or the host makes, and their shared codes, without the schema
// (diagnostic.ts): what the core needs to reach the twin loads no typebox (light.ts).
import type { Diagnostic } from './diagnostic.js'
import { bareTwinsyncLine, type TwinsyncLine } from './command-line.js'

type DiagnosticExtra = Partial<Pick<Diagnostic, 'detail' | 'path' | 'provider' | 'change'>>

export function errorDiagnostic(code: string, summary: string, extra: DiagnosticExtra = {}): Diagnostic {
  return { severity: 'error', code, summary, ...extra }
}

export function warningDiagnostic(code: string, summary: string, extra: DiagnosticExtra = {}): Diagnostic {
  return { severity: 'warning', code, summary, ...extra }
}

export function infoDiagnostic(code: string, summary: string, extra: DiagnosticExtra = {}): Diagnostic {
  return { severity: 'info', code, summary, ...extra }
}

/**
 * A diff's note that a resource is in the older state and not in the newer one because it is no
 * longer tracked (now ignored), not because it went from the machine. History, show and diff
 * list it as "no longer tracked" instead of as a deletion; a plan has nothing to do for it.
 */
export const NO_LONGER_TRACKED = 'NO_LONGER_TRACKED'

/**
 * A diff's note that a secret's content changed (its keyed hash differs) though the twin never
 * holds the content: history, show and diff list it as "Secret changed"; a plan has nothing to
 * do for it.
 */
export const SECRET_CHANGED = 'SECRET_CHANGED'

/**
 * A diff's note that a resource differs where the twin holds none of its content (a binary or
 * too large file, a secret that appeared or went), so no change can be planned for it: by the
 * operation a plan would need to turn `actual` into `desired` and cannot make. It is a difference
 * all the same: `status` lists it as drift (never "in sync" over it), history says it, `adopt`
 * takes it with its domain, and a plan names it "not put back". A secret whose content changed
 * has SECRET_CHANGED instead; a resource neither side read (so not known to differ) has neither.
 */
export const UNHELD_DIFFERS = { create: 'UNHELD_CREATE', replace: 'UNHELD_REPLACE', delete: 'UNHELD_DELETE' } as const
export type UnheldOperation = keyof typeof UNHELD_DIFFERS

/** The operation an UNHELD_DIFFERS note says a plan cannot make, or undefined for any other diagnostic. */
export function unheldOperation(diagnostic: Pick<Diagnostic, 'code'>): UnheldOperation | undefined {
  switch (diagnostic.code) {
    case UNHELD_DIFFERS.create:
      return 'create'
    case UNHELD_DIFFERS.replace:
      return 'replace'
    case UNHELD_DIFFERS.delete:
      return 'delete'
    default:
      return undefined
  }
}

/**
 * An apply result's diagnostic: a machine path (`path`) this change needed, which the same apply
 * had just changed (`ApplyRequest.changedNeeds`), cannot be used: apt could not read the
 * repository of a new sources file. The host puts that path's change back and reports it failed
 * ("rolled back"), so the machine is not left with it and both changes stay pending.
 */
export const NEED_UNUSABLE = 'NEED_UNUSABLE'

/**
 * A provider could not read part of the machine (a path failing with anything but "it is gone")
 * and keeps the last snapshot's record of it (CollectRequest.previous): the code ends in
 * `_UNREADABLE_KEPT` (FILES_UNREADABLE_KEPT), `path` names the part. That part was not compared:
 * `status` never says "in sync" while one is reported, and a plan changes nothing under it.
 */
export const UNREADABLE_KEPT_SUFFIX = '_UNREADABLE_KEPT'

export function isKeptUnread(diagnostic: Pick<Diagnostic, 'code'>): boolean {
  return diagnostic.code.endsWith(UNREADABLE_KEPT_SUFFIX)
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}

/**
 * For ApplicableProvider.outOfScope: the changes whose check (`check`, the one apply itself runs
 * first, throwing a TwinSyncError for a name it would never pass to a program) refuses them, as
 * one warning each naming the change, with the error's code and next step. A forged plan with
 * `--allow-unauthenticated` for a package name is then refused whole (PLAN_OUTSIDE_SCOPE, exit 2)
 * before any change of it runs, instead of failing its own step after others were applied.
 * `line`: the run's `twinsync ARGS` lines (twinsyncLines(ctx)) for the default next step; without
 * it (an outside plugin built against an older SDK), the line names no run.
 */
export function refusedChanges<C extends { id: string }>(provider: string, changes: readonly C[], check: (change: C) => unknown, line: TwinsyncLine = bareTwinsyncLine): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const change of changes) {
    try {
      check(change)
    } catch (error) {
      const coded = error as { code?: unknown; message?: unknown; nextStep?: unknown }
      const code = typeof coded.code === 'string' ? coded.code : 'CHANGE_INVALID'
      const message = typeof coded.message === 'string' ? coded.message : String(error)
      const detail = typeof coded.nextStep === 'string' ? coded.nextStep : `Make a new plan (\`${line(['plan'])}\`): the planner never makes such a change; if the twin asks for it, fix the twin (\`git -C <twin> diff\` shows recent edits).`
      out.push(warningDiagnostic(code, `${JSON.stringify(change.id)}: left out, ${message}`, { provider, change: change.id, detail }))
    }
  }
  return out
}
