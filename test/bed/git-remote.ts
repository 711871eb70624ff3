// A GitHub-like Git remote on loopback: smart HTTP through `git http-backend`, behind a token.
//
// Every request must carry Basic auth whose password is the token (any user name, as GitHub
// accepts for tokens); otherwise 401 with WWW-Authenticate, which makes git fail the way it
// does against GitHub with a bad token. stop()/start() take the port down and up again to test
// "remote unreachable" paths; URLs stay valid across that because the port is kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { onExit } from './cleanup.js';
import { runOk } from './exec.js';
import { requireTools } from './require.js';
import { makeTempDir, removeTree, removeTreeSync } from './tmp.js';

export interface GitRemoteOptions {
  /** The token clients must send as the Basic auth password. Default: a random one. */
  token?: string;
}

export interface GitRequest {
  method: string;
  /** Path and query as requested (so tests can check no token ever appears in a URL). */
  url: string;
  status: number;
  /** The Basic auth user name, when the request was authorised. */
  user?: string;
}

/** Start a remote on 127.0.0.1 with an ephemeral port. close() it in an after hook. */
export async function startGitRemote(options: GitRemoteOptions = {}): Promise<GitRemote> {
  requireTools('git');
  const home = await makeTempDir('git');
  const remote = new GitRemote(home, options.token ?? `tok_${randomBytes(12).toString('hex')}`);
  try {
    await mkdir(remote.reposDir);
    await mkdir(remote.clientHome);
    await remote.start();
  } catch (error) {
    await remote.close();
    throw error;
  }
  return remote;
}

// Repository names like "twin" or "alice/twin" (".git" is added); nothing that could escape.
const REPO_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)?$/;

export class GitRemote {
  /** Every request served, in order. */
  readonly requests: GitRequest[] = [];
  private server: Server | undefined;
  private port = 0;
  private readonly backends = new Set<ChildProcess>();
  private readonly forget: () => void;
  private closed = false;

  /** Use startGitRemote(). */
  constructor(
    private readonly home: string,
    readonly token: string,
  ) {
    this.forget = onExit(() => this.exitSync());
  }

  /** Host directory holding the bare repositories (<name>.git). */
  get reposDir(): string {
    return join(this.home, 'repos');
  }

  /** An empty HOME for git clients in tests, so the host user's git config stays out. */
  get clientHome(): string {
    return join(this.home, 'client-home');
  }

  /** http://127.0.0.1:<port> */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** True while the port accepts connections. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Create an empty bare repository that accepts pushes; returns its URL. */
  async createBareRepo(name: string, options: { defaultBranch?: string } = {}): Promise<string> {
    const path = this.repoPath(name);
    await runOk(['git', 'init', '--quiet', '--bare', `--initial-branch=${options.defaultBranch ?? 'main'}`, path], { env: this.gitEnv(null) });
    await runOk(['git', '-C', path, 'config', 'http.receivepack', 'true'], { env: this.gitEnv(null) });
    return this.url(name);
  }

  /** URL of a repository. It never contains the token: clients must send it as a header. */
  url(name: string): string {
    checkName(name);
    return `${this.baseUrl}/${name}.git`;
  }

  /** Host path of a repository's bare directory (to inspect it with `git -C`). */
  repoPath(name: string): string {
    checkName(name);
    return join(this.reposDir, `${name}.git`);
  }

  /** The header value git must send: `Basic base64(user:token)`. */
  authorization(token: string = this.token, user = 'x-access-token'): string {
    return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  }

  /** Environment for a git client on the host: no prompts, no host config, and (unless token
   *  is null) the token as an Authorization header — in neither argv nor URL. */
  gitEnv(token: string | null = this.token): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.clientHome,
      LANG: 'C.UTF-8',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Test Bed',
      GIT_AUTHOR_EMAIL: 'bed@example.invalid',
      GIT_COMMITTER_NAME: 'Test Bed',
      GIT_COMMITTER_EMAIL: 'bed@example.invalid',
      ...this.authEnv(token),
    };
  }

  /** Just the variables that make git send the token and never prompt, to add to any
   *  environment (a container's: `ct.run(['git', 'push', url], { env: remote.authEnv() })`). */
  authEnv(token: string | null = this.token): Record<string, string> {
    if (token === null) return { GIT_TERMINAL_PROMPT: '0' };
    return {
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: ${this.authorization(token)}`,
    };
  }

  /** Listen (again) on 127.0.0.1; after stop() the same port is reused so URLs stay valid. */
  async start(): Promise<void> {
    if (this.closed) throw new Error('git remote is closed');
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Simulate the remote being down: the port refuses connections until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const child of this.backends) child.kill('SIGKILL');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Stop and delete every repository. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    await removeTree(this.home);
    this.forget();
  }

  private exitSync(): void {
    for (const child of this.backends) child.kill('SIGKILL');
    removeTreeSync(this.home);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const user = authorisedUser(req.headers.authorization, this.token);
    const record: GitRequest = { method: req.method ?? '', url: req.url ?? '', status: 0 };
    this.requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    if (user === undefined) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="twinsync-test"', 'Content-Type': 'text/plain' });
      res.end('Authentication required\n');
      return;
    }
    record.user = user;
    this.serveWithBackend(req, res, user);
  }

  // CGI: request meta-data in the environment, body on stdin, headers then body on stdout.
  private serveWithBackend(req: IncomingMessage, res: ServerResponse, user: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: this.reposDir,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      REMOTE_USER: user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    };
    // Only what the request really has: an empty CONTENT_LENGTH makes http-backend read nothing.
    const optional: Array<[string, string | undefined]> = [
      ['CONTENT_TYPE', req.headers['content-type']],
      ['CONTENT_LENGTH', req.headers['content-length']],
      ['HTTP_CONTENT_ENCODING', req.headers['content-encoding']],
      ['GIT_PROTOCOL', header(req.headers['git-protocol'])],
    ];
    for (const [key, value] of optional) if (value !== undefined) env[key] = value;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.backends.add(child);
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {}); // backend may answer before reading the whole body
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const split = findHeaderEnd(head);
      if (split === undefined) return;
      headersDone = true;
      writeCgiHead(res, head.subarray(0, split.start).toString('latin1'));
      res.write(head.subarray(split.end));
    });
    child.on('error', () => {});
    child.on('close', (code) => {
      this.backends.delete(child);
      if (!headersDone && !res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited ${code}: ${Buffer.concat(stderr).toString()}`);
        return;
      }
      res.end();
    });
  }
}

function authorisedUser(authorization: string | undefined, token: string): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(colon + 1) !== token) return undefined;
  return decoded.slice(0, colon) || 'token';
}

function writeCgiHead(res: ServerResponse, head: string): void {
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
    else res.setHeader(name, value);
  }
  res.writeHead(status);
}

function findHeaderEnd(buffer: Buffer): { start: number; end: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return undefined;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function checkName(name: string): void {
  if (!REPO_NAME.test(name) || name.includes('..')) throw new Error(`bad repository name: ${name}`);
}
