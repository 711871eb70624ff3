import { sha256 } from '../sha256.js'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SECRET_RULES_VERSION, stableStringify, writeFileAtomic } from '@twinsync/sdk/light'
import { revParseCommit, runGit, runGitBytes } from '../twin/git.js'
import { scanPushForSecrets, type PushSecretFinding, type SecretPathAsker } from './secret-scan.js'

/**
 * What the mirror already holds, looked at with the secret rules of today.
 *
 * A push looks at everything it sends (`scanPushForSecrets`), with the rules of its day. Snapshots
 * pushed before a rule existed were never looked at with it, nor was what a pull brought from
 * the mirror that this twin did not push. So before each push the mirror's branch as last pushed
 * or fetched is looked at: whole when the rules changed since (`SECRET_RULES_VERSION`), when
 * the providers' configuration changed (configKey: `files.secrets.paths`), when another mirror
 * was linked, or the first time; otherwise only what it gained since the last
 * look (what a fetch brought; what a push of ours sent was looked at by that push). What the
 * rules find there is kept in `.git/twinsync/mirror-audit.json` and reported with every push
 * (`SECRET_IN_MIRROR`) until the mirror's branch no longer reaches it — after `twinsync forget`
 * and `twinsync push --retry --force`. Nothing is refused for it: it has left the machine already,
 * and only changing the secret helps; the push of new snapshots is still checked on its own.
 *
 * The look is the push's own: content rules, and the files the providers hold out by path
 * (Provider.secretPaths: an OpenVPN credential file mirrored before that rule existed). An audit
 * kept by a TwinSync whose look had no path rules (no `format`, session 16) counts as none.
 *
 * Cost: the first look after an upgrade or a rules change reads every object of the mirror's
 * history once (the same scan as a first push); after that, nothing unless a pull brought
 * something or a finding is still to be checked (one `git rev-list --objects` of the branch).
 */
export interface MirrorAudit {
  /** What the look covers (AUDIT_FORMAT); an audit of an older look is redone whole. */
  format?: number
  /** The mirror looked at: another URL is another mirror, looked at whole. */
  url: string
  /** The rules it was looked at with. */
  rules: number
  /**
   * The providers' configuration it was looked at with (configKey): their path rules come from it
   * (`files.secrets.paths`), so an audit under another configuration is redone whole (session 17).
   */
  config?: string
  /** The mirror's branch (commit id) up to which everything was looked at. */
  head: string | null
  /** What the rules found there and the branch still reaches: path, object, line and rule; never the value. */
  findings: PushSecretFinding[]
}

/** 2: the providers' path rules are part of the look (session 16); before, only content was. */
const AUDIT_FORMAT = 2

function auditPath(twinDir: string): string {
  return join(twinDir, '.git', 'twinsync', 'mirror-audit.json')
}

/**
 * What the providers' path rules may depend on, as one key: every configuration section but the
 * core's `repo` and `limits` (a provider's own section, `providers`' enabling and disabling),
 * hashed. No provider is loaded for it: an up-to-date push stays one `git rev-parse`. Any change
 * there redoes the whole look once (as a rules change does): rare, and what a new
 * `files.secrets.paths` entry needs, for a file mirrored before it was listed.
 */
export function configKey(values: Readonly<Record<string, unknown>>): string {
  const sections = Object.fromEntries(Object.entries(values).filter(([key]) => key !== 'repo' && key !== 'limits'))
  return sha256(stableStringify(sections)).slice(0, 32)
}

/**
 * The last look at this mirror with today's rules; undefined when there was none (or it is
 * unreadable). With `config`, also undefined when the look was under another configuration.
 */
export function readMirrorAudit(twinDir: string, url: string, config?: string): MirrorAudit | undefined {
  let saved: unknown
  try {
    saved = JSON.parse(readFileSync(auditPath(twinDir), 'utf8'))
  } catch {
    return undefined
  }
  const a = saved as Partial<MirrorAudit> | null
  if (a === null || typeof a !== 'object' || a.format !== AUDIT_FORMAT || a.url !== url || a.rules !== SECRET_RULES_VERSION || !Array.isArray(a.findings)) return undefined
  if (a.head !== null && (typeof a.head !== 'string' || !/^[0-9a-f]{40,64}$/.test(a.head))) return undefined
  if (config !== undefined && a.config !== config) return undefined
  return { format: AUDIT_FORMAT, url, rules: SECRET_RULES_VERSION, ...(typeof a.config === 'string' ? { config: a.config } : {}), head: a.head, findings: a.findings }
}

export async function writeMirrorAudit(twinDir: string, audit: MirrorAudit): Promise<void> {
  await writeFileAtomic(auditPath(twinDir), stableStringify(audit), { mode: 0o600 })
}

