import { randomBytes } from 'node:crypto'
import type { HostPort } from '@twinsync/sdk'
import { CHANGED_FILE, CHECKER_PATH, DEBIAN_CONFIG_CHECKS, checkerEnv, findChecker, newContentCheckFor, redactSecrets } from '@twinsync/sdk'

/** How to check a file's new content with the tool that will read it. */
interface Validator {
  /** The program run (looked for in the target first). */
  tool: string
  /** What messages call it: the check's `shown` words for a fixed script (`sh -c …`), else the program. */
  name: string
  args: (file: string) => string[]
  /** Output that rejects even with exit status 0 (the check's rejectsOutput: a host key sshd would ignore). */
  rejects?: RegExp
}

/**
 * sudoers, sshd_config, the account files and PAM lock people out when broken: they are checked before they are
 * written. Which files and with what comes from the one table of services (`newContent` in
 * DEBIAN_CONFIG_CHECKS), not from rules of its own here.
 */
export function validatorFor(path: string): Validator | undefined {
  const check = newContentCheckFor(DEBIAN_CONFIG_CHECKS, path)
  const argv = check?.newContent?.argv
  if (argv === undefined) return undefined
  const [tool, ...rest] = argv as [string, ...string[]]
  const name = check?.shown === undefined ? tool : check.shown.split(CHANGED_FILE).join(path)
  return { tool, name, args: (file) => rest.map((a) => (a === CHANGED_FILE ? file : a)), ...(check?.rejectsOutput === undefined ? {} : { rejects: check.rejectsOutput }) }
}

export type ValidationOutcome =
  | { status: 'valid'; tool: string }
  | { status: 'invalid'; tool: string; output: string }
  | { status: 'unchecked'; reason: string }

/**
 * Check `text` as the new content of `path` with the target's own tool, run inside the target.
 * The text goes to a temp file beside the real one; its name has a dot, which sudo's includedir
 * skips, so it is never read as part of the live configuration; it is removed afterwards.
 */
export async function validateContent(host: HostPort, path: string, text: string): Promise<ValidationOutcome> {
  const validator = validatorFor(path)
  if (validator === undefined) return { status: 'unchecked', reason: 'no validator for this path' }
  // The tool's own, from the distribution's folders: never one the twin planted in /usr/local (CHECKER_PATH).
  if ((await findChecker(host, validator.tool)) === undefined) {
    return { status: 'unchecked', reason: `${validator.tool} is not installed in the target (${CHECKER_PATH.split(':').join(', ')})` }
  }
  const check = async (content: string): Promise<{ ok: boolean; output: string }> => {
    const dir = path.slice(0, path.lastIndexOf('/'))
    const temp = `${dir}/.${path.slice(dir.length + 1)}.twinsync-check-${randomBytes(6).toString('hex')}`
    await host.writeFileAtomic(temp, content, { mode: 0o440, uid: 0, gid: 0 })
    try {
      const result = await host.exec(validator.tool, validator.args(temp), { inTarget: true, sandbox: true, timeoutMs: 30_000, env: checkerEnv() })
      // Redacted: the tool may quote a line of the file, secret and all (see ConfigGuard).
      const output = await redactSecrets((result.stderr + result.stdout).split(temp).join(path).trim())
      // The same verdict as the check after the write (ConfigGuard), so the plan and the apply agree.
      return { ok: result.exitCode === 0 && validator.rejects?.test(output) !== true, output }
    } finally {
      await host.remove(temp)
    }
  }
  const outcome = await check(text)
  if (outcome.ok) return { status: 'valid', tool: validator.name }
  // sshd -t also checks its runtime (/run/sshd, host keys), which an offline root lacks. If the
  // live file fails the same way, the tool cannot judge here: say so rather than block the change.
  const live = await host.readTextIfExists(path)
  if (live !== undefined && live !== text) {
    const baseline = await check(live)
    if (!baseline.ok && baseline.output === outcome.output) {
      return { status: 'unchecked', reason: `${validator.name} rejects the live file the same way: ${outcome.output}` }
    }
  }
  return { status: 'invalid', tool: validator.name, output: outcome.output }
}
