// etckeeper, the tool administrators run today, as the yardstick.
//
// How it runs, and why this way (the fair comparison): its Debian package is fetched with
// `apt-get download` from the host's own mirror and unpacked with `dpkg-deb -x` into the
// benchmark cache, never installed. It then runs on the host as `etckeeper <cmd> -d
// <copy of the root>/etc` with ETCKEEPER_CONF_DIR pointing at the unpacked configuration, so
//   - it uses the host's git, the same git binary TwinSync runs (installing etckeeper into the
//     root and running it with chroot would use the root's git: 2.47 on the trixie services
//     root against the host's 2.39), and pays no chroot or mount set-up;
//   - it sees exactly the files TwinSync sees: both get their own copy extracted from the same
//     cached tarball (installing it with apt would add etckeeper's own files to /etc, and its
//     postinst would already make the first commit);
//   - the host's own /etc is never touched: every command refuses a directory that is not
//     inside one of the test bed's temporary trees.
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireRoot, requireTools, runOk } from '../bed/index.js'
import { measure, type Sample } from './measure.js'

const CACHE_DIR = process.env.TWINSYNC_TEST_CACHE ?? '/var/cache/twinsync-test'

export interface Etckeeper {
  /** e.g. "1.18.20-1" */
  version: string
  /** Where the .deb was unpacked (usr/bin/etckeeper, etc/etckeeper/...). */
  dir: string
  /** How it is run, for the report. */
  how: string
}

/** The unpacked etckeeper package, fetched and unpacked once into the cache (under its lock). */
export async function etckeeper(): Promise<Etckeeper> {
  requireRoot('the etckeeper comparison')
  requireTools('flock', 'git')
  const version = (await runOk(['apt-cache', 'policy', 'etckeeper'])).stdout.match(/Candidate:\s*(\S+)/)?.[1]
  if (version === undefined || version === '(none)') {
    throw new Error('etckeeper is not in the host apt lists; run apt-get update first')
  }
  const dir = join(CACHE_DIR, `etckeeper-${version}`)
  if (!existsSync(join(dir, 'usr/bin/etckeeper'))) {
    await mkdir(CACHE_DIR, { recursive: true })
    // The cache-wide lock: build-rootfs.sh sweeps .build.* dirs of dead builders only when nobody holds it.
    await runOk(['flock', join(CACHE_DIR, '.lock'), 'sh', '-c', UNPACK, 'sh', CACHE_DIR, dir], { timeoutMs: 300_000 })
  }
  const git = (await runOk(['git', '--version'])).stdout.trim()
  return {
    version,
    dir,
    how: `etckeeper ${version} (its .deb unpacked with dpkg-deb -x, not installed), run on the host with -d <copy of the root>/etc and the host's ${git}, the git TwinSync runs; each tool gets its own copy of the same root`,
  }
}

// Download into a private build dir, unpack, then rename into place: readers see all or nothing.
const UNPACK = `set -e
cache=$1 dir=$2
[ -x "$dir/usr/bin/etckeeper" ] && exit 0
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download etckeeper >&2
dpkg-deb -x etckeeper_*.deb unpacked
rm -rf "$dir"
mv unpacked "$dir"`

/** The environment etckeeper runs with: its unpacked configuration and a neutral git identity. */
function env(tool: Etckeeper, home: string): NodeJS.ProcessEnv {
  return {
    PATH: `${join(tool.dir, 'usr/bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    ETCKEEPER_CONF_DIR: join(tool.dir, 'etc/etckeeper'),
    HOME: home,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@localhost',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@localhost',
  }
}

function guard(etc: string): void {
  if (!etc.startsWith(`${tmpdir()}/twinsync-bed-`) || !etc.endsWith('/etc')) {
    throw new Error(`refusing to run etckeeper on ${etc}: only on a test bed copy of a root`)
  }
}

/** One etckeeper command on <root>/etc, measured. `commit` on an unchanged /etc exits 1 ("nothing to commit"). */
export async function etckeeperRun(tool: Etckeeper, root: string, home: string, args: string[], okCodes = [0]): Promise<Sample> {
  const etc = join(root, 'etc')
  guard(etc)
  const [command, ...rest] = args
  if (command === undefined) throw new Error('etckeeper: no command')
  return measure(['etckeeper', command, '-d', etc, ...rest], { env: env(tool, home), okCodes, timeoutMs: 600_000 })
}

/** `etckeeper init` and the first `etckeeper commit`, timed together (what a first snapshot does). */
export async function etckeeperFirst(tool: Etckeeper, root: string, home: string): Promise<Sample> {
  await etckeeperForget(root)
  const init = await etckeeperRun(tool, root, home, ['init'])
  const commit = await etckeeperRun(tool, root, home, ['commit', 'first commit'])
  return { ms: init.ms + commit.ms, peakMb: Math.max(init.peakMb, commit.peakMb), result: commit.result }
}

/** Remove what etckeeper added to <root>/etc, so the next init starts from the root as it was. */
export async function etckeeperForget(root: string): Promise<void> {
  const etc = join(root, 'etc')
  guard(etc)
  // The first commit of a large /etc (the scale root's 20,000 files) starts git's detached auto
  // gc, which may still be writing into .git/objects: waited for (its .git/gc.pid names it; git
  // makes the folders it writes into, so a gc outliving the removal could leave a partial .git
  // for the next init), and the removal retried (ENOTEMPTY).
  await gcFinished(join(etc, '.git'))
  for (const name of ['.git', '.etckeeper', '.gitignore']) await rm(join(etc, name), { recursive: true, force: true, maxRetries: 50, retryDelay: 100 })
}

/** Waits (at most a minute) until no git gc named by `<git>/gc.pid` is running. */
async function gcFinished(git: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const pid = Number((await readFile(join(git, 'gc.pid'), 'utf8').catch(() => '')).split(' ')[0])
    if (!Number.isInteger(pid) || pid <= 0 || !existsSync(`/proc/${pid}`)) return
    await new Promise((done) => setTimeout(done, 100))
  }
}

/** A private HOME for etckeeper's runs (git looks for ~/.gitconfig there). */
export async function etckeeperHome(parent: string): Promise<string> {
  const home = join(parent, 'etckeeper-home')
  await mkdir(home, { recursive: true })
  await writeFile(join(home, '.gitconfig'), '')
  return home
}
