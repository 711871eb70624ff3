import { errorDiagnostic, type Diagnostic } from '@twinsync/sdk'
import { parseCrontab } from './crontab-parser.js'
import { crontabPath } from './state.js'
import { isValidUserName } from './user.js'

/**
 * Everything about a crontab that can be checked without the machine: the user name is safe to
 * pass to `crontab -u` and every line is one cron accepts. Errors here stop the plan before
 * anything is written.
 */
export function crontabDiagnostics(user: string, content: string | null, provider: string): Diagnostic[] {
  const path = isValidUserName(user) ? crontabPath(user) : undefined
  if (path === undefined) {
    return [
      errorDiagnostic('NAME_INVALID', `"${user}" is not a valid user name for a crontab`, {
        provider,
        detail: 'User names match ^[a-z_][a-z0-9_-]*[$]?$ (at most 32 characters).',
      }),
    ]
  }
  if (content === null) return []
  return parseCrontab(content, { path, format: 'user', user }).problems.map((p) =>
    errorDiagnostic('CRON_SCHEDULE_INVALID', `${path} line ${p.line}: ${p.reason}`, { path, provider, detail: p.text }),
  )
}
