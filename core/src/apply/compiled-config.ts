import type { Change, CompiledFile, ConfigCheck, Diagnostic, HostPort } from '@twinsync/sdk'
import { checkerEnv, checksFor, filePathOf, infoDiagnostic } from '@twinsync/sdk'

const LIST_TIMEOUT_MS = 60_000

/**
 * The compiled files a service's configuration names as it is on disk now (ConfigCheck.compiled:
 * postfix's tables from `postconf -nx` and `-Px`, run sandboxed in the target); none when the
 * check has no compiled files or the lister cannot run.
 */
export async function compiledFiles(host: HostPort, check: ConfigCheck): Promise<CompiledFile[]> {
  const compiled = check.compiled
  if (compiled === undefined) return []
  const [program, ...rest] = compiled.listArgv as [string, ...string[]]
  const listed = await host.exec(program, rest, { inTarget: true, sandbox: true, timeoutMs: LIST_TIMEOUT_MS, env: checkerEnv() }).catch(() => undefined)
  if (listed === undefined || listed.exitCode !== 0 || listed.timedOut) return []
  return compiled.parse(listed.stdout)
}

/**
 * What a plan says of each file it writes that its service reads compiled: apply builds the
 * compiled file after the write (`postmap hash:/etc/postfix/virtual`), before the checker, and
 * puts it back with the text on a rejection. Read from the live configuration: a table the plan
 * names anew is built too (its compiled file is missing), without this note.
 */
export async function compiledNotes(host: HostPort, checks: readonly ConfigCheck[], changes: readonly Change[]): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  for (const check of checks) {
    if (check.compiled === undefined) continue
    const written = changes.filter((c) => (c.data as { action?: string } | undefined)?.action === 'write').map(filePathOf).filter((p): p is string => p !== undefined && checksFor(checks, p).includes(check))
    if (written.length === 0) continue
    for (const file of await compiledFiles(host, check)) {
      if (!written.includes(file.source)) continue
      out.push(
        infoDiagnostic('CONFIG_COMPILED', `${file.source}: ${check.service} reads it compiled (${file.built}); apply runs \`${file.argv.join(' ')}\` after writing it, before \`${(check.argv ?? []).join(' ')}\`, and puts ${file.built} back with it if the check fails`, {
          provider: 'files',
          path: file.source,
        }),
      )
    }
  }
  return out
}
