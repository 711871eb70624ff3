import { createHash } from 'node:crypto'
import type { FileStat, ProviderContext } from '@twinsync/sdk'
import { cachedBySignature, RACY_MS } from '@twinsync/sdk'
import { locateAttributeTools, readExtendedAttributes, type ExtendedAttributes } from './extended-attributes.js'

const CACHE_KEY = 'attributes-v2'

/**
 * Speed: getcap and getfattr run only when something they would read may have moved. Setting
 * an extended attribute, an ACL or a capability changes the file's ctime, and replacing a file
 * changes its inode, so while every walked path has the same inode and ctime as last time (and
 * the same tools are installed), their answer is the one kept in the provider's cache. Paths
 * changed too recently to trust their ctime (git's "racily clean") are not kept.
 * Measured on the Debian server root (1,650 paths), unchanged snapshot: the two tools cost
 * 60–260 ms of wall time (two processes walking /etc), the check under 5 ms.
 */
export async function cachedAttributes(
  ctx: Pick<ProviderContext, 'host' | 'cache'>,
  roots: readonly string[],
  walked: ReadonlyArray<{ path: string; stat?: FileStat | undefined }>,
  startedAt: number,
): Promise<ExtendedAttributes> {
  const tools = await locateAttributeTools(ctx.host)
  const racy = walked.some((w) => w.stat === undefined || w.stat.ctimeMs > startedAt - RACY_MS)
  // Hashed path by path rather than built as one string first (the scale root: 25,000 paths, a 2 MB string).
  const hash = createHash('sha256').update(JSON.stringify([ctx.host.root, roots, tools]))
  let chunk = ''
  for (const w of walked) {
    chunk += JSON.stringify([w.path, w.stat?.dev, w.stat?.ino, w.stat?.ctimeMs])
    if (chunk.length > 65536) {
      hash.update(chunk)
      chunk = ''
    }
  }
  hash.update(chunk)
  const signature = hash.digest('hex')
  const kept = await cachedBySignature(
    ctx.cache,
    CACHE_KEY,
    signature,
    async () => {
      const read = await readExtendedAttributes(ctx.host, roots, tools)
      return { capabilities: [...read.capabilities], xattrs: [...read.xattrs], diagnostics: read.diagnostics }
    },
    { racy },
  )
  return { capabilities: new Map(kept.capabilities), xattrs: new Map(kept.xattrs), diagnostics: kept.diagnostics }
}
