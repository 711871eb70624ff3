// A booted Debian machine for tests: systemd-nspawn --boot over an overlay.
//
// All containers of a process share one read-only base (a cached rootfs extracted once); each
// container writes only to its own overlay upper dir, so it starts fresh in about a second and
// keeps its state across reboot(). The repository and the node binary are bind-mounted
// read-only, so `node /opt/twinsync/core/bin/run.js ...` runs the code under test inside.
//
// Stopping is layered so no container outlives the tests: close() powers off and, if that
// hangs, kills by process id; an exit/signal handler does the same for containers a failed
// test left open; and nspawn runs with a parent-death signal, so even a SIGKILLed test runner
// takes its containers down.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { expectSuccess, run, type RunResult } from './exec.js';
import { repoRoot } from './repo.js';
import { requireRoot, requireTools } from './require.js';
import { sharedRootfs, type RootfsImage } from './rootfs.js';
import { makeTempDir, removeTree, removeTreeSync } from './tmp.js';

/** Where the repository appears inside every container (read-only). */
export const REPO_IN_CONTAINER = '/opt/twinsync';
/** Where the test runner's node binary appears inside every container. */
export const NODE_IN_CONTAINER = '/usr/local/bin/node';
/** The twinsync CLI entry point inside a container. */
export const TWINSYNC_IN_CONTAINER = `${REPO_IN_CONTAINER}/core/bin/run.js`;

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOST_ENV = { PATH, SYSTEMD_COLORS: '0', LANG: 'C.UTF-8' };

export interface BootOptions {
  /** Machine name, also the container's hostname. Default: tsbed-<pid>-<n>. */
  name?: string;
  /** How long boot may take until systemd reports running/degraded. Default 60 s. */
  bootTimeoutMs?: number;
  /** Extra bind mounts (host path → container path), read-only unless readOnly is false. */
  binds?: Array<{ host: string; container: string; readOnly?: boolean }>;
  /** Which cached root to boot (see RootfsImage). Default `base`. */
  image?: RootfsImage;
  /**
   * Mount the checkout at /opt/twinsync and the test runner's node at /usr/local/bin/node
   * (read-only), so ct.twinsync() runs the code under test. Default true. False for a test that
   * installs TwinSync inside the container the README's way: then nothing of the host's checkout
   * or node is visible inside, and ct.twinsync() runs the `twinsync` on the container's PATH.
   */
  bindCheckout?: boolean;
  /**
   * Only a loopback interface of its own instead of the host's network. Default: true for the
   * `server` and `server-node` images (its nginx, sshd, postfix and postgresql would otherwise take the host's
   * ports 22, 25, 80, 8080 and 5432, and two such containers could not run at once), false
   * otherwise (a `base` container reaches the mirror and a loopback git remote on the host).
   */
  privateNetwork?: boolean;
}

export interface ContainerRunOptions {
  /** Extra environment; the base is PATH, HOME=/root, LANG=C.UTF-8 (nothing from the host). */
  env?: Record<string, string>;
  /** Working directory inside the container. Default /. */
  cwd?: string;
  input?: string | Buffer;
  /** Kill the command after this long. Default 120 s. */
  timeoutMs?: number;
}

export interface WriteOptions {
  /** File mode. Default 0o644. */
  mode?: number;
  /** Owner and group, by name or number as the container knows them. Default root. */
  owner?: string;
  group?: string;
}

/** Boot a fresh container. Close it in an after/afterEach hook; the first boot of a process
 *  may also have to build the rootfs cache (about a minute). */
export async function bootContainer(options: BootOptions = {}): Promise<Container> {
  requireRoot('booting a container');
  requireTools('systemd-nspawn', 'nsenter', 'setpriv', 'zstd');
  const base = await sharedRootfs(options.image ?? 'base');
  const home = await makeTempDir('ct');
  const container = new Container(options.name ?? `tsbed-${process.pid}-${counter++}`, base, home, options);
  try {
    await mkdir(container.upperDir);
    await container.start();
  } catch (error) {
    await container.close();
    throw error;
  }
  return container;
}

