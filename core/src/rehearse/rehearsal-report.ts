import type { ChangeResult, Diagnostic } from '@twinsync/sdk'

/** What a rehearsal found about one change of the plan, with the evidence. */
export interface RehearsedChange {
  id: string
  provider: string
  summary: string
  /** passed: applied (or already in place) and everything it touched checks out. */
  verdict: 'passed' | 'failed'
  /** What the applier reported for it inside the container. */
  status: ChangeResult['status']
  message?: string
  /** The failing step's own output (a checker's complaint, apt's error). */
  outputTail?: string
  diagnostics?: Diagnostic[]
  /** Why it failed or what proves it passed: checker runs, unit states, journal lines. */
  evidence: string[]
}

/** A unit the plan changes (directly, or through a configuration file it reads). */
export interface RehearsedUnit {
  unit: string
  /** The changes that touch it. */
  changes: string[]
  /** What it must be after the apply: running (or run to success), stopped, or anything but failed. */
  expected: 'active' | 'inactive' | 'any'
  before: string
  /** `systemctl is-active` after the apply and the rehearsal's own (re)start. */
  after: string
  /** What the rehearsal did to prove it starts with the new state: restart, start, or nothing. */
  proof: 'restart' | 'start' | 'none'
  listeningBefore: string[]
  listeningAfter: string[]
  /** Sockets it listened on before and no longer does. */
  missing: string[]
  passed: boolean
  problem?: string
  /** The unit's last journal lines, when it failed. */
  journal?: string[]
}

/** A service's own checker, run on the configuration the plan left in the container. */
export interface RehearsedCheck {
  service: string
  command: string
  ok: boolean
  output: string
  changes: string[]
}

/** What ran inside the container (inside.ts): everything but the limits and the timings of the host. */
export interface InsideResult {
  changes: RehearsedChange[]
  units: RehearsedUnit[]
  checks: RehearsedCheck[]
  /**
   * Failed units in the container: before the plan ran, after it, and `new` (failed only after
   * it: the plan's doing). On a running machine, `onMachine`: failed in the container and on the
   * machine itself and not touched by the plan (the machine's own, not the plan's doing).
   */
  failedUnits: { before: string[]; after: string[]; new: string[]; onMachine?: string[] }
  diagnostics: Diagnostic[]
  timings: { applyMs: number; checksMs: number }
  /** When the container had finished booting (epoch ms; the container shares the host's clock). */
  bootedAt: number
  /** systemctl is-system-running then: running or degraded. */
  bootState: string
}

export interface RehearsalReport extends InsideResult {
  passed: boolean
  /** The root that was rehearsed (the machine's, read-only below the container). */
  root: string
  /** The container's machine name (gone when this report exists). */
  machine: string
  network: 'none' | 'host'
  /** Failed units of the machine itself (a running target only), for comparison. */
  machineFailedUnits?: string[]
  /** Units failed in the container before the plan ran but not on the machine: the container's limits, not the plan's. */
  containerOnlyFailures?: string[]
  /** What a rehearsal cannot prove, said every time. */
  limits: string[]
  timings: InsideResult['timings'] & { bootMs: number; teardownMs: number; totalMs: number }
  /** Nothing of the container is left: no process, no mount, no directory. */
  cleanedUp: boolean
  /** What was left on the host despite the teardown (never expected). */
  leftovers?: string[]
}

/** One line per change: the verdict a person reads first. */
export function rehearsalSummary(report: Pick<RehearsalReport, 'passed' | 'changes' | 'units' | 'checks' | 'failedUnits'>): string {
  const failed = report.changes.filter((c) => c.verdict === 'failed').length
  const units = report.units.filter((u) => !u.passed).length
  const parts = [
    `${report.changes.length - failed} of ${report.changes.length} changes passed`,
    ...(units > 0 ? [`${units} unit${units === 1 ? '' : 's'} not as expected`] : []),
    ...(report.checks.some((c) => !c.ok) ? [`${report.checks.filter((c) => !c.ok).length} checker(s) failing`] : []),
    ...(report.failedUnits.new.length > 0 ? [`newly failed units: ${report.failedUnits.new.join(', ')}`] : []),
  ]
  return `Rehearsal ${report.passed ? 'PASSED' : 'FAILED'}: ${parts.join('; ')}.`
}
