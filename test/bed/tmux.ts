// Drive a terminal UI under a private tmux server, the way a person at a terminal would.
//
// Each session gets its own server (`tmux -L <unique> -f /dev/null`), so the user's tmux and
// config never interfere and kill-server cannot touch anyone else's. ink (the TUI library)
// draws only the final frame when CI or any CI_* variable is set, and reads one key per input
// chunk, hence the scrubbed environment and one key per send() with a pause in between.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { runOk } from './exec.js';
import { requireTools } from './require.js';
import { isStale, makeTempDir, removeTree, removeTreeSync } from './tmp.js';

export interface TmuxOptions {
  /** Terminal size. Default 80x24. */
  cols?: number;
  rows?: number;
  /** Added to the program's environment (after CI, CI_*, TMUX* and LC_ALL were removed). */
  env?: Record<string, string>;
  /** Working directory of the program. */
  cwd?: string;
}

/** Minimum pause between two keys, so a TUI sees each key as its own input chunk. */
export const KEY_SPACING_MS = 120;

const SESSION = 'bed';

// Runs the program and records its exit status in a file. tmux's own #{pane_dead_status} is
// not reliable here: tmux 3.3a sometimes never reaps the pane's process. The trap keeps this
// shell alive through a Ctrl-C meant for the program (a trap, unlike an ignored signal, is not
// inherited by the program). Constant script; the file and argv are positional parameters.
const RECORD_STATUS = 'file=$1; shift; trap : INT QUIT; "$@"; echo $? > "$file.new" && mv "$file.new" "$file"';

