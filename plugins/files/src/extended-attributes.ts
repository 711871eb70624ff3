import { infoDiagnostic, type Diagnostic, type HostPort } from '@twinsync/sdk'

/** What the xattr tools found, by target path. */
export interface ExtendedAttributes {
  capabilities: Map<string, string>
  xattrs: Map<string, Record<string, string>>
  diagnostics: Diagnostic[]
}

/**
 * File capabilities (getcap) and extended attributes including POSIX ACLs (getfattr), for every
 * path under `roots`. Node has no xattr API, so this runs the tools, once for all roots, through the
 * host port; the host's copy is preferred (a minimal target rarely has them), the target's used
 * otherwise. A missing tool is reported once, as information: the rest of the manifest stands.
 */
export async function readExtendedAttributes(
  host: HostPort,
  roots: readonly string[],
  tools?: AttributeTools,
  options: { paths?: boolean } = {},
): Promise<ExtendedAttributes> {
  const result: ExtendedAttributes = { capabilities: new Map(), xattrs: new Map(), diagnostics: [] }
  const { getcap, getfattr } = tools ?? (await locateAttributeTools(host))
  // `paths`: these paths alone, not walked into (attribute-cache.ts asks about the ones that moved).
  const alone = options.paths === true
  const present: string[] = []
  if (alone) present.push(...roots)
  // A root the machine will not let us look at (EACCES: another user's home when not root, a
  // root-squashed NFS home) is left to the walk, which keeps it as unread; it never fails the collect.
  else for (const root of roots) if ((await host.lstat(root).catch(() => undefined)) !== undefined) present.push(root)
  // The tools' paths: a target path in the target, else its host path. A path alone is not
  // followed at its last name (its folder resolved inside the root), as the tools' walk finds it.
  const hostPaths = new Map<string, string>()
  const args = async (inTarget: boolean): Promise<string[]> => {
    if (inTarget) return present
    const found = await Promise.all(
      present.map(async (p) => {
        const at = p.lastIndexOf('/')
        try {
          const folder = alone && p !== '/' ? await host.resolve(at === 0 ? '/' : p.slice(0, at)) : undefined
          const hostPath = folder === undefined ? await host.resolve(p) : `${folder === '/' ? '' : folder}/${p.slice(at + 1)}`
          hostPaths.set(hostPath, p)
          return hostPath
        } catch (error) {
          if (alone) return undefined // gone since the walk: nothing to read
          throw error
        }
      }),
    )
    return found.filter((p): p is string => p !== undefined)
  }
  const targetPath = (path: string) => hostPaths.get(path) ?? toTargetPath(host, path)
  // getfattr first, and getcap only about the paths that hold a capability, as getfattr shows it
  // (security.capability): the paths alone (the few that moved) it was asked about, or on a walk of
  // the roots every file it found one on (up to WALK_HOLDERS of them; more, or the tools in two
  // places, and getcap walks the roots too, at once with getfattr, as before session 49).
  // Speed (issue 22, session 30): a changed snapshot of one file ran both tools for it; a spawn is
  // 5–12 ms of Node's main thread (CPU profiles of the minbase root at load 9, the fork's kernel
  // time in it: Node's user-space instructions, what callgrind counts, stay 730–742 M either way).
  // Session 49: a first snapshot (and any collect whose attribute cache cannot answer) walked the
  // roots with both; a machine's /etc rarely holds a capability, so getcap mostly runs no more:
  // minbase `snapshot --init` child processes 2 → 1, the spawns on Node's main thread 3.7 → 2.5 ms
  // (medians of 10 runs under `chrt -f 50`, load 21–25; the first spawn pays about 2.5 ms, getcap's
  // before, getfattr's now).
  const sequenced = getcap !== undefined && getfattr !== undefined && (alone || getcap.inTarget === getfattr.inTarget)
  const holders = sequenced ? new Set<string>() : undefined
  // The walk's holders as getfattr printed them: where getcap, run in the same place, finds them.
  const held: string[] = []
  const readCapabilities = async () => {
    if (getcap === undefined) return
    let walk = !alone
    let paths: string[]
    if (holders !== undefined && walk && held.length <= WALK_HOLDERS) {
      paths = held
      walk = false
    } else {
      paths = await args(getcap.inTarget)
      if (holders !== undefined && alone) paths = paths.filter((p) => holders.has(getcap.inTarget ? p : targetPath(p)))
    }
    if (paths.length === 0) return
    const out = await host.query('getcap', [...(walk ? ['-r'] : []), ...paths], { inTarget: getcap.inTarget })
    for (const [path, caps] of parseGetcap(out.stdout)) {
      result.capabilities.set(getcap.inTarget ? path : targetPath(path), caps)
    }
  }
  const readAttributes = async () => {
    const paths = getfattr === undefined ? [] : await args(getfattr.inTarget)
    if (getfattr === undefined || paths.length === 0) return
    // -h: a symlink's own attributes (lgetxattr), not its target's (session 9; attribute-cache.ts).
    const out = await host.query('getfattr', [...(alone ? [] : ['-R']), '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', ...paths], {
      inTarget: getfattr.inTarget,
    })
    for (const [path, attrs] of parseGetfattr(out.stdout)) {
      if (holders !== undefined && attrs['security.capability'] !== undefined) {
        holders.add(getfattr.inTarget ? path : targetPath(path))
        held.push(path)
      }
      // getcap already gave the capability in words; the raw bytes would only repeat it.
      if (getcap !== undefined) delete attrs['security.capability']
      if (Object.keys(attrs).length > 0) result.xattrs.set(getfattr.inTarget ? path : targetPath(path), attrs)
    }
  }
  if (holders !== undefined) {
    await readAttributes()
    await readCapabilities()
  } else {
    await Promise.all([readCapabilities(), readAttributes()])
  }
  const missing = [getcap === undefined ? 'getcap (package libcap2-bin)' : '', getfattr === undefined ? 'getfattr (package attr)' : '']
    .filter((m) => m !== '')
  if (missing.length > 0) {
    result.diagnostics.push(
      infoDiagnostic('FILES_XATTR_TOOLS_MISSING', `Not recorded: ${missing.join(', ')} is not installed`, {
        detail:
          getfattr === undefined
            ? 'Extended attributes and POSIX ACLs are left out of the manifest until the attr package is installed.'
            : 'File capabilities are left out of the manifest until libcap2-bin is installed.',
        provider: 'files',
      }),
    )
  }
  return result
}

