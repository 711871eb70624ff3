import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Change, Diagnostic } from '@twinsync/sdk'
import { machinePathOf, warningDiagnostic, writeFileAtomic } from '@twinsync/sdk/light'
import { machinePathOfChange } from '../plan/machine-path.js'
import type { LineFor } from '../plan/command-text.js'
import { removeFile } from '../twin/remove-file.js'

/**
 * The machine paths `twinsync forget` took out of the twin's history, until the next snapshot
 * records the machine again: `.git/twinsync/forgotten.json`, never committed. forget removes a
 * mirrored file's document from every snapshot and the files manifest keeps its entry, which the
 * files provider reads as a file the twin no longer has: a delete (FILES_REMOVED_IN_TWIN). So a
 * `forget /etc/postfix/sasl_passwd` followed by any `apply --yes` (another pending edit, a
 * scheduled `pull --yes`) deleted the machine's file (session 25's red team: 120 deletes planned
 * after `forget /etc/atk`). The person asked to drop it from history, not from the machine.
 */
const RECORD = join('.git', 'twinsync', 'forgotten.json')

/** Add the machine paths of these twin paths (mirrored files and folders) to the record. */
export async function recordForgotten(dir: string, twinPaths: readonly string[]): Promise<void> {
  const paths = twinPaths.map((p) => machinePathOf(p)).filter((p): p is string => p !== undefined)
  if (paths.length === 0) return
  const all = [...new Set([...readForgotten(dir), ...paths])].sort()
  const path = join(dir, RECORD)
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, `${JSON.stringify({ paths: all })}\n`)
}

/** The machine paths forgotten since the last snapshot (none when there is no record, or it is not ours). */
export function readForgotten(dir: string): string[] {
  let text: string
  try {
    text = readFileSync(join(dir, RECORD), 'utf8')
  } catch {
    return []
  }
  try {
    const paths = (JSON.parse(text) as { paths?: unknown }).paths
    return Array.isArray(paths) ? paths.filter((p): p is string => typeof p === 'string' && p.startsWith('/')) : []
  } catch {
    return []
  }
}

/**
 * A snapshot recorded the machine again: the twin says what the machine has (or ignores it).
 * Every snapshot runs it: removeFile, not `rm` (which loads Node's rimraf; see remove-file.ts).
 */
export async function clearForgotten(dir: string): Promise<void> {
  removeFile(join(dir, RECORD))
}

/** The deletes of a forgotten path (or below a forgotten folder): left out, said (FORGOTTEN_NOT_DELETED). */
export function forgottenDeletes(provider: string, changes: readonly Change[], forgotten: readonly string[], line: LineFor): Diagnostic[] {
  if (forgotten.length === 0) return []
  const out: Diagnostic[] = []
  for (const change of changes) {
    if ((change.data as { action?: unknown } | undefined)?.action !== 'delete') continue
    const path = machinePathOfChange(change)
    const under = path === undefined ? undefined : forgotten.find((f) => path === f || path.startsWith(`${f}/`))
    if (under === undefined) continue
    out.push(
      warningDiagnostic('FORGOTTEN_NOT_DELETED', `The delete of ${path} is left out: a forget took it out of the twin's history, not off the machine`, {
        provider,
        change: change.id,
        path,
        detail: `Take a snapshot (\`${line(['snapshot'])}\`) so the twin says what the machine has; add it to the files provider's \`ignore\` or \`secrets.paths\` first to keep it out of the twin.`,
      }),
    )
  }
  return out
}
