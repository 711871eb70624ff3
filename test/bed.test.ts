// Tests of the test bed itself: if these fail, every integration and e2e test is suspect.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { link, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  bootContainer,
  chroot,
  chrootOk,
  freshRootfs,
  makeTempDir,
  NODE_IN_CONTAINER,
  REPO_IN_CONTAINER,
  removeTree,
  repoRoot,
  requireTools,
  ROOTFS_BUILD_TIMEOUT_MS,
  run,
  runOk,
  sharedRootfs,
  startGitRemote,
  startTmux,
  type Container,
  type GitRemote,
  type TmuxSession,
} from './bed/index.js';
import { mountsBelow } from './bed/tmp.js';

const SLOW = ROOTFS_BUILD_TIMEOUT_MS; // the first rootfs/container may have to build the cache

describe('test bed', function () {
  describe('capability checks', function () {
    it('name the missing tool and how to install it, by throwing', function () {
      assert.throws(
        () => requireTools('git', 'no-such-tool-twinsync', 'systemd-nspawn-not-here'),
        (error: Error) =>
          /no-such-tool-twinsync/.test(error.message) &&
          /systemd-nspawn-not-here/.test(error.message) &&
          !/\bgit\b,/.test(error.message) &&
          /apt-get install -y/.test(error.message),
      );
    });

    it('pass when everything is there', function () {
      requireTools('debootstrap', 'systemd-nspawn', 'tmux', 'git', 'zstd', 'nsenter', 'setpriv', 'unshare');
    });
  });

  describe('fresh root file system', function () {
    this.timeout(SLOW);

    it('is a Debian tree with a dpkg status, independent per call, removed by cleanup', async function () {
      const a = await freshRootfs();
      const b = await freshRootfs();
      try {
        assert.notEqual(a.dir, b.dir);
        assert.ok(!a.dir.startsWith(dirname(dirname(new URL(import.meta.url).pathname))), 'outside the repository');
        const status = readFileSync(join(a.dir, 'var/lib/dpkg/status'), 'utf8');
        for (const pkg of ['systemd', 'cron', 'dbus', 'git']) assert.match(status, new RegExp(`^Package: ${pkg}$`, 'm'));
        assert.ok(!existsSync(join(a.dir, 'usr/sbin/policy-rc.d')), 'the cached tree has no policy-rc.d');

        await writeFile(join(a.dir, 'etc/only-in-a'), 'a\n');
        assert.ok(!existsSync(join(b.dir, 'etc/only-in-a')), 'copies are independent');
        // Each is an overlay over one shared extracted base, which no write reaches: a file
        // changed, a file removed, a directory renamed and a hard link made in a.
        const base = await sharedRootfs();
        await writeFile(join(a.dir, 'etc/debian_version'), 'changed\n');
        await rm(join(a.dir, 'etc/os-release'));
        await rename(join(a.dir, 'etc/cron.d'), join(a.dir, 'etc/cron.moved'));
        assert.deepEqual(readdirSync(join(a.dir, 'etc/cron.moved')), readdirSync(join(base, 'etc/cron.d')), 'a renamed directory keeps its content');
        assert.ok(!existsSync(join(a.dir, 'etc/cron.d')));
        await link(join(a.dir, 'etc/passwd'), join(a.dir, 'etc/passwd.link'));
        await writeFile(join(a.dir, 'etc/passwd.link'), 'through the link\n', { flag: 'a' });
        assert.match(readFileSync(join(a.dir, 'etc/passwd'), 'utf8'), /through the link\n$/, 'a hard link made in the copy is one file');
        assert.equal(readFileSync(join(a.dir, 'etc/debian_version'), 'utf8'), 'changed\n');
        assert.notEqual(readFileSync(join(base, 'etc/debian_version'), 'utf8'), 'changed\n');
        assert.equal(readFileSync(join(b.dir, 'etc/debian_version'), 'utf8'), readFileSync(join(base, 'etc/debian_version'), 'utf8'));
        assert.ok(existsSync(join(base, 'etc/os-release')) && existsSync(join(base, 'etc/cron.d')) && !existsSync(join(base, 'etc/cron.moved')), 'the shared base is unchanged');
        assert.doesNotMatch(readFileSync(join(base, 'etc/passwd'), 'utf8'), /through the link/);
      } finally {
        await a.cleanup();
        await b.cleanup();
      }
      assert.ok(!existsSync(a.dir) && !existsSync(dirname(a.dir)), 'cleanup removed the copy');
      await a.cleanup(); // idempotent
    });

    it('runs commands chrooted, with service starts denied only during the call', async function () {
      const root = await freshRootfs();
      try {
        const query = await chrootOk(root.dir, 'dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', 'cron']);
        assert.equal(query.stdout.trim(), 'cron ii');
        const policy = await chroot(root.dir, 'sh', ['-c', '/usr/sbin/policy-rc.d; echo $?']);
        assert.equal(policy.stdout.trim(), '101');
        assert.ok(!existsSync(join(root.dir, 'usr/sbin/policy-rc.d')), 'policy-rc.d removed after the call');

        const failing = await chroot(root.dir, 'sh', ['-c', 'echo to-err >&2; exit 7']);
        assert.equal(failing.code, 7);
        assert.equal(failing.stderr.trim(), 'to-err');

        // /dev and /proc are mounted in a private namespace only: nothing is left on the host.
        assert.deepEqual(mountsBelow(readFileSync('/proc/self/mountinfo', 'utf8'), root.dir).filter((m) => m !== root.dir), [], 'no mount below the tree');
      } finally {
        await root.cleanup();
      }
    });
  });

  describe('root file system cache locks', function () {
    // build-rootfs.sh against a private cache and two local "mirrors": one that never answers
    // (a build that stays in progress, holding its lock) and one that refuses connections (a
    // build that fails at once). No root is built; what is tested is who waits for whom.
    this.timeout(60_000);
    const script = join(dirname(new URL(import.meta.url).pathname), 'bed/build-rootfs.sh');
    const refusedUrl = 'http://127.0.0.1:9/debian'; // the discard port: nothing listens there
    let cache: string;
    let silentUrl: string;
    let silenceEnds: () => void; // the silent mirror goes away: a build waiting on it fails
    let inProgress: () => boolean; // the silent mirror holds a connection: a build is in progress
    let children: ChildProcess[];

    beforeEach(async function () {
      cache = await makeTempDir('cache');
      children = [];
      const held = new Set<Socket>();
      const server = createServer((socket) => {
        held.add(socket);
        socket.on('close', () => held.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      silentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
      inProgress = () => held.size > 0;
      silenceEnds = () => {
        server.close();
        for (const socket of held) socket.destroy();
      };
    });
    afterEach(async function () {
      silenceEnds();
      // Each builder is the leader of its own process group (flock and debootstrap included).
      for (const child of children) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
      await waitUntil(async () => children.every((child) => child.exitCode !== null || child.signalCode !== null), 20_000);
      await removeTree(cache);
    });

    const build = (flavour: string, mirror: string): { child: ChildProcess; ended: Promise<{ code: number | null; stderr: string }> } => {
      const child = spawn('bash', [script, flavour], {
        env: { ...process.env, TWINSYNC_TEST_CACHE: cache, TWINSYNC_TEST_MIRROR: mirror },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      children.push(child);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return { child, ended: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))) };
    };
    const buildDirs = () => readdirSync(cache).filter((name) => name.startsWith('.build'));
    const within = <T>(ms: number, promise: Promise<T>): Promise<T | 'still running'> =>
      Promise.race([promise, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms))]);

    it('builds different roots at the same time: one in progress does not hold up another', async function () {
      const base = build('base', silentUrl);
      await waitUntil(async () => inProgress(), 20_000); // base's debootstrap is asking the mirror
      const server = await within(15_000, build('server', refusedUrl).ended);
      if (server === 'still running') assert.fail('the server build waited for the base build');
      assert.notEqual(server.code, 0);
      assert.match(server.stderr, /debootstrap failed/, server.stderr);
      assert.equal(base.child.exitCode, null, 'the base build is still in progress');
      silenceEnds();
      assert.notEqual((await base.ended).code, 0);
      await waitUntil(async () => buildDirs().length === 0, 10_000); // failed builds leave no build dir
    });

    it('never builds one root twice at once: the second builder waits, then takes over', async function () {
      const first = build('server', silentUrl);
      await waitUntil(async () => inProgress(), 20_000);
      const second = build('server', refusedUrl);
      assert.equal(await within(3_000, second.ended), 'still running', 'the second builder waits while the first one builds');
      assert.equal(buildDirs().length, 1, `one build dir: ${buildDirs().join(', ')}`);
      // The first build fails (its mirror goes away); the second then builds, and fails on its own mirror.
      silenceEnds();
      const [a, b] = await Promise.all([first.ended, second.ended]);
      assert.notEqual(a.code, 0);
      assert.notEqual(b.code, 0);
      assert.match(b.stderr, /from http:\/\/127\.0\.0\.1:9\/debian/, 'the second builder ran its own build after the first');
      await waitUntil(async () => buildDirs().length === 0, 10_000);
    });

    it('prebuild-roots.sh (what CI starts in the background) fails loudly, naming every root that failed', async function () {
      const logs = join(cache, 'logs');
      const result = await run(['bash', join(dirname(script), 'prebuild-roots.sh'), logs], {
        env: { ...process.env, TWINSYNC_TEST_CACHE: cache, TWINSYNC_TEST_MIRROR: refusedUrl },
        timeoutMs: 45_000,
      });
      assert.equal(result.code, 1, result.stderr);
      for (const flavour of ['server', 'base', 'server-node', 'checkers']) {
        assert.match(result.stderr, new RegExp(`building the ${flavour} root FAILED; the end of ${logs}/${flavour}\\.log`));
      }
      assert.match(result.stderr, /error: debootstrap failed/, 'the end of the log is shown');
      assert.match(result.stderr, /error: the server root \(the parent of checkers\) failed to build/);
      assert.equal(result.stdout, '', 'nothing reported ready');
      await waitUntil(async () => buildDirs().length === 0, 10_000);
    });
  });

  describe('booted container', function () {
    this.timeout(SLOW);
    let ct: Container;

    before(async function () {
      ct = await bootContainer();
    });
    after(async function () {
      await ct?.close();
    });

    it('runs systemd', async function () {
      const state = await ct.run(['systemctl', 'is-system-running']);
      assert.match(state.stdout.trim(), /^(running|degraded)$/);
      assert.equal((await ct.runOk(['hostname'])).stdout.trim(), ct.name);
      assert.equal((await ct.runOk(['cat', '/proc/1/comm'])).stdout.trim(), 'systemd');
    });

    it('returns exit code, stdout and stderr, with arguments passed verbatim', async function () {
      const result = await ct.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual([result.code, result.stdout, result.stderr], [3, 'out\n', 'err\n']);
      const verbatim = await ct.runOk(['printf', '%s|', 'a b', "it's", '$HOME', '; rm -rf /']);
      assert.equal(verbatim.stdout, "a b|it's|$HOME|; rm -rf /|");
      const env = await ct.runOk(['env'], { env: { EXTRA: '1' }, cwd: '/tmp' });
      assert.doesNotMatch(env.stdout, /^(CI|npm_\w+|MOCHA\w*)=/m, 'no host environment leaks in');
      assert.match(env.stdout, /^EXTRA=1$/m);
      assert.equal((await ct.runOk(['pwd'], { cwd: '/tmp' })).stdout.trim(), '/tmp');
      assert.equal((await ct.run(['sh', '-c', 'read line; echo "[$line]"'], { input: 'piped\n' })).stdout, '[piped]\n');
    });

    it('runs the host node and sees the repository read-only', async function () {
      assert.equal((await ct.runOk(['node', '--version'])).stdout.trim(), process.version);
      assert.equal((await ct.runOk(['sh', '-c', 'command -v node'])).stdout.trim(), NODE_IN_CONTAINER);
      const pkg = JSON.parse(await ct.readFile(`${REPO_IN_CONTAINER}/package.json`)) as { name: string };
      assert.equal(pkg.name, 'twinsync');
      const write = await ct.run(['touch', `${REPO_IN_CONTAINER}/should-not-exist`]);
      assert.notEqual(write.code, 0);
      assert.match(write.stderr, /Read-only file system/);
    });

    it('copies files in', async function () {
      await ct.writeFile('/etc/twinsync-bed/one.conf', 'one\n', { mode: 0o600 });
      assert.equal(await ct.readFile('/etc/twinsync-bed/one.conf'), 'one\n');
      assert.equal((await ct.runOk(['stat', '-c', '%a %U', '/etc/twinsync-bed/one.conf'])).stdout.trim(), '600 root');

      const dir = await makeTempDir('copy');
      try {
        await writeFile(join(dir, 'a.txt'), 'A\n');
        await ct.copyIn(dir, '/srv/copied');
        assert.equal(await ct.readFile('/srv/copied/a.txt'), 'A\n');
      } finally {
        await removeTree(dir);
      }
    });

    it('reaches a loopback git remote with the git inside', async function () {
      const remote = await startGitRemote();
      try {
        const url = await remote.createBareRepo('from-container');
        const env = { ...remote.authEnv(), GIT_AUTHOR_NAME: 'ct', GIT_AUTHOR_EMAIL: 'ct@example.invalid', GIT_COMMITTER_NAME: 'ct', GIT_COMMITTER_EMAIL: 'ct@example.invalid' };
        await ct.runOk(['git', 'init', '--quiet', '--initial-branch=main', '/root/twin'], { env });
        await ct.runOk(['git', 'commit', '--quiet', '--allow-empty', '-m', 'from inside'], { env, cwd: '/root/twin' });
        await ct.runOk(['git', 'push', '--quiet', url, 'main'], { env, cwd: '/root/twin' });
        const log = await runOk(['git', '-C', remote.repoPath('from-container'), 'log', '--format=%s'], { env: remote.gitEnv() });
        assert.equal(log.stdout.trim(), 'from inside');
      } finally {
        await remote.close();
      }
    });

    it('keeps its files across a reboot, and cron @reboot jobs run', async function () {
      await ct.writeFile('/root/persisted.txt', 'still here\n');
      await ct.runOk(['crontab', '-u', 'root', '-'], { input: '@reboot date +\\%s > /var/tmp/booted-by-cron\n' });
      assert.equal((await ct.run(['test', '-e', '/var/tmp/booted-by-cron'])).code, 1, 'not before the reboot');
      const before = ct.pid;

      await ct.reboot();

      assert.notEqual(ct.pid, before, 'a new systemd');
      assert.equal(await ct.readFile('/root/persisted.txt'), 'still here\n');
      await waitUntil(async () => (await ct.run(['test', '-s', '/var/tmp/booted-by-cron'])).code === 0, 30_000);
    });
  });

  describe('container cleanup', function () {
    this.timeout(SLOW);

    it('runs two containers at once, each with its own files', async function () {
      const [one, two] = await Promise.all([bootContainer(), bootContainer()]);
      try {
        await one.writeFile('/etc/whoami', 'one\n');
        assert.equal((await two.run(['test', '-e', '/etc/whoami'])).code, 1);
        assert.notEqual(one.name, two.name);
        assert.equal((await two.runOk(['hostname'])).stdout.trim(), two.name);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });

    it('leaves no process, mount or file behind after close', async function () {
      const ct = await bootContainer();
      const nspawn = ct.nspawnPid;
      const init = ct.pid;
      const home = dirname(ct.upperDir);
      assert.ok(nspawn && isAlive(nspawn) && isAlive(init));

      await ct.close();

      assert.ok(!isAlive(nspawn) && !isAlive(init), 'nspawn and the container init are gone');
      const nspawns = await run(['pgrep', '-a', 'systemd-nspawn']);
      assert.doesNotMatch(nspawns.stdout, new RegExp(`--machine ${ct.name}\\b`));
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(home), 'no mount below the container dir');
      assert.ok(!existsSync(home), 'container dir removed');
      await ct.close(); // idempotent
      await assert.rejects(ct.run(['true']), /not running/);
    });

    it('cleans up after a boot that times out, and says why', async function () {
      const name = `tsbed-timeout-${process.pid}`;
      await assert.rejects(bootContainer({ name, bootTimeoutMs: 1 }), /did not (start|finish booting)[\s\S]*--- console of/);
      const nspawns = await run(['pgrep', '-a', 'systemd-nspawn']);
      assert.doesNotMatch(nspawns.stdout, new RegExp(`--machine ${name}\\b`));
      const leftovers = await run(['find', tmpdir(), '-maxdepth', '1', '-name', `twinsync-bed-${process.pid}-ct-*`]);
      assert.equal(leftovers.stdout, '', 'no container dir left');
    });
  });

  describe('git remote', function () {
    this.timeout(60_000);
    let remote: GitRemote;
    let work: string;

    before(async function () {
      remote = await startGitRemote();
      work = await makeTempDir('git-client');
    });
    after(async function () {
      await remote?.close();
      if (work) await removeTree(work);
    });

    const git = (args: string[], token?: string | null) =>
      run(['git', ...args], { env: remote.gitEnv(token), timeoutMs: 30_000 });

    it('accepts push and clone with the right token', async function () {
      const url = await remote.createBareRepo('alice/twin');
      assert.ok(!url.includes(remote.token), 'the URL carries no token');
      const src = join(work, 'src');
      await runOk(['git', 'init', '--quiet', '--initial-branch=main', src], { env: remote.gitEnv() });
      await writeFile(join(src, 'README'), 'twin\n');
      await runOk(['git', '-C', src, 'add', 'README'], { env: remote.gitEnv() });
      await runOk(['git', '-C', src, 'commit', '--quiet', '-m', 'first'], { env: remote.gitEnv() });

      const push = await git(['-C', src, 'push', url, 'main']);
      assert.equal(push.code, 0, push.stderr);
      const clone = await git(['clone', '--quiet', url, join(work, 'clone')]);
      assert.equal(clone.code, 0, clone.stderr);
      assert.equal(readFileSync(join(work, 'clone/README'), 'utf8'), 'twin\n');
      const log = await runOk(['git', '-C', remote.repoPath('alice/twin'), 'log', '--format=%s', 'main'], { env: remote.gitEnv() });
      assert.equal(log.stdout.trim(), 'first');
      assert.ok(remote.requests.every((request) => !request.url.includes(remote.token)));
    });

    it('answers 401 to a wrong or missing token, and git fails', async function () {
      const url = await remote.createBareRepo('locked');
      const raw = await fetch(`${url}/info/refs?service=git-upload-pack`);
      assert.equal(raw.status, 401);
      assert.match(raw.headers.get('www-authenticate') ?? '', /^Basic /);

      for (const token of ['wrong-token', null]) {
        const result = await git(['ls-remote', url], token);
        assert.equal(result.code, 128, `token ${token}: ${result.stderr}`);
      }
      assert.equal(remote.requests.at(-1)?.status, 401);
      assert.equal((await git(['ls-remote', url])).code, 0);
    });

    it('refuses connections while stopped and works again after start', async function () {
      const url = await remote.createBareRepo('flaky');
      await remote.stop();
      assert.equal(remote.listening, false);
      const down = await git(['ls-remote', url]);
      assert.equal(down.code, 128);
      assert.match(down.stderr, /Connection refused|Failed to connect|Could not connect/i);
      await assert.rejects(fetch(url), (error: Error & { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED');

      await remote.start();
      assert.equal(remote.url('flaky'), url, 'same URL after restart');
      const up = await git(['ls-remote', url]);
      assert.equal(up.code, 0, up.stderr);
    });
  });

  describe('tmux driver', function () {
    this.timeout(30_000);
    let tui: TmuxSession | undefined;

    afterEach(async function () {
      await tui?.close();
      tui = undefined;
    });

    it('types keys into a program and reads its screen', async function () {
      tui = await startTmux(['bash', '-c', 'echo ready; read x; echo got:$x; read -n1 k; echo key:$k']);
      await tui.waitFor('ready');
      await tui.type('hello');
      await tui.send('Enter');
      await tui.waitFor('got:hello');
      await tui.send('q');
      await tui.waitFor(/key:q/);
      assert.equal(await tui.waitForExit(), 0);
      assert.match(await tui.screen(), /^got:hello$/m, 'the last screen stays readable after exit');
    });

    it('passes Ctrl-C to the program and reports its exit status', async function () {
      tui = await startTmux(['bash', '-c', 'trap "echo caught; exit 3" INT; echo waiting; while :; do sleep 0.1; done']);
      await tui.waitFor('waiting');
      assert.equal(await tui.exitStatus(), null, 'still running');
      await tui.send('C-c');
      await tui.waitFor('caught');
      assert.equal(await tui.waitForExit(), 3);
    });

    it('has a fixed size, LANG=C.UTF-8 and no CI variables', async function () {
      const saved = { CI: process.env.CI, CI_JOB: process.env.CI_JOB };
      process.env.CI = 'true';
      process.env.CI_JOB = '7';
      try {
        // The short pause: a program that exits at once can lose its output to the pane (seen once in
        // a full run: an empty screen for 10 s); this test is about the size and the environment.
        tui = await startTmux(['sh', '-c', 'stty size; echo "CI=${CI-unset} CI_JOB=${CI_JOB-unset} LANG=$LANG"; sleep 0.3'], { cols: 100, rows: 30 });
      } finally {
        restoreEnv(saved);
      }
      const screen = await tui.waitFor('LANG=');
      assert.match(screen, /^30 100$/m);
      assert.match(screen, /CI=unset CI_JOB=unset LANG=C\.UTF-8/);
      assert.equal(await tui.waitForExit(), 0);
      assert.equal((await tui.screen()).split('\n').length, 30 + 1, 'one line per row');
    });

    it('kills its private server on close', async function () {
      const session = await startTmux(['sleep', '987.654']);
      tui = session;
      assert.equal((await run(['tmux', '-L', session.socketName, 'has-session'])).code, 0);
      await session.close();
      assert.notEqual((await run(['tmux', '-L', session.socketName, 'has-session'])).code, 0);
      assert.ok(session.socketPath && !existsSync(session.socketPath), 'socket file removed');
      const sleeps = await run(['pgrep', '-f', '-x', 'sleep 987.654']);
      assert.equal(sleeps.stdout.trim(), '', 'the program died with the server');
    });
  });
});

describe('.ci/run (with stand-ins for apt-get, npm and the root builds)', function () {
  this.timeout(60_000);
  let dir: string;
  const made: string[] = [];
  // A copy of .ci/run in a tree of its own: apt-get, npm and npx on PATH, and
  // test/bed/prebuild-roots.sh, are stand-ins that record how they were called and exit as told.
  before(async () => {
    dir = await makeTempDir('ci-run');
    for (const sub of ['.ci', 'test/bed', 'bin']) await runOk(['mkdir', '-p', join(dir, sub)]);
    await runOk(['cp', join(repoRoot, '.ci/run'), join(dir, '.ci/run')]);
    const stub = (body: string) => `#!/bin/bash\necho "$(basename "$0") $* TIMINGS=\${TWINSYNC_TEST_TIMINGS-}" >> "$STUB_CALLS"\n${body}\n`;
    await writeFile(join(dir, 'bin/apt-get'), stub('exit 0'), { mode: 0o755 });
    await writeFile(join(dir, 'bin/npx'), stub('exit 0'), { mode: 0o755 });
    await writeFile(
      join(dir, 'bin/npm'),
      stub('case "$1 $2" in\n  "run test:all") [ -z "$TWINSYNC_TEST_TIMINGS" ] || echo \'{"files":[]}\' > "$TWINSYNC_TEST_TIMINGS"; exit "${STUB_TESTS_EXIT:-0}";;\n  "run typecheck") exit "${STUB_TYPES_EXIT:-0}";;\nesac\nexit 0'),
      { mode: 0o755 },
    );
    await writeFile(join(dir, 'test/bed/prebuild-roots.sh'), 'echo "prebuild-roots $1" >> "$STUB_CALLS"; sleep 0.5; exit "${STUB_ROOTS_EXIT:-0}"\n');
  });
  after(async () => {
    for (const logs of made) await run(['rm', '-rf', '--', logs]);
    if (dir) await removeTree(dir);
  });

  async function ciRun(env: Record<string, string>): Promise<{ code: number | null; out: string; calls: string[] }> {
    const calls = join(dir, `calls-${made.length}-${Date.now()}`);
    const result = await run(['bash', join(dir, '.ci/run')], {
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, STUB_CALLS: calls, ...env },
      timeoutMs: 50_000,
    });
    const out = result.stdout + result.stderr;
    const logs = /(\/tmp\/twinsync-ci\.[A-Za-z0-9]+)\/timings\.json/.exec(out)?.[1];
    if (logs) made.push(logs);
    return { code: result.code, out, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [] };
  }

  it('runs the whole suite as npm run test:all does, with the timing reporter, its logs and the timings file under the run\'s folder', async () => {
    const r = await ciRun({});
    assert.equal(r.code, 0, r.out);
    const tests = r.calls.find((c) => c.startsWith('npm run test:all'));
    assert.match(tests ?? '', /^npm run test:all -- --reporter test\/support\/timing-reporter\.cjs --logs (\/tmp\/twinsync-ci\.\w+)\/suite TIMINGS=\1\/timings\.json$/, r.calls.join('\n'));
    const order = ['npm ci', 'apt-get install', 'prebuild-roots', 'npm run build', 'npm run test:all'].map((p) => r.calls.findIndex((c) => c.startsWith(p)));
    assert.ok(order.every((i) => i >= 0) && order[3]! < order[4]!, r.calls.join('\n'));
    assert.ok(r.calls.some((c) => c.startsWith('npm run typecheck')) && r.calls.some((c) => c.startsWith('npx tsc -p test/bed/tsconfig.json')), 'both type checks ran');
    assert.match(r.out, /every file's and describe's time: \/tmp\/twinsync-ci\.\w+\/timings\.json/);
  });

  it("exits with the test run's code when tests fail", async () => {
    const r = await ciRun({ STUB_TESTS_EXIT: '3' });
    assert.equal(r.code, 3, r.out);
  });

  it('fails the run, loudly, when the background root builds failed even though every test passed', async () => {
    const r = await ciRun({ STUB_ROOTS_EXIT: '1' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /\.ci\/run: building the test roots in the background failed/);
  });

  it('fails the run when a type check failed even though every test passed', async () => {
    const r = await ciRun({ STUB_TYPES_EXIT: '2' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /\.ci\/run: the type check failed/);
  });

  it('npm test runs what .ci/run runs: the build, the type check and npm run test:all', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts.test, 'npm run build && npm run typecheck && npm run test:all');
    assert.match(scripts['test:all'] ?? '', /^node --import tsx test\/support\/split-suite\.ts /);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function restoreEnv(saved: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
