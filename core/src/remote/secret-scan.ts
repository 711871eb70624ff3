import { contentSecret } from '@twinsync/plugin-files'
import { readBlobs, runGit } from '../twin/git.js'

/** A password hash as in /etc/shadow: name:$id$salt$hash: (yescrypt, sha-512, bcrypt…). */
const PASSWORD_HASH = /^[^:\s]+:\$(?:1|2[abxy]?|5|6|y|gy|7|sha1|md5)\$[^:\s]{8,}:/m

export interface SecretFinding {
  path: string
  commit: string
  reason: string
}

/**
 * Every file version the push would send (new blobs of the pending commits), checked for
 * private keys, well-known tokens, password hashes and the mirror's own token. The files
 * provider keeps secrets out already; this is the last look before anything leaves.
 */
export async function scanPendingForSecrets(dir: string, range: string[], token: string | undefined): Promise<SecretFinding[]> {
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
  const findings: SecretFinding[] = []
  const blobs = await readBlobs(dir, [...wanted.keys()])
  for (const [sha, bytes] of blobs) {
    const where = wanted.get(sha) as { path: string; commit: string }
    const text = Buffer.from(bytes).toString('latin1')
    const reason =
      (token !== undefined && token.length >= 8 && text.includes(token) ? "the mirror's own token" : undefined) ??
      contentSecret(bytes) ??
      (PASSWORD_HASH.test(text) ? 'password hash' : undefined)
    if (reason !== undefined) findings.push({ ...where, reason })
  }
  return findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
