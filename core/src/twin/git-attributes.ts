import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The twin's `.git/info/attributes`: git changes no byte of a twin file on its way between the
 * repository and the working twin (session 11). A pulled twin is untrusted, and a
 * `.gitattributes` in it (a hostile one at the top, or a machine's own `/etc/.gitattributes`
 * mirrored as data under filesystem/) would otherwise tell git to rewrite files at checkout and
 * at `git add`: `ident` expands `$Id$`, `text eol=crlf` adds carriage returns,
 * `working-tree-encoding` re-encodes, `filter` runs a driver from the host's git config (git
 * LFS's smudge fetches content from the mirror). The plan reads the working twin, so the machine
 * would get bytes the mirror's commit (what a person reviews there, what history and `plan
 * --from` read) never held. The attributes file of the repository outranks every
 * `.gitattributes` in the tree and the host's own attribute files, each attribute on its own:
 * `-text` (with `-crlf`) turns off line-ending conversion whatever `eol` or `core.autocrlf`
 * say, `-ident`, `-filter` and `-working-tree-encoding` the rest; `!diff` lets git's own diff
 * show the bytes (no `-diff` hiding them as binary, no textconv). TwinSync owns this file: it
 * is written at init and put back by every command that opens the twin.
 */
export const NEUTRAL_ATTRIBUTES =
  '# Written by TwinSync: git converts no twin file (a .gitattributes in the twin is data, never obeyed).\n' +
  '* -text -crlf !eol -ident -filter -working-tree-encoding !diff\n'

const PATH = join('.git', 'info', 'attributes')

/** True when the twin's attributes file is TwinSync's, exactly: no attribute in the tree converts a byte. */
export function attributesNeutral(dir: string): boolean {
  try {
    return readFileSync(join(dir, PATH), 'utf8') === NEUTRAL_ATTRIBUTES
  } catch {
    return false
  }
}

/** Write (or put back) TwinSync's attributes file; true when it was missing or different. */
export function ensureNeutralAttributes(dir: string): boolean {
  if (attributesNeutral(dir)) return false
  const folder = join(dir, '.git', 'info')
  mkdirSync(folder, { recursive: true })
  const temp = join(folder, `.attributes.twinsync-${randomBytes(6).toString('hex')}`)
  writeFileSync(temp, NEUTRAL_ATTRIBUTES, { mode: 0o644 })
  renameSync(temp, join(dir, PATH))
  return true
}
