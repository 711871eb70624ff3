import type { Change } from '@twinsync/sdk'

/** The verbs of the systemd provider, in the order apply carries them out. */
export const SYSTEMD_OPERATIONS = ['daemon-reload', 'unmask', 'mask', 'disable', 'enable', 'stop', 'start', 'reload', 'restart'] as const
export type SystemdOperation = (typeof SYSTEMD_OPERATIONS)[number]

/** Verbs that act on the running manager, not on files: only on a live target. */
export const RUNTIME_OPERATIONS: ReadonlySet<SystemdOperation> = new Set(['daemon-reload', 'stop', 'start', 'reload', 'restart'])

export function isSystemdOperation(value: string): value is SystemdOperation {
  return (SYSTEMD_OPERATIONS as readonly string[]).includes(value)
}

export interface SystemdChangeData {
  unit: string
  /** daemon-reload: the administrator's unit files whose change it loads (for the planner's edges). */
  unitFiles?: string[]
  /** reload/restart of a service that runs an older configuration: the files newer than its start. */
  staleConfig?: string[]
  /** unmask: the state the unit ends in (enabled or disabled), whatever links the mask left behind. */
  after?: 'enabled' | 'disabled'
  /** stop, disable: of a unit the machine had no file for when planned, which a package of the plan may bring (units-installed.ts): done only if it came running or enabled. */
  afterInstall?: true
}

export const DAEMON_RELOAD_ID = 'systemd:daemon-reload:manager'

export function systemdChangeId(operation: SystemdOperation, unit: string): string {
  return operation === 'daemon-reload' ? DAEMON_RELOAD_ID : `systemd:${operation}:${unit}`
}

/** Runtime states in which a unit is up (or on its way): a stop is owed when it must not run. */
export const UP: ReadonlySet<string> = new Set(['active', 'activating', 'reloading'])

/** Make `change` require `id` (once): a failure or a leaving out of `id` holds `change` back. */
export function requireOnce(change: Change, id: string): void {
  if (!(change.requires ?? []).includes(id)) change.requires = [...(change.requires ?? []), id]
}
