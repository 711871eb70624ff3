import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'

/** One scheduled command: a line of a user crontab, /etc/crontab or a file in /etc/cron.d. */
export const CronJob = lazySchema(() => Type.Object(
  {
    /** The file the line is in: /var/spool/cron/crontabs/ann, /etc/crontab, /etc/cron.d/php. */
    source: Type.String(),
    /** user: a crontab installed with `crontab`; system: /etc/crontab and /etc/cron.d (with a user column). */
    kind: Type.Union([Type.Literal('user'), Type.Literal('system')]),
    /** 1-based line number in `source` (the crontab as `crontab -l` shows it). */
    line: Type.Integer({ minimum: 1 }),
    user: Type.String(),
    /** The five fields joined by one space, or the keyword ("@reboot"). */
    schedule: Type.String(),
    command: Type.String(),
    /** Runs once when cron starts at boot. */
    reboot: Type.Boolean(),
  },
  { additionalProperties: false },
))
export type CronJob = Type.Static<ReturnType<typeof CronJob>>

/** A `NAME=value` line: it sets the environment of the jobs below it in the same file. */
export const CronVariable = lazySchema(() => Type.Object(
  { source: Type.String(), line: Type.Integer({ minimum: 1 }), name: Type.String(), value: Type.String() },
  { additionalProperties: false },
))
export type CronVariable = Type.Static<ReturnType<typeof CronVariable>>

/** A line cron would refuse (a user crontab) or skip (a system file). */
export const CronProblem = lazySchema(() => Type.Object(
  { source: Type.String(), line: Type.Integer({ minimum: 1 }), text: Type.String(), reason: Type.String() },
  { additionalProperties: false },
))
export type CronProblem = Type.Static<ReturnType<typeof CronProblem>>

/** A file cron does not read, with why (cron.d names with a dot, crontabs not named after a user). */
export const IgnoredCronFile = lazySchema(() => Type.Object({ path: Type.String(), reason: Type.String() }, { additionalProperties: false }))
export type IgnoredCronFile = Type.Static<ReturnType<typeof IgnoredCronFile>>

/** A user's crontab, without cron's header: the part of the state that apply can change. */
export const UserCrontab = lazySchema(() => Type.Object(
  { user: Type.String(), path: Type.String(), content: Type.String() },
  { additionalProperties: false },
))
export type UserCrontab = Type.Static<ReturnType<typeof UserCrontab>>

export const CronState = lazySchema(() => Type.Object(
  {
    crontabs: Type.Array(UserCrontab()),
    jobs: Type.Array(CronJob()),
    environment: Type.Array(CronVariable()),
    problems: Type.Array(CronProblem()),
    ignored: Type.Array(IgnoredCronFile()),
  },
  { additionalProperties: false },
))
export type CronState = Type.Static<ReturnType<typeof CronState>>

export const CRONTAB_DIR = '/var/spool/cron/crontabs'
export const SYSTEM_CRONTAB = '/etc/crontab'
export const CRON_D_DIR = '/etc/cron.d'
export const CRON_JSON = 'system/startup/cron.json'

export function crontabPath(user: string): string {
  return `${CRONTAB_DIR}/${user}`
}
