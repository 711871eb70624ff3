// Temporary directories of the test bed, and the only code that deletes them.
//
// Every tree lives in os.tmpdir() under a name that starts with `twinsync-bed-<pid>-`, so it
// is outside the repository, easy to recognise, and a later run can sweep what a killed run
// left behind. Deleting is careful because these trees are root file systems: anything mounted
// below one (a bind of /dev, a proc) is unmounted first, and `rm --one-file-system` never
// follows into another file system, so a leftover bind mount can never take the host's files
// with it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { run } from './exec.js';

const PREFIX = 'twinsync-bed-';

/** Create a fresh directory `<tmpdir>/twinsync-bed-<pid>-<purpose>-XXXXXX`. */
export async function makeTempDir(purpose: string): Promise<string> {
  await sweepStaleOnce();
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-${purpose}-`));
}

/** Delete a tree made by makeTempDir, unmounting anything below it first. */
export async function removeTree(dir: string): Promise<void> {
  assertOwnTempDir(dir);
  if (!existsSync(dir)) return;
  for (const mount of mountsBelow(await readFile('/proc/self/mountinfo', 'utf8'), dir)) {
    await run(['umount', '--lazy', mount]);
  }
  const left = mountsBelow(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  if (left.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${left.join(', ')}`);
  const result = await run(['rm', '-rf', '--one-file-system', '--', dir]);
  if (result.code !== 0) {
    // What was written into the tree while rm ran (a process still at work in it): named, so the
    // failure says who left work running instead of only "Directory not empty".
    const remains = existsSync(dir) ? (await run(['find', dir, '-printf', '%TT %p\\n'])).stdout.trim() : '';
    throw new Error(`could not delete ${dir}: ${result.stderr.trim()}${remains === '' ? '' : `\nstill there (modified, path):\n${remains}`}`);
  }
}

/** Synchronous twin of removeTree, for process-exit handlers. */
export function removeTreeSync(dir: string): void {
  assertOwnTempDir(dir);
  if (!existsSync(dir)) return;
  for (const mount of mountsBelow(readFileSync('/proc/self/mountinfo', 'utf8'), dir)) {
    spawnSync('umount', ['--lazy', mount], { stdio: 'ignore' });
  }
  if (mountsBelow(readFileSync('/proc/self/mountinfo', 'utf8'), dir).length > 0) return;
  spawnSync('rm', ['-rf', '--one-file-system', '--', dir], { stdio: 'ignore' });
}

/** Mount points at or below dir, deepest first (so they can be unmounted in that order). */
export function mountsBelow(mountinfo: string, dir: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map(unescapeMountPath)
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

// A bug that passed "/" or the repository here must fail, not delete.
function assertOwnTempDir(dir: string): void {
  if (dirname(dir) !== tmpdir() || !basename(dir).startsWith(PREFIX)) {
    throw new Error(`test bed refuses to delete ${dir}: not one of its own temp dirs`);
  }
}

let swept: Promise<void> | undefined;

// Remove trees of earlier runs whose process is gone (killed with SIGKILL, power loss).
function sweepStaleOnce(): Promise<void> {
  swept ??= sweepStale().catch((error: unknown) => {
    process.stderr.write(`test bed: could not sweep stale temp dirs: ${String(error)}\n`);
  });
  return swept;
}

async function sweepStale(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (isStale(name)) await removeTree(join(tmpdir(), name));
  }
}

/** True for a `twinsync-bed-<pid>-...` name whose process no longer exists. */
export function isStale(name: string): boolean {
  const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
  const pid = Number(match?.[1]);
  return match !== null && pid !== process.pid && !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
