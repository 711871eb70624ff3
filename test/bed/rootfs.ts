// Fresh Debian root file systems for tests, extracted from a cached tarball.
//
// build-rootfs.sh owns the recipe and the cache (key, lock, atomic rename); this file asks it
// for the tarball once per process, extracts it once per process and image (the shared base,
// never written), and gives every caller a private copy-on-write view of it: an overlay whose
// upper layer is the caller's own. Speed: the server root is 767 MB unpacked; extracting and
// deleting a private copy of it took about 17 s + 55 s under CI's load, about 22 times a run.
// An overlay is mounted and removed in milliseconds.
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { expectSuccess, run, runOk, type RunResult } from './exec.js';
import { requireRoot, requireTools } from './require.js';
import { makeTempDir, removeTree, removeTreeSync } from './tmp.js';

const BUILD_SCRIPT = new URL('./build-rootfs.sh', import.meta.url).pathname;

/**
 * The first call may build the cache (about a minute), or wait for .ci/run's background build of
 * it (prebuild-roots.sh, niced, four roots at once: all cached 746 s after its start at a load of
 * 14); give that test a long timeout. 20 minutes since session 37: with three groups the first
 * test that needs a root starts about 100 s into the suite (two groups: about 200 s), so a slow
 * machine's wait for the background build came too near 10 minutes.
 */
export const ROOTFS_BUILD_TIMEOUT_MS = 20 * 60_000;

export interface Rootfs {
  /** The root of the tree (a fresh, private view: writes stay in it). */
  dir: string;
  /** Delete the copy. Idempotent; also done at process exit if a test forgot. */
  cleanup(): Promise<void>;
}

/**
 * Which cached root: `base` is Debian 12 minbase with systemd, cron and git; `server` is a
 * realistic Debian 13 server (nginx with a site on port 8080, postgresql, postfix, ssh, sudo,
 * cron, unattended-upgrades, curl); `server-node` is the server with Debian's own nodejs and npm
 * and hello's .deb in apt's cache; `checkers` is the server with every other service whose checker
 * the service table names (apache2, haproxy, bind9, squid, samba...). See build-rootfs.sh and docs/testing.md.
 */
export type RootfsImage = 'base' | 'server' | 'server-node' | 'checkers';

const cached = new Map<RootfsImage, Promise<string>>();

/** Path of the cached rootfs tarball, building it first if the cache does not have it. */
export function rootfsTarball(image: RootfsImage = 'base'): Promise<string> {
  let tarball = cached.get(image);
  if (tarball === undefined) {
    tarball = buildOrFind(image).catch((error: unknown) => {
      cached.delete(image); // let a later caller retry instead of inheriting the failure
      throw error;
    });
    cached.set(image, tarball);
  }
  return tarball;
}

async function buildOrFind(image: RootfsImage): Promise<string> {
  requireRoot('building a Debian root file system');
  requireTools('debootstrap', 'zstd', 'tar', 'flock', 'findmnt', 'unshare');
  const result = await runOk(['bash', BUILD_SCRIPT, image], { timeoutMs: ROOTFS_BUILD_TIMEOUT_MS });
  const path = result.stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(path)) throw new Error(`build-rootfs.sh printed no tarball path:\n${result.stderr}`);
  return path;
}

/** Extract the cached tarball into an empty directory. */
export async function extractRootfs(into: string, image: RootfsImage = 'base'): Promise<void> {
  const tarball = await rootfsTarball(image);
  await runOk(['tar', '--zstd', '--numeric-owner', '--xattrs', "--xattrs-include=*", '-xpf', tarball, '-C', into]);
}

const bases = new Map<RootfsImage, Promise<string>>();

/**
 * One extracted root per image and process: the read-only lower layer of every fresh root's
 * overlay and of every container's (test/bed/container.ts). Nothing may write to it; it is
 * removed at process exit.
 */
export function sharedRootfs(image: RootfsImage = 'base'): Promise<string> {
  let base = bases.get(image);
  if (base !== undefined) return base;
  base = (async () => {
    const home = await makeTempDir('base');
    const dir = join(home, 'root');
    onExit(() => {
      removeImageLock(dir);
      removeTreeSync(home);
    });
    await mkdir(dir);
    await extractRootfs(dir, image);
    return dir;
  })().catch((error: unknown) => {
    bases.delete(image);
    throw error;
  });
  bases.set(image, base);
  return base;
}