/** What a push says when its audit could not be kept (keepMirrorAudit). */
export interface MirrorAuditWarning {
  code: 'MIRROR_AUDIT_NOT_KEPT'
  message: string
  nextStep: string
}

/**
 * Keep the audit after a push (sent or refused). The file only saves the next push a look: the
 * audit kept before stays (atomic write), and the next push looks again from its head at what
 * the mirror's branch gained, findings and all. So a write the twin's disk refuses (full, read
 * only, an I/O error) is said as a warning beside the push's own outcome, never in its place:
 * session 35's push sweep found it thrown past the outcome, a push that had reached the mirror
 * (or one refused for a secret, SECRET_IN_PUSH) said as a bug in TwinSync, or as DISK_FULL.
 */
export async function keepMirrorAudit(twinDir: string, audit: MirrorAudit): Promise<MirrorAuditWarning | undefined> {
  try {
    await writeMirrorAudit(twinDir, audit)
    return undefined
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error)
    const path = auditPath(twinDir)
    return {
      code: 'MIRROR_AUDIT_NOT_KEPT',
      message: `The look at what the mirror holds could not be kept in ${path} (${cause}); the push's outcome above stands, and the next push looks again`,
      nextStep:
        cause === 'ENOSPC' || cause === 'EDQUOT'
          ? `Free some space (\`df -h ${twinDir}\`); nothing else is needed.`
          : `Check that ${dirname(path)} can be written (\`ls -ld ${dirname(path)}\`, \`df -h ${twinDir}\`); nothing else is needed.`,
    }
  }
}

/**
 * Look at what the mirror's branch (`mirrorRef`, as last pushed or fetched) holds that was not
 * looked at with today's rules, and return the audit to keep: what is found now plus the earlier
 * findings the branch still reaches.
 */
export async function auditMirror(twinDir: string, url: string, mirrorRef: string, token: string | undefined, secretPaths?: SecretPathAsker, config?: string): Promise<MirrorAudit> {
  const head = (await revParseCommit(twinDir, mirrorRef)) ?? null
  const saved = readMirrorAudit(twinDir, url, config)
  const under = config === undefined ? {} : { config }
  if (head === null) return { format: AUDIT_FORMAT, url, rules: SECRET_RULES_VERSION, ...under, head: null, findings: [] }
  if (saved !== undefined && saved.head === head) return saved
  const known = saved?.head !== null && saved?.head !== undefined && (await isAncestor(twinDir, saved.head, head)) ? [saved.head] : []
  const still = known.length > 0 ? await stillReached(twinDir, head, saved?.findings ?? []) : []
  const found = await scanPushForSecrets(twinDir, { refs: [mirrorRef], known }, token, secretPaths)
  // The ref's own name is looked at by the scan too; it is ours, not the mirror's.
  const fresh = found.filter((f) => f.commit !== '')
  return { format: AUDIT_FORMAT, url, rules: SECRET_RULES_VERSION, ...under, head, findings: dedupe([...still, ...fresh]) }
}

/** After a push of ours: the branch moved to what that push looked at; the findings it still reaches stay. */
export async function afterPush(twinDir: string, audit: MirrorAudit, mirrorRef: string): Promise<MirrorAudit> {
  const head = (await revParseCommit(twinDir, mirrorRef)) ?? null
  if (head === null || head === audit.head) return audit
  return { ...audit, head, findings: await stillReached(twinDir, head, audit.findings) }
}

/**
 * Whether `older` is in `newer`'s history: `git merge-base --is-ancestor`'s exit code, 0 yes, 1
 * no; any other failure (an object gone) counts as no too, and the look is whole. Through
 * runGitBytes, whose verdict is the exit code: runGit's and tryGit's (simple-git's) take a git
 * that exits 1 without a word for success, so before session 47 the answer was always yes, and
 * after a rewritten history replaced the mirror's branch the look left out all the old head
 * reached (a secret the rewrite moved kept its old path, one `forget` then missed).
 */
async function isAncestor(dir: string, older: string, newer: string): Promise<boolean> {
  return runGitBytes(dir, ['merge-base', '--is-ancestor', older, newer]).then(
    () => true,
    () => false,
  )
}

/** The findings whose object the branch still reaches (a forced push of a rewritten history drops them). */
async function stillReached(dir: string, head: string, findings: readonly PushSecretFinding[]): Promise<PushSecretFinding[]> {
  if (findings.length === 0) return []
  // "<id> <path>" per object: the id is the finding's `commit`.
  const reached = new Set((await runGit(dir, ['rev-list', '--objects', head, '--'])).split('\n').map((line) => line.split(' ', 1)[0]))
  return findings.filter((f) => reached.has(f.commit))
}

function dedupe(findings: PushSecretFinding[]): PushSecretFinding[] {
  const seen = new Set<string>()
  return findings
    .filter((f) => {
      const key = `${f.commit}\0${f.line}\0${f.rule}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line))
}
