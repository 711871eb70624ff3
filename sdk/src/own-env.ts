/**
 * Where the programs TwinSync and its providers run are looked for (in the target too): the
 * distribution's folders first, /usr/local after them. /usr/local/bin is in the files provider's
 * default scope, so a twin can have a program made there; first on the path, a
 * /usr/local/bin/dpkg-query would have stood in for dpkg's own on every later snapshot, run as
 * root (session 16). After them, it is found only for a program the distribution does not have.
 * The services' checkers take the distribution's folders alone (config-check.ts, CHECKER_PATH).
 */
export const SAFE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin'

/**
 * The environment of TwinSync's own programs on the host: git (the twin's, and the mirror's),
 * the schedule's systemctl, the apt hook's dpkg-query, the rehearsal's setpriv and nsenter. The
 * host port (local-host.ts) runs the providers' programs with a clean environment of its own;
 * these keep the invoking one (HOME, proxies, SSH_AUTH_SOCK, the locale), with two things taken
 * from it (session 17):
 *
 * - PATH: SAFE_PATH, then the invoking PATH's other absolute folders (git installed only in
 *   /opt or a home folder is still found, after the distribution's). root's usual PATH has
 *   /usr/local first, so an approved plan making /usr/local/bin/git or /usr/local/sbin/systemctl
 *   (the files provider's scope) would have had that program run as root by every later
 *   snapshot, pull or schedule.
 * - every GIT_* variable but those that only shape how git reaches a remote (REMOTE_GIT_VARS:
 *   ssh, proxies, TLS, prompts). Run from a git hook, an etckeeper or apt hook, TwinSync
 *   inherited GIT_DIR, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY…, and git obeyed them over the twin:
 *   a snapshot wrote its objects into the other repository and then reported the twin damaged
 *   (REPO_DAMAGED). GIT_CONFIG_PARAMETERS/COUNT, GIT_CONFIG_GLOBAL/SYSTEM, GIT_EXEC_PATH,
 *   GIT_TEMPLATE_DIR, the pathspec switches (GIT_GLOB_PATHSPECS: a path given to `checkout` read
 *   as a pattern), GIT_TRACE (git's words on standard error are its verdict here) and the
 *   author/committer variables go too. What TwinSync sets itself (a snapshot's dates, the
 *   mirror's token header) is added by the caller after this.
 *
 * git itself (gitEnv) reads no configuration but the twin's own `.git/config`, the `-c` settings
 * and the environment's: GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null, GIT_ATTR_NOSYSTEM.
 * /etc/gitconfig, /etc/gitattributes, ~/.gitconfig and ~/.config/git/ are all in the files
 * provider's default scope, so a twin could set there `core.fsmonitor` (a command `git status`
 * and `git add` run), `filter.<x>.clean` with a `filter` attribute (run by `git add`),
 * `diff.external` or a textconv (run by `show`), `core.hooksPath`, `core.sshCommand` or a
 * `credential.helper` (run by a push), `url.<x>.insteadOf` (the mirror's token sent to another
 * host), `eol`/`working-tree-encoding` attributes (the twin storing other bytes than the
 * machine's): each ran as root, or leaked, on the next snapshot or push (session 17). What a
 * person sets to reach the mirror goes in the environment (https_proxy, GIT_SSH_COMMAND,
 * GIT_SSL_CAINFO: REMOTE_GIT_VARS are kept) or in the twin's own `.git/config`. git.ts turns
 * hooks, fsmonitor and the XDG attributes and ignore files off as well (BASE_CONFIG).
 *
 * Built once a process (issue 22: an unchanged snapshot runs no program at all; a changed one a
 * few, each given this same object).
 */

/** GIT_* variables kept: they only shape how git reaches a remote, and a person sets them for that. */
const REMOTE_GIT_VARS = /^GIT_(?:SSH|SSH_COMMAND|SSH_VARIANT|ASKPASS|TERMINAL_PROMPT|PROXY_COMMAND|PROXY_SSL_\w+|SSL_\w+|HTTP_\w+|CURL_VERBOSE|ALLOW_PROTOCOL|PROTOCOL_FROM_USER)$/

interface OwnEnvs {
  own: Record<string, string>
  git: Record<string, string>
}

let envs: OwnEnvs | undefined
/** Tests only: the PATH TwinSync's own programs are looked for in instead of SAFE_PATH and the invoking one (setOwnPathForTests). */
let testPath: string | undefined

/** SAFE_PATH, then the other absolute folders of `invoking` (a relative or empty entry, the working folder, never). */
export function ownPath(invoking: string | undefined): string {
  const folders = SAFE_PATH.split(':')
  for (const folder of (invoking ?? '').split(':')) {
    const clean = folder.replace(/\/+$/, '')
    if (clean.startsWith('/') && !folders.includes(clean)) folders.push(clean)
  }
  return folders.join(':')
}

function build(): OwnEnvs {
  const own: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name === 'PATH') continue
    if (name.startsWith('GIT_') && !REMOTE_GIT_VARS.test(name)) continue
    own[name] = value
  }
  own.PATH = testPath ?? ownPath(process.env.PATH)
  return { own, git: { ...own, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ATTR_NOSYSTEM: '1' } }
}

/** The environment of TwinSync's own programs (see above). Shared: copy it before changing it. */
export function ownEnv(): Readonly<Record<string, string>> {
  envs ??= build()
  return envs.own
}

/** ownEnv for git: no configuration file read but the repository's own (see above). Shared. */
export function gitEnv(): Readonly<Record<string, string>> {
  envs ??= build()
  return envs.git
}

/**
 * Tests: look for TwinSync's own programs in `path` alone (a folder without git: GIT_MISSING; a
 * wrapper that records each git run before SAFE_PATH), and take the invoking environment again;
 * undefined: as a run starts. The CLI never calls it.
 */
export function setOwnPathForTests(path: string | undefined): void {
  testPath = path
  envs = undefined
}
