import { isRacy, type FileStat, type HostPort, type ProviderCache } from '@twinsync/sdk'

/** What a walk wants of a folder: its subfolders' names and its regular files among `names`, as readdir gave them. */
export interface FolderListing {
  readonly dirs: readonly string[]
  readonly files: readonly string[]
}

/** Lists folders for a walk (FolderListing); `keep` writes down what this look listed, for the next. */
export interface FolderLister {
  list(folder: string): Promise<FolderListing | undefined>
  keep(): Promise<void>
}

/** A folder's record: its stamp (size, mtime, ctime, inode, device) and its listing. */
type Kept = [size: number, mtimeMs: number, ctimeMs: number, ino: number, dev: number, dirs: string[], files: string[]]

const listingOf = (entries: ReadonlyArray<{ name: string; type: string }>, names: readonly string[]): FolderListing => ({
  dirs: entries.filter((e) => e.type === 'directory').map((e) => e.name),
  files: entries.filter((e) => e.type === 'file' && names.includes(e.name)).map((e) => e.name),
})

/** Every folder listed each look (no cache: a test's, a pushed twin's). */
export function plainLister(host: Pick<HostPort, 'readdir'>, names: readonly string[]): FolderLister {
  return {
    list: async (folder) => listingOf(await host.readdir(folder).catch(() => []), names),
    keep: async () => undefined,
  }
}

/**
 * Speed (issue 22, session 43): a walk's folders kept from one look to the next with their stamp
 * (size, mtime, ctime, inode and device, taken before the folder was read), as git's untracked
 * cache and the working twin's folder record (quick-status.ts, clean-folders.json) keep theirs. A
 * name added, removed or renamed in a folder (a new `.htaccess`, a new subfolder, a file made a
 * link) moves its mtime and ctime: while a kept folder has its stamp, it holds what it held, and
 * it is looked at with one lstat instead of a listing (open, fstat, getdents, close, and an entry
 * object a name). A folder whose stamp moved, one changed too recently to trust its times
 * (isRacy), one not kept and one whose listing failed are listed; the record is written when
 * anything was, of the folders this look met (a folder the walk no longer reaches is dropped).
 * What the files found say is not kept here: each is looked at by its caller every look (its
 * content kept by its own stat data). A folder that is no longer a folder (a link put in its
 * place) is not listed: a walk goes through real folders only.
 *
 * Measured on a WordPress host (the server root, Debian trixie's apache2 with /var/www
 * `AllowOverride All`, wordpress 6.8's files in /var/www/html with nine years of monthly uploads and
 * two plugins: 587 folders, 5,038 files, 5 `.htaccess` files found; the walk meets its 256-folder
 * bound), an unchanged snapshot, against 353b03fc (each side its own twin copy and code-cache
 * folder, load 10–14): callgrind (node only) 894.1–894.4 → 873.1–881.2 M instructions (3
 * interleaved pairs; −21 M, −2.4%); the same root with /var/www `AllowOverride None` (no walk)
 * 859.8 M, so the walk 34.5 → 13.4 M. `strace -c`: getdents64 608 → 96, openat 449 → 194,
 * newfstatat 322 → 66, statx 2,746 → 2,729, every call 6,234 → 4,893 (no walk 4,588). In-process
 * (JIT-warm, 40 looks): 7.0–7.2 → 2.3–2.8 ms of CPU a look under --root, 5.9–6.4 → 2.4 ms on the
 * running system (256 folders of /opt); a first look as before (6.99–7.93 ms). The record: 36 KB.
 * Session 42 measured the lstats as dear as the listings (wall, load 8–11): the instructions say
 * otherwise.
 */
export async function keptLister(host: Pick<HostPort, 'readdir' | 'lstat'>, cache: ProviderCache, key: string, names: readonly string[], startedAt: number): Promise<FolderLister> {
  const kept = parseRecord(await cache.read(key).catch(() => undefined), names)
  const now = new Map<string, Kept>()
  let moved = false
  return {
    async list(folder) {
      const st = await host.lstat(folder).catch(() => undefined)
      if (st?.type !== 'directory') {
        moved = true
        return undefined
      }
      const was = kept?.get(folder)
      if (was !== undefined && sameStamp(was, st) && !isRacy(st, startedAt)) {
        now.set(folder, was)
        return { dirs: was[5], files: was[6] }
      }
      moved = true
      let listing: FolderListing
      try {
        listing = listingOf(await host.readdir(folder), names)
      } catch {
        return { dirs: [], files: [] }
      }
      if (!isRacy(st, startedAt)) now.set(folder, [st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev, [...listing.dirs], [...listing.files]])
      return listing
    },
    async keep() {
      if (!moved && now.size === (kept?.size ?? 0)) return
      await cache.write(key, JSON.stringify({ names, folders: [...now] })).catch(() => undefined)
    },
  }
}

const sameStamp = (k: Kept, st: FileStat): boolean => k[0] === st.size && k[1] === st.mtimeMs && k[2] === st.ctimeMs && k[3] === st.ino && k[4] === st.dev

/** The kept folders when the record is whole and for the same names; a damaged one only costs the listings. */
function parseRecord(text: string | undefined, names: readonly string[]): Map<string, Kept> | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as { names?: unknown; folders?: unknown }
    if (!Array.isArray(value.names) || value.names.length !== names.length || value.names.some((n, i) => n !== names[i]) || !Array.isArray(value.folders)) return undefined
    const out = new Map<string, Kept>()
    for (const f of value.folders as unknown[]) {
      if (!Array.isArray(f) || f.length !== 2 || typeof f[0] !== 'string' || !isKept(f[1])) return undefined
      out.set(f[0], f[1])
    }
    return out
  } catch {
    return undefined
  }
}

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string' && n !== '' && n !== '.' && n !== '..' && !n.includes('/'))
const isKept = (v: unknown): v is Kept => Array.isArray(v) && v.length === 7 && v.slice(0, 5).every((n) => typeof n === 'number') && isNames(v[5]) && isNames(v[6])