let counter = 0;

export class Container {
  private nspawn: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private initPid = 0;
  private closed = false;
  private readonly forget: () => void;

  /** Use bootContainer(). */
  constructor(
    readonly name: string,
    private readonly base: string,
    private readonly home: string,
    private readonly options: BootOptions,
  ) {
    this.forget = onExit(() => this.exitSync());
  }

  /** Host path of the overlay upper dir: everything this container changed. Read it; do not
   *  write it while the container runs (overlayfs does not allow that): use writeFile(). */
  get upperDir(): string {
    return join(this.home, 'upper');
  }

  /** Host path of the console log (boot messages, useful when a test fails). */
  get logFile(): string {
    return join(this.home, 'console.log');
  }

  /** Host process id of the container's systemd (PID 1 inside). */
  get pid(): number {
    return this.initPid;
  }

  /** Host process id of systemd-nspawn (undefined before the first boot). */
  get nspawnPid(): number | undefined {
    return this.nspawn?.pid;
  }

  /** True while the container's nspawn process runs. */
  get running(): boolean {
    return this.nspawn !== undefined && this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  /** Run argv inside (all namespaces of the container, clean environment). Resolves with the
   *  exit code and output; never rejects because of a non-zero exit. */
  run(argv: string[], options: ContainerRunOptions = {}): Promise<RunResult> {
    if (!this.running) return Promise.reject(new Error(`container ${this.name} is not running`));
    const env = { PATH, HOME: '/root', LANG: 'C.UTF-8', ...options.env };
    const bad = Object.keys(env).find((key) => key === '' || key.includes('='));
    if (bad !== undefined) return Promise.reject(new Error(`bad environment variable name: ${JSON.stringify(bad)}`));
    // env(1) would take a first word with '=' for another variable, not for the command.
    if (argv[0]?.includes('=')) return Promise.reject(new Error(`command name contains '=': ${argv[0]}`));
    const envArgs = Object.entries(env).map(([key, value]) => `${key}=${value}`);
    const cwdArgs = options.cwd ? ['--chdir', options.cwd] : [];
    return run(['nsenter', '--target', String(this.initPid), '--all', 'env', '-i', ...cwdArgs, ...envArgs, ...argv], {
      env: HOST_ENV,
      input: options.input,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  }

  /** run, but rejects with a CommandError (argv, exit code, stderr) unless it exits 0. */
  async runOk(argv: string[], options: ContainerRunOptions = {}): Promise<RunResult> {
    return expectSuccess(await this.run(argv, options));
  }

  /** Run the twinsync CLI under test inside: twinsync(['snapshot', '--json']). With
   *  bindCheckout: false, the `twinsync` installed on the container's PATH. */
  twinsync(args: string[], options: ContainerRunOptions = {}): Promise<RunResult> {
    if (this.options.bindCheckout === false) return this.run(['twinsync', ...args], options);
    return this.run(['node', TWINSYNC_IN_CONTAINER, ...args], options);
  }

  /** Write a file inside (parent directories are created), through the container's own view so
   *  its symlinks resolve the way they do for programs inside. The file gets its mode and owner
   *  before the content arrives, so a secret is never readable by others, not even briefly. */
  async writeFile(path: string, content: string | Buffer, options: WriteOptions = {}): Promise<void> {
    const mode = (options.mode ?? 0o644).toString(8);
    await this.runOk(['install', '-D', '-m', mode, '-o', options.owner ?? 'root', '-g', options.group ?? 'root', '/dev/null', path]);
    // Not `install /dev/stdin`: node's stdin for a child is a socket, which cannot be opened
    // by path; dd reads the descriptor itself.
    await this.runOk(['dd', `of=${path}`, 'status=none'], { input: content });
  }

  /** Read a file inside, as text. */
  async readFile(path: string): Promise<string> {
    return (await this.runOk(['cat', '--', path])).stdout;
  }

  /** Copy a host file or directory tree to containerPath (a directory's contents go into
   *  containerPath, which is created). Owners become root; modes are kept. */
  async copyIn(hostPath: string, containerPath: string): Promise<void> {
    if (!(await stat(hostPath)).isDirectory()) {
      const mode = (await stat(hostPath)).mode & 0o7777;
      await this.writeFile(containerPath, await readFile(hostPath), { mode });
      return;
    }
    const tarball = await tarBuffer(hostPath);
    await this.runOk(['mkdir', '-p', '--', containerPath]);
    await this.runOk(['tar', '-C', containerPath, '--no-same-owner', '-xf', '-'], { input: tarball });
  }

  /** Power off and boot again on the same upper dir: files, enabled units and crontabs persist;
   *  /run and processes do not (so cron @reboot jobs run again). */
  async reboot(): Promise<void> {
    await this.powerOff();
    await this.start();
  }

  /** Power off (kill if that hangs) and delete the container's files. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.powerOff();
    } finally {
      await removeTree(this.home);
      this.forget();
    }
  }

  /** Console output of the current and earlier boots. */
  async log(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, 'utf8') : '';
  }

  /** @internal Boot (again) on the existing upper dir and wait until systemd is up. */
  async start(): Promise<void> {
    const child = this.spawnNspawn();
    try {
      this.initPid = await this.waitForInit(child);
      await this.waitForSystem();
    } catch (error) {
      await this.kill();
      throw new Error(`${(error as Error).message}\n--- console of ${this.name} ---\n${tail(await this.log(), 40)}`);
    }
  }

  private spawnNspawn(): ChildProcess {
    const { base, upperDir } = this;
    for (const path of [base, upperDir]) {
      // --overlay separates its paths with ':'; our temp paths never contain one.
      if (path.includes(':')) throw new Error(`path ${path} contains ':'`);
    }
    const checkout = this.options.bindCheckout === false ? [] : [
      // The real file: a bind of a symlink (say, an alternatives link) would bind the link.
      { host: realpathSync(process.execPath), container: NODE_IN_CONTAINER, readOnly: true },
      { host: repoRoot, container: REPO_IN_CONTAINER, readOnly: true },
    ];
    const binds = [
      ...checkout,
      ...(this.options.binds ?? []),
    ].map((bind) => `--bind${bind.readOnly === false ? '' : '-ro'}=${bind.host}:${bind.container}`);
    const log = openSync(this.logFile, 'a');
    const child = spawn(
      'setpriv',
      [
        // If the test runner dies without cleaning up, nspawn gets SIGTERM, which it turns into
        // an orderly shutdown of the container.
        '--pdeathsig', 'SIGTERM', '--',
        'systemd-nspawn', '--quiet',
        '--directory', base,
        `--overlay=${base}:${upperDir}:/`,
        '--boot',
        // No system bus on the host, so no machined: do not register, stay in our own cgroup.
        '--register=no', '--keep-unit',
        '--machine', this.name,
        // Do not link the container's journal into the host's /var/log/journal.
        '--link-journal=no',
        '--console=read-only',
        ...((this.options.privateNetwork ?? (this.options.image === 'server' || this.options.image === 'server-node')) ? ['--private-network'] : []),
        ...binds,
      ],
      // Own process group: a Ctrl-C at the terminal reaches the test runner, whose handler
      // stops containers in order, instead of hitting nspawn directly.
      { detached: true, stdio: ['ignore', log, log], env: HOST_ENV },
    );
    closeSync(log);
    this.nspawn = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => {}); // reported by waitForInit as "nspawn exited"
    return child;
  }

  // nspawn forks the container's PID 1 as its direct child; find it by parentage.
  private async waitForInit(child: ChildProcess): Promise<number> {
    const deadline = Date.now() + (this.options.bootTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`systemd-nspawn for ${this.name} exited during boot (code ${child.exitCode})`);
      }
      const init = childrenOf(child.pid).find((pid) => commOf(pid) === 'systemd');
      if (init !== undefined) return init;
      await sleep(50);
    }
    throw new Error(`container ${this.name}: systemd did not start within the boot timeout`);
  }

  private async waitForSystem(): Promise<void> {
    const deadline = Date.now() + (this.options.bootTimeoutMs ?? 60_000);
    let state = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`container ${this.name} stopped during boot`);
      state = (await this.run(['systemctl', 'is-system-running'], { timeoutMs: 10_000 })).stdout.trim();
      if (state === 'running' || state === 'degraded') return;
      if (state === 'maintenance' || state === 'stopping') break;
      await sleep(100);
    }
    throw new Error(`container ${this.name} did not finish booting (systemctl is-system-running: ${state || 'no answer'})`);
  }

  /** Orderly poweroff; SIGKILL by process id if it does not finish in 20 s. */
  private async powerOff(): Promise<void> {
    if (!this.running) return;
    await this.run(['systemctl', 'poweroff'], { timeoutMs: 5_000 }).catch(() => undefined);
    if (await within(this.exited, 20_000)) return;
    process.stderr.write(`test bed: container ${this.name} did not power off in 20 s; killing it\n`);
    await this.kill();
  }

  private async kill(): Promise<void> {
    this.killSync();
    if (!(await within(this.exited, 10_000))) {
      throw new Error(`container ${this.name} (nspawn pid ${this.nspawn?.pid}) survived SIGKILL`);
    }
    await killStragglers(this.name);
    removeNspawnLeftovers(this.name);
  }

  // Killing nspawn alone leaves the container's PID 1 running: kill nspawn's children first
  // (PID 1, or whatever nspawn has forked so far during boot), which ends the whole PID
  // namespace, then nspawn (whose mounts live in its own namespace and go with it). Only ids
  // that are still our nspawn's children are signalled: an old id may be someone else's now.
  private killSync(): void {
    const nspawn = this.nspawn?.pid;
    if (nspawn === undefined || this.nspawn?.exitCode !== null || this.nspawn?.signalCode !== null) return;
    for (const pid of [...childrenOf(nspawn), nspawn]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** @internal Process-exit path: kill, wait briefly, delete files. */
  exitSync(): void {
    this.killSync();
    waitGoneSync(this.nspawn?.pid, 5_000);
    removeNspawnLeftovers(this.name);
    removeTreeSync(this.home);
  }
}

// A cleanly exiting nspawn removes these; a killed one leaves them in the host's /run. Only
// paths named after our own (unique) machine name and base directory are touched.
const NSPAWN_RUN = '/run/systemd/nspawn';

/**
 * nspawn forks its container's outer child without exec, so that child carries nspawn's own
 * command line. Killed in the middle of that fork (a boot that times out at once, under load),
 * the new child is not yet in nspawn's children list and outlives it until its parent-death
 * signal arrives. Kill any such process of this machine, and wait (10 s at most) until none is left.
 */
async function killStragglers(machine: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = nspawnsOf(machine);
    if (left.length === 0 || Date.now() > deadline) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(50);
  }
}

/** Live (not zombie) systemd-nspawn processes whose command line names this machine. */
function nspawnsOf(machine: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || commOf(Number(entry)) !== 'systemd-nspawn') continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && args.some((arg, i) => arg === '--machine' && args[i + 1] === machine)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function removeNspawnLeftovers(machine: string): void {
  try {
    rmdirSync(join(NSPAWN_RUN, 'propagate', machine));
  } catch {
    // not there (clean exit) or not empty (not what we expect: leave it)
  }
}

async function tarBuffer(dir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', '-', '.'], { env: HOST_ENV });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`tar of ${dir} exited ${code}`))));
  });
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

// A killed child stays a zombie until node reaps it, which cannot happen inside a synchronous
// exit handler; a zombie has already released its mounts, so it counts as gone.
function waitGoneSync(pid: number | undefined, timeoutMs: number): void {
  if (!pid) return;
  const deadline = Date.now() + timeoutMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    Atomics.wait(nap, 0, 0, 50);
  }
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
