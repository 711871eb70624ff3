// Capability checks that fail loudly.
//
// A test that cannot run because the machine lacks a tool must FAIL with a message that says
// what to install — never skip: a skipped test reads as a pass in CI and hides that nothing
// was tested. .ci/run installs everything listed here.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian package that provides each tool the bed uses. */
const PACKAGE_OF: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  tmux: 'tmux',
  git: 'git',
  zstd: 'zstd',
  tar: 'tar',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  flock: 'util-linux',
  findmnt: 'util-linux',
  umount: 'mount',
  chroot: 'coreutils',
  pgrep: 'procps',
  rpm: 'rpm',
  rpmbuild: 'rpm',
  dnf: 'dnf',
  createrepo_c: 'createrepo-c',
  gcc: 'gcc',
};

// Root's tools live in sbin, which a non-login PATH may lack.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Throw an Error naming every missing tool and the apt-get command that installs them. */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((tool) => findTool(tool) === undefined);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool] ?? tool))];
  throw new Error(
    `The test bed needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed. ` +
      `Install with: apt-get update && apt-get install -y ${packages.join(' ')} (or run .ci/run, which installs everything the tests need).`,
  );
}

/** Throw unless the tests run as root (debootstrap, systemd-nspawn and chroot need it). */
export function requireRoot(forWhat: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`The test bed must run as root for ${forWhat} (it uses debootstrap, chroot and systemd-nspawn). Run the tests as root, e.g. in the CI machine via .ci/run.`);
  }
}

/** Absolute path of an executable on PATH (or in the sbin dirs), or undefined. */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
