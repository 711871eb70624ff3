// A synthetic scale root: the minbase root grown to 5,000 packages (a generated dpkg status
// and info lists, conffiles with their md5), 20,000 files under /etc and 1,000 unit files
// (half of them enabled). Generated once and cached as a tarball beside the bed's roots, under
// the cache-wide lock (<cache>/.lock), so repeated runs only extract it (a few seconds).
//
// Run as a program (`node --import tsx scale-root.ts build BASE OUT`) it is the builder; the
// caller holds the cache lock around it with flock(1).
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeTempDir, removeTree, repoRoot, rootfsTarball, runOk, type Rootfs } from '../bed/index.js'

const CACHE_DIR = process.env.TWINSYNC_TEST_CACHE ?? '/var/cache/twinsync-test'

/** The sizes, as issue 22 names them: the whole root holds this many (base root included). */
export const SCALE = { packages: 5000, etcFiles: 20_000, units: 1000 } as const
/** Bump when the recipe below changes. */
const RECIPE = 1
/** One conffile in this many is edited locally, as an administrator would. */
const EDITED_EVERY = 50

/** The cached scale tarball, building it (about a minute) when the cache lacks it. */
export async function scaleRootTarball(): Promise<string> {
  const base = await rootfsTarball('base') // before taking the lock: build-rootfs.sh takes it too
  const key = createHash('sha256').update(`recipe=${RECIPE}\nbase=${basename(base)}\n${JSON.stringify(SCALE)}`).digest('hex').slice(0, 16)
  const out = join(CACHE_DIR, `debian-bookworm-scale-${key}.tar.zst`)
  if (!existsSync(out)) {
    const self = fileURLToPath(import.meta.url)
    await runOk(['flock', join(CACHE_DIR, '.lock'), process.execPath, '--import', 'tsx', self, 'build', base, out], { cwd: repoRoot, timeoutMs: 1_800_000 })
  }
  return out
}

/** A fresh private copy of the scale root. */
export async function freshScaleRoot(): Promise<Rootfs> {
  const tarball = await scaleRootTarball()
  const home = await makeTempDir('scale')
  const dir = join(home, 'root')
  const cleanup = () => removeTree(home)
  try {
    await mkdir(dir)
    await runOk(['tar', '--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', tarball, '-C', dir])
  } catch (error) {
    await cleanup()
    throw error
  }
  return { dir, cleanup }
}

/** What the scale root holds, counted (for the report). */
export async function countScaleRoot(root: string): Promise<{ packages: number; etcFiles: number; units: number }> {
  const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8')
  return {
    packages: status.split('\n').filter((l) => l.startsWith('Package: ')).length,
    etcFiles: await countFiles(join(root, 'etc')),
    units: (await readdir(join(root, 'usr/lib/systemd/system'))).filter((n) => /\.(service|socket|timer|target|path|mount)$/.test(n)).length,
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) n += await countFiles(join(dir, entry.name))
    else n++
  }
  return n
}

// ---- the builder (runs under the cache lock) ----

async function build(base: string, out: string): Promise<void> {
  if (existsSync(out)) return // someone built it while we waited for the lock
  const work = await mkdtemp(join(CACHE_DIR, '.build.'))
  try {
    const root = join(work, 'root')
    await mkdir(root)
    await runOk(['tar', '--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', base, '-C', root])
    await grow(root)
    await runOk(['tar', '--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', root, '-cf', join(work, 'root.tar.zst'), '.'])
    await rename(join(work, 'root.tar.zst'), out) // same file system: atomic
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function grow(root: string): Promise<void> {
  const have = await countScaleRoot(root)
  const packages = SCALE.packages - have.packages
  const units = SCALE.units - have.units
  const enabled = Math.floor(units / 2) // their enablement links are files under /etc too
  const perPackage = Math.ceil((SCALE.etcFiles - have.etcFiles - enabled) / packages)
  let etcLeft = SCALE.etcFiles - have.etcFiles - enabled
  const stanzas: string[] = []
  const info = join(root, 'var/lib/dpkg/info')
  const unitDir = join(root, 'usr/lib/systemd/system')
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants')
  await mkdir(wants, { recursive: true })

  for (let p = 0; p < packages; p++) {
    const name = `scale-pkg-${String(p).padStart(4, '0')}`
    const etcDir = `/etc/scale/${name}`
    await mkdir(join(root, etcDir), { recursive: true })
    const conffiles: string[] = []
    const listed = ['/etc/scale', etcDir]
    for (let f = 0; f < perPackage && etcLeft > 0; f++, etcLeft--) {
      const path = `${etcDir}/setting-${f}.conf`
      const shipped = `# ${name} setting ${f}\n# shipped by the package; see its documentation\nenabled = true\nlevel = ${(p * 31 + f) % 17}\npath = /var/lib/${name}/${f}\n`
      const edited = (p * perPackage + f) % EDITED_EVERY === 0
      await writeFile(join(root, path), edited ? `${shipped}# edited by the administrator\nlevel = 99\n` : shipped)
      conffiles.push(` ${path} ${md5(shipped)}`)
      listed.push(path)
    }
    const md5sums: string[] = []
    if (p < units) {
      const unit = `scale-unit-${String(p).padStart(4, '0')}.service`
      const text = `[Unit]\nDescription=Scale benchmark service ${p}\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n`
      await writeFile(join(unitDir, unit), text)
      if (p < enabled) await symlink(`/usr/lib/systemd/system/${unit}`, join(wants, unit))
      listed.push('/usr/lib/systemd/system', `/usr/lib/systemd/system/${unit}`)
      md5sums.push(`${md5(text)}  usr/lib/systemd/system/${unit}`)
    }
    await writeFile(join(info, `${name}.list`), listed.join('\n') + '\n')
    await writeFile(join(info, `${name}.conffiles`), conffiles.map((c) => c.trim().split(' ')[0]).join('\n') + '\n')
    await writeFile(join(info, `${name}.md5sums`), md5sums.map((l) => `${l}\n`).join(''))
    stanzas.push(
      [
        `Package: ${name}`,
        'Status: install ok installed',
        'Priority: optional',
        'Section: misc',
        'Installed-Size: 24',
        'Maintainer: Scale Bench <bench@localhost>',
        'Architecture: all',
        `Version: 1.${p % 10}.${p}-1`,
        ...(conffiles.length > 0 ? ['Conffiles:', ...conffiles] : []),
        `Description: synthetic package ${p} for the scale benchmark`,
        ' It only owns a few configuration files and maybe a unit.',
      ].join('\n'),
    )
  }
  const statusPath = join(root, 'var/lib/dpkg/status')
  const status = (await readFile(statusPath, 'utf8')).replace(/\n*$/, '\n\n')
  await writeFile(statusPath, status + stanzas.join('\n\n') + '\n')
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

if (process.argv[2] === 'build' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [, , , base, out] = process.argv
  if (base === undefined || out === undefined) throw new Error('usage: scale-root.ts build BASE_TARBALL OUT_TARBALL')
  await build(base, out)
}