/** Start argv (an argument array, no shell string) in a fresh tmux server. close() it in a hook. */
export async function startTmux(argv: string[], options: TmuxOptions = {}): Promise<TmuxSession> {
  requireTools('tmux');
  if (argv.length === 0) throw new Error('startTmux: empty argv');
  sweepStaleServersOnce();
  const home = await makeTempDir('tmux');
  const session = new TmuxSession(`twinsync-bed-${process.pid}-${randomBytes(4).toString('hex')}`, home, scrubbedEnv(options.env));
  const size = ['-x', String(options.cols ?? 80), '-y', String(options.rows ?? 24)];
  const cwd = options.cwd ? ['-c', options.cwd] : [];
  const command = ['sh', '-c', RECORD_STATUS, 'sh', session.statusFile, ...argv];
  try {
    // One tmux invocation, so the options are set before the program can possibly exit: keep
    // the pane when the program exits (to read its last screen), and print no "Pane is dead"
    // line, whose line feed would scroll the last screen up by one row. A command of more than
    // one argument is run with execvp, not through `sh -c` of a joined string.
    await session.tmux([
      'start-server', ';',
      'set-option', '-g', 'remain-on-exit', 'on', ';',
      'set-option', '-g', 'remain-on-exit-format', '', ';',
      'new-session', '-d', '-s', SESSION, ...size, ...cwd, ...command.map(escapeSemicolon),
    ]);
    const [socketPath, panePid] = (await session.tmux(['display-message', '-p', '#{socket_path}\n#{pane_pid}'])).stdout.trim().split('\n');
    session.socketPath = socketPath ?? '';
    session.panePid = Number(panePid);
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}

export class TmuxSession {
  /** @internal The server's socket file; kill-server leaves it behind, close() removes it. */
  socketPath = '';
  /** @internal The pane's first process: leader of the session and process group the program
   *  runs in, which close() waits to be empty. */
  panePid = 0;
  private lastKeyAt = 0;
  private closed = false;
  private readonly forget: () => void;

  /** Use startTmux(). */
  constructor(
    /** The -L socket name, for `tmux -L <socketName> attach` by hand while debugging. */
    readonly socketName: string,
    private readonly home: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.forget = onExit(() => {
      this.killServerSync();
      this.killGroupSync();
      removeTreeSync(home);
    });
  }

  /** @internal Where the wrapper writes the program's exit status. */
  get statusFile(): string {
    return join(this.home, 'status');
  }

  /** The visible screen as text: one line per row, each ending in a newline. */
  async screen(): Promise<string> {
    return (await this.tmux(['capture-pane', '-p', '-t', SESSION])).stdout;
  }

  /** Poll the screen until it contains text (or matches a RegExp); resolves with that screen.
   *  Rejects after timeoutMs with the last screen in the message. */
  async waitFor(pattern: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.screen();
      if (typeof pattern === 'string' ? screen.includes(pattern) : pattern.test(screen)) return screen;
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    throw new Error(`tmux: ${String(pattern)} did not appear within ${timeoutMs} ms. Screen:\n${screen}`);
  }

  /** Send ONE key, by tmux name (Enter, Escape, Up, Down, Tab, BSpace, C-c, Space, q, ...). */
  async send(key: string): Promise<void> {
    await this.spaceKeys();
    await this.tmux(['send-keys', '-t', SESSION, escapeSemicolon(key)]);
  }

  /** Type text literally, one character per key press (spaced like send()). */
  async type(text: string): Promise<void> {
    for (const char of text) {
      await this.spaceKeys();
      await this.tmux(['send-keys', '-t', SESSION, '-l', escapeSemicolon(char)]);
    }
  }

  /** The program's exit status once it has exited (128 + signal number if a signal killed it,
   *  as shells report it), or null while it runs. */
  async exitStatus(): Promise<number | null> {
    try {
      return Number((await readFile(this.statusFile, 'utf8')).trim());
    } catch {
      return null;
    }
  }

  /**
   * Poll until the program has exited; resolves with its exit status. 60 s: the panel stops and
   * waits for its background checks before it exits (core/src/tui/busy.ts, session 44), and a drift
   * check an apply's refresh started collects a booted machine first.
   */
  async waitForExit(timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.exitStatus();
      if (status !== null) return status;
      if (Date.now() >= deadline) throw new Error(`tmux: the program did not exit within ${timeoutMs} ms. Screen:\n${await this.screen()}`);
      await sleep(50);
    }
  }

  /** Kill the tmux server and the program, wait until they are gone, delete the session's
   *  files. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.killServerSync();
    // The server hangs up the terminal; the program dies of that a moment later (or not at all
    // if it ignores SIGHUP, hence the SIGKILL after a grace period).
    const deadline = Date.now() + 2_000;
    while (this.panePid > 0 && livingInGroup(this.panePid) && Date.now() < deadline) await sleep(20);
    this.killGroupSync();
    await removeTree(this.home);
    this.forget();
  }

  /** @internal Run a tmux command against this session's server. */
  async tmux(args: string[]): Promise<{ stdout: string }> {
    return runOk(['tmux', '-L', this.socketName, '-f', '/dev/null', ...args], { env: this.env });
  }

  private killServerSync(): void {
    spawnSync('tmux', ['-L', this.socketName, 'kill-server'], { stdio: 'ignore', env: this.env });
    if (this.socketPath.endsWith(`/${this.socketName}`)) rmSync(this.socketPath, { force: true });
  }

  private killGroupSync(): void {
    if (this.panePid > 0 && livingInGroup(this.panePid)) {
      try {
        process.kill(-this.panePid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  private async spaceKeys(): Promise<void> {
    const wait = this.lastKeyAt + KEY_SPACING_MS - Date.now();
    if (wait > 0) await sleep(wait);
    this.lastKeyAt = Date.now();
  }
}

// Zombies do not count: a dead program's zombie waits for init, which may take a while.
function livingInGroup(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // After the ") " that ends the command name: state, ppid, pgrp, ...
      const [state, , pgrp] = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // exited while we looked
    }
  }
  return false;
}

let swept = false;

// Servers of an earlier run that was killed outright (SIGKILL) are still running: stop them.
function sweepStaleServersOnce(): void {
  if (swept) return;
  swept = true;
  const dir = join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names.filter(isStale)) {
    spawnSync('tmux', ['-L', name, 'kill-server'], { stdio: 'ignore' });
    rmSync(join(dir, name), { force: true });
  }
}

// The tmux server is forked from the first client, so its environment (and the program's) is
// exactly this one.
function scrubbedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // LC_ALL would override the LANG below.
    if (key === 'CI' || key.startsWith('CI_') || key.startsWith('TMUX') || key === 'LC_ALL') continue;
    env[key] = value;
  }
  return { ...env, LANG: 'C.UTF-8', ...extra };
}

// tmux splits commands at an argument that ends in ';'; a backslash before it keeps it literal.
function escapeSemicolon(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
