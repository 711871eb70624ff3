import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'

/**
 * A state word as systemctl prints it ("enabled", "enabled-runtime", "masked", "active",
 * "running"): the twin is input, so "enabled; reboot" is refused on load, not carried along.
 */
const StateWord = lazySchema(() => Type.String({ pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 40 }))

export const UnitEntry = lazySchema(() => Type.Object(
  {
    /** Enablement as `systemctl list-unit-files` says it: enabled, disabled, static, masked, alias, indirect… */
    state: StateWord(),
    /** Vendor preset (enabled/disabled); absent where systemctl shows "-". */
    preset: Type.Optional(StateWord()),
    /**
     * sha256 of an administrator's unit file in /etc/systemd/system: a change needs daemon-reload.
     * Only that folder's, on purpose (session 28): the diff's reload names the file by the unit
     * (/etc/systemd/system/NAME) and units.json has no folder field (an added one would make an
     * older TwinSync refuse the document); a file of system.control or system.attached is reloaded
     * and its service restarted from the plan's write of it (unit-file-writes.ts), and whether the
     * machine had one is read from the observed twin's files (unapplied.ts). Recording theirs too
     * would also change the units.json of existing twins that have one at their next snapshot.
     */
    hash: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
))
export type UnitEntry = Type.Static<ReturnType<typeof UnitEntry>>

export const RuntimeEntry = lazySchema(() => Type.Object(
  {
    active: StateWord(),
    sub: StateWord(),
    /**
     * A running service's configuration files modified after it last started or reloaded,
     * newest first: it runs an older configuration than these. Read from the machine.
     */
    staleConfig: Type.Optional(Type.Array(Type.String())),
    /** With staleConfig: the unit can reload (CanReload); otherwise it must restart. */
    canReload: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
))
export type RuntimeEntry = Type.Static<ReturnType<typeof RuntimeEntry>>

export const StartupState = lazySchema(() => Type.Object(
  {
    defaultTarget: Type.Optional(Type.String()),
    /** Units pulled in at boot through .wants/.requires links from the default target, transitively. */
    wantedAtBoot: Type.Array(Type.String()),
    enabledTimers: Type.Array(Type.String()),
  },
  { additionalProperties: false },
))
export type StartupState = Type.Static<ReturnType<typeof StartupState>>

export const SystemdState = lazySchema(() => Type.Object(
  {
    units: Type.Record(Type.String(), UnitEntry()),
    /** Active and sub state of services, sockets and timers; only when a manager runs on the target. */
    runtime: Type.Optional(Type.Record(Type.String(), RuntimeEntry())),
    startup: StartupState(),
  },
  { additionalProperties: false },
))
export type SystemdState = Type.Static<ReturnType<typeof SystemdState>>

export const UNITS_DOCUMENT = 'system/services/units.json'
export const RUNTIME_DOCUMENT = 'system/services/runtime.json'
export const STARTUP_DOCUMENT = 'system/startup/systemd.json'
