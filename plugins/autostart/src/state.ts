import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'

export const RC_LOCAL = '/etc/rc.local'
export const SYSTEM_AUTOSTART_DIR = '/etc/xdg/autostart'
export const AUTOSTART_JSON = 'system/startup/autostart.json'
export const RC_LOCAL_JSON = 'system/startup/rc-local.json'

/** Where systemd looks for rc-local.service, most specific first. */
export const RC_LOCAL_UNIT_PATHS = [
  '/etc/systemd/system/rc-local.service',
  '/lib/systemd/system/rc-local.service',
  '/usr/lib/systemd/system/rc-local.service',
] as const

/** Permission bits as four octal digits ("0755"): what `stat -c %a` shows, readable in JSON. */
export const OctalMode = lazySchema(() => Type.String({ pattern: '^[0-7]{4}$' }))

/** Owner and group by name from the target's /etc/passwd and /etc/group, or the number when it has none. */
const FileMetadata = lazySchema(() => ({
  mode: OctalMode(),
  owner: Type.String(),
  group: Type.String(),
}))

/** One XDG autostart .desktop file and what it says. */
export const AutostartEntry = lazySchema(() => Type.Object(
  {
    path: Type.String(),
    /** system: /etc/xdg/autostart, for every user; user: one user's ~/.config/autostart. */
    scope: Type.Union([Type.Literal('system'), Type.Literal('user')]),
    /** The user whose login starts it (user scope only). */
    user: Type.Optional(Type.String()),
    /** Name= of the entry, or the file name when it has none. */
    name: Type.String(),
    /** Exec= as written; empty when the file has none. */
    exec: Type.String(),
    enabled: Type.Boolean(),
    hidden: Type.Boolean(),
    gnomeAutostartEnabled: Type.Optional(Type.Boolean()),
    onlyShowIn: Type.Array(Type.String()),
    notShowIn: Type.Array(Type.String()),
    /** The system entry of the same file name that this user entry replaces (XDG override). */
    overrides: Type.Optional(Type.String()),
    ...FileMetadata(),
    /** The file's text; kept in the mirrored file, not in autostart.json. */
    content: Type.String(),
  },
  { additionalProperties: false },
))
export type AutostartEntry = Type.Static<ReturnType<typeof AutostartEntry>>

/** /etc/rc.local and whether systemd would run it at boot. */
export const RcLocal = lazySchema(() => Type.Object(
  {
    path: Type.Literal(RC_LOCAL),
    exists: Type.Boolean(),
    executable: Type.Boolean(),
    /** The `#!` line's interpreter; absent when the file has no `#!` line. */
    interpreter: Type.Optional(Type.String()),
    /** The rc-local.service unit file found on the target, if any. */
    service: Type.Optional(Type.String()),
    /** rc-local.service is masked (linked to /dev/null in /etc/systemd/system). */
    serviceMasked: Type.Boolean(),
    /** Exists, is executable, has a `#!` line and rc-local.service is there and not masked. */
    wouldRun: Type.Boolean(),
    mode: Type.Optional(OctalMode()),
    owner: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    content: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
))
export type RcLocal = Type.Static<ReturnType<typeof RcLocal>>

/** A file in a claimed place that is not mirrored (a symlink, a file too large), and why. */
export const IgnoredAutostartFile = lazySchema(() => Type.Object({ path: Type.String(), reason: Type.String() }, { additionalProperties: false }))
export type IgnoredAutostartFile = Type.Static<ReturnType<typeof IgnoredAutostartFile>>

export const AutostartState = lazySchema(() => Type.Object(
  {
    entries: Type.Array(AutostartEntry()),
    rcLocal: RcLocal(),
    ignored: Type.Array(IgnoredAutostartFile()),
  },
  { additionalProperties: false },
))
export type AutostartState = Type.Static<ReturnType<typeof AutostartState>>

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

export function parseMode(mode: string): number {
  return parseInt(mode, 8)
}

/** A user or group name, or its number when the target has no name for it. */
const AccountName = lazySchema(() => Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\$?$', maxLength: 64 }))
const LoadMode = lazySchema(() => Type.String({ pattern: '^[0-7]{3,4}$' }))

/**
 * The metadata documents as a person may edit them: every key optional (the loader fills in the
 * owner of the place), but each value of its type and no unknown key. Checked on load.
 */
export const RcLocalDocument = lazySchema(() => Type.Object(
  {
    path: Type.Optional(Type.Literal(RC_LOCAL)),
    exists: Type.Optional(Type.Boolean()),
    executable: Type.Optional(Type.Boolean()),
    interpreter: Type.Optional(Type.String()),
    service: Type.Optional(Type.String({ pattern: '^/[^\\u0000]*$' })),
    serviceMasked: Type.Optional(Type.Boolean()),
    wouldRun: Type.Optional(Type.Boolean()),
    mode: Type.Optional(LoadMode()),
    owner: Type.Optional(AccountName()),
    group: Type.Optional(AccountName()),
  },
  { additionalProperties: false },
))

export const AutostartDocument = lazySchema(() => Type.Object(
  {
    entries: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: Type.String({ pattern: '^/[^\\u0000]*\\.desktop$' }),
            scope: Type.Optional(Type.Union([Type.Literal('system'), Type.Literal('user')])),
            user: Type.Optional(AccountName()),
            name: Type.Optional(Type.String()),
            exec: Type.Optional(Type.String()),
            enabled: Type.Optional(Type.Boolean()),
            hidden: Type.Optional(Type.Boolean()),
            gnomeAutostartEnabled: Type.Optional(Type.Boolean()),
            onlyShowIn: Type.Optional(Type.Array(Type.String())),
            notShowIn: Type.Optional(Type.Array(Type.String())),
            overrides: Type.Optional(Type.String()),
            mode: Type.Optional(LoadMode()),
            owner: Type.Optional(AccountName()),
            group: Type.Optional(AccountName()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    ignored: Type.Optional(Type.Array(IgnoredAutostartFile())),
  },
  { additionalProperties: false },
))
