import { findSecrets } from '@twinsync/sdk'
import { readBlobs, runGit } from '../twin/git.js'

export interface PushSecretFinding {
  path: string
  commit: string
  /** 1-based line of the secret in that file version. */
  line: number
  /** The detector's rule ("private-key", "credential-assignment"…), or "mirror-token". Never the value. */
  rule: string
}

/**
 * Every file version the push would send (new blobs of the pending commits), run through the SDK's
 * secret detector (the same rules every provider uses) and checked for the mirror's own token.
 * The providers keep secrets out already; this is the last look before anything leaves.
 */
export async function scanPendingForSecrets(dir: string, range: string[], token: string | undefined): Promise<PushSecretFinding[]> {
  const commits = (await runGit(dir, ['rev-list', ...range])).split('\n').filter(Boolean)
  const wanted = new Map<string, { path: string; commit: string }>()
  for (const commit of commits) {
    const out = await runGit(dir, ['diff-tree', '-r', '--no-renames', '--root', '-z', '--no-commit-id', commit])
    const parts = out.split('\0')
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const meta = (parts[i] as string).split(' ')
      const sha = meta[3]
      const status = meta[4]
      if (sha === undefined || /^0+$/.test(sha) || status === 'D' || meta[1] === '160000') continue
      if (!wanted.has(sha)) wanted.set(sha, { path: parts[i + 1] as string, commit })
    }
  }
  const findings: PushSecretFinding[] = []
  const blobs = await readBlobs(dir, [...wanted.keys()])
  for (const [sha, bytes] of blobs) {
    const where = wanted.get(sha) as { path: string; commit: string }
    // latin1 keeps every byte one character, so binary blobs are searched too and offsets stay put.
    const text = Buffer.from(bytes).toString('latin1')
    if (token !== undefined && token.length >= 8) {
      const at = text.indexOf(token)
      if (at >= 0) findings.push({ ...where, line: text.slice(0, at).split('\n').length, rule: 'mirror-token' })
    }
    for (const f of await findSecrets(text, { path: where.path })) findings.push({ ...where, line: f.line, rule: f.rule })
  }
  return findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line))
}

/** "etc/app.env:3 (credential-assignment)": where, and which rule; never the value. */
export function describePushFinding(f: PushSecretFinding): string {
  return `${f.path}:${f.line} (${f.rule})`
}
