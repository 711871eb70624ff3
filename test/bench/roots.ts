// The roots the benchmark runs on. TwinSync and etckeeper each get their own copy, extracted
// from the same cached tarball: the same files, and neither tool sees the other's repository.
import { freshRootfs, type Rootfs, type RootfsImage } from '../bed/index.js'

export interface RootPair {
  /** TwinSync's copy. */
  twinsync: string
  /** etckeeper's copy (same bytes). */
  etckeeper: string
  cleanup(): Promise<void>
}

/** Two fresh copies of a cached bed root (`base`: Debian 12 minbase; `server`: the services root). */
export async function rootPair(image: RootfsImage | (() => Promise<Rootfs>)): Promise<RootPair> {
  const fresh = typeof image === 'function' ? image : () => freshRootfs(image)
  const a = await fresh()
  let b: Rootfs
  try {
    b = await fresh()
  } catch (error) {
    await a.cleanup()
    throw error
  }
  return {
    twinsync: a.dir,
    etckeeper: b.dir,
    cleanup: async () => {
      await a.cleanup()
      await b.cleanup()
    },
  }
}