// nspawn's global image lock is named after the image's device and inode numbers.
function removeImageLock(image: string): void {
  try {
    const { dev, ino } = statSync(image);
    rmSync(join('/run/systemd/nspawn/locks', `inode-${dev}:${ino}`), { force: true });
  } catch {
    // image already gone
  }
}

export interface FreshRootfsOptions {
  /**
   * A plain private copy (extracted, then deleted) instead of an overlay over the shared base:
   * for a test that needs the tree not to be a mount point, or to stack more than one overlay
   * of its own on it (the kernel stacks two at most). Slow for the big images (see above).
   */
  copy?: boolean;
}

/**
 * A fresh private root of the cached Debian root file system: an overlay over this process's
 * shared extracted base (sharedRootfs), whose upper layer holds everything the test writes.
 * redirect_dir and index make renamed directories and hard links behave as on a plain file
 * system. The first call per image extracts the base (1–3 s for `base`); later ones take
 * milliseconds. `copy: true`: a plain extracted copy instead.
 */
export async function freshRootfs(image: RootfsImage = 'base', options: FreshRootfsOptions = {}): Promise<Rootfs> {
  const base = options.copy ? undefined : await sharedRootfs(image);
  const home = await makeTempDir('rootfs');
  const forget = onExit(() => removeTreeSync(home));
  const cleanup = async (): Promise<void> => {
    await removeTree(home);
    forget();
  };
  const dir = join(home, 'root');
  try {
    await runOk(['mkdir', dir]);
    if (base === undefined) {
      await extractRootfs(dir, image);
    } else {
      await runOk(['mkdir', join(home, 'upper'), join(home, 'work')]);
      await runOk([
        'mount', '-t', 'overlay', 'twinsync-bed', '-o',
        `lowerdir=${base},upperdir=${join(home, 'upper')},workdir=${join(home, 'work')},redirect_dir=on,index=on`,
        dir,
      ]);
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { dir, cleanup };
}

export interface ChrootOptions {
  /** Extra environment; the base is PATH, HOME=/root, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive. */
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
  /** By default a policy-rc.d denies service starts for the duration of the call, so package
   *  scripts do not try to start daemons in a tree that is not booted. */
  allowServiceStarts?: boolean;
}

const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Mounts /dev and /proc for the chrooted program inside a private mount namespace: they vanish
// with it, so no mount can outlive the call or be in the way when the tree is deleted. The
// script is constant; the directory and the command arrive as positional parameters.
const IN_PRIVATE_MOUNTS =
  'root=$1; shift; mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" && exec chroot "$root" "$@"';

/** Run cmd with args chrooted into dir. Resolves with the exit code; never uses a shell string. */
export async function chroot(dir: string, cmd: string, args: string[] = [], options: ChrootOptions = {}): Promise<RunResult> {
  requireTools('unshare', 'chroot');
  const release = options.allowServiceStarts ? () => {} : denyServiceStarts(dir);
  try {
    return await run(
      ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', IN_PRIVATE_MOUNTS, 'sh', dir, cmd, ...args],
      {
        env: { PATH: CHROOT_PATH, HOME: '/root', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...options.env },
        input: options.input,
        timeoutMs: options.timeoutMs,
      },
    );
  } finally {
    release();
  }
}

/** chroot, but rejects with a CommandError unless the command exits 0. */
export async function chrootOk(dir: string, cmd: string, args: string[] = [], options: ChrootOptions = {}): Promise<RunResult> {
  return expectSuccess(await chroot(dir, cmd, args, options));
}

// Concurrent chroot calls into one tree share one policy-rc.d; the last one out removes it, so
// the tree looks like the cached one between calls (collectors must not see test machinery).
const policyUsers = new Map<string, number>();

// Synchronous on purpose: check-and-create must not interleave with another call's.
function denyServiceStarts(dir: string): () => void {
  const path = join(dir, 'usr/sbin/policy-rc.d');
  const users = policyUsers.get(dir) ?? 0;
  if (users === 0) {
    if (existsSync(path)) return () => {}; // not ours (the tree came with one): leave it alone
    writeFileSync(path, '#!/bin/sh\n# test bed: no service starts in a chroot\nexit 101\n', { mode: 0o755 });
  }
  policyUsers.set(dir, users + 1);
  return () => {
    const left = (policyUsers.get(dir) ?? 1) - 1;
    if (left > 0) {
      policyUsers.set(dir, left);
      return;
    }
    policyUsers.delete(dir);
    rmSync(path, { force: true });
  };
}