/** At most this many files getcap is named on a walk (those getfattr found a capability on); more: it walks the roots itself. */
const WALK_HOLDERS = 256

/** Where each tool runs: on the host (preferred), in the target, or nowhere (undefined). */
export interface AttributeTools {
  getcap: { inTarget: boolean } | undefined
  getfattr: { inTarget: boolean } | undefined
}

export async function locateAttributeTools(host: HostPort): Promise<AttributeTools> {
  return { getcap: await locate(host, 'getcap'), getfattr: await locate(host, 'getfattr') }
}

async function locate(host: HostPort, tool: string): Promise<{ inTarget: boolean } | undefined> {
  if ((await host.which(tool)) !== undefined) return { inTarget: false }
  if (!host.live && (await host.which(tool, { inTarget: true })) !== undefined) return { inTarget: true }
  return undefined
}

function toTargetPath(host: HostPort, hostPath: string): string {
  if (host.live) return hostPath
  return hostPath === host.root ? '/' : hostPath.slice(host.root.length)
}

/** "path cap_net_raw=ep" (libcap >= 2.30) or "path = cap_net_raw+ep" (older). */
export function parseGetcap(output: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const line of output.split('\n')) {
    const match = /^(\/.*?) (?:= )?(cap_[a-z_,]+[=+\-].*)$/.exec(line.trim())
    if (match !== null) out.push([match[1] as string, match[2] as string])
  }
  return out
}

/** getfattr -d output: "# file: <path>" then "name=value" lines, paths octal-escaped. */
export function parseGetfattr(output: string): Array<[string, Record<string, string>]> {
  const out: Array<[string, Record<string, string>]> = []
  let current: Record<string, string> | undefined
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {}
      out.push([unescapeOctal(line.slice('# file: '.length)), current])
    } else if (current !== undefined && line.includes('=')) {
      const at = line.indexOf('=')
      current[line.slice(0, at)] = line.slice(at + 1).replace(/^"(.*)"$/, '$1')
    }
  }
  return out
}

function unescapeOctal(text: string): string {
  const bytes: number[] = []
  for (const part of text.split(/(\\[0-7]{3})/)) {
    if (/^\\[0-7]{3}$/.test(part)) bytes.push(parseInt(part.slice(1), 8))
    else bytes.push(...Buffer.from(part))
  }
  return Buffer.from(bytes).toString('utf8')
}
