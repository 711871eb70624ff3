import { posix } from 'node:path'
import { cachedByFileStats, type HostPort, type ProviderCache } from '@twinsync/sdk'

/**
 * Credential files that another service's configuration names, under whatever name the
 * administrator chose, whose lines say nothing to the detector (session 21):
 * - hostapd's `wpa_psk_file=` (`MAC PASSPHRASE` lines) and `eap_user_file=` (`"user" METHOD
 *   "password"`), in /etc/hostapd/*.conf (hostapd@.service runs /etc/hostapd/%i.conf);
 * - MongoDB's `security.keyFile` (base64 lines shared by a replica set) in /etc/mongod.conf, and
 *   the older `keyFile = PATH` form of /etc/mongodb.conf;
 * - PAM's user databases: `pam_userdb.so db=PATH` (vsftpd's virtual users: the module reads
 *   PATH.db, made with `db_load` from a text of alternating user and password lines kept beside
 *   it, `PATH.txt` by the guides) and `pam_pwdfile.so pwdfile=PATH`, in /etc/pam.d/*;
 * - lighttpd's `auth.backend.plain.userfile = "PATH"` (`user:password` lines in plain text), in
 *   /etc/lighttpd/*.conf and its conf-available/ and conf-enabled/.
 * Each rule gives path patterns (a named path, and for pam_userdb `PATH.*` too), and a name for
 * messages that never holds a value.
 */
export interface NamingRule {
  /** What the named files are, for messages ("hostapd credential file"). */
  readonly rule: string
  /** Whether a machine path is one of this rule's configs. */
  isConfig(path: string): boolean
  /** The path patterns a config's text names. */
  named(config: string, text: string): string[]
}

/** hostapd's configs: /etc/hostapd/NAME.conf (one level). */
const HOSTAPD = '/etc/hostapd'
const PAM = '/etc/pam.d'
const MONGO_CONFIGS = ['/etc/mongod.conf', '/etc/mongodb.conf']
const LIGHTTPD = ['/etc/lighttpd', '/etc/lighttpd/conf-available', '/etc/lighttpd/conf-enabled']

/** At most this many configs of one folder are read (a folder of thousands is no such setup). */
const MAX_CONFIGS = 200

const inFolder = (folder: string, path: string) => path.startsWith(`${folder}/`) && !path.slice(folder.length + 1).includes('/')

/** A named file as a path pattern: relative to the config's folder, a `*` held out as `?` (as openvpnCredentialFiles). */
const resolved = (config: string, file: string) => posix.resolve(posix.dirname(config), file).replace(/\*/g, '?')

/** A value as the config writes it: quotes around it dropped. */
const unquoted = (v: string) => v.replace(/^(["'])(.*)\1$/, '$2')

export const NAMING_RULES: readonly NamingRule[] = [
  {
    rule: 'hostapd credential file',
    isConfig: (path) => inFolder(HOSTAPD, path) && path.endsWith('.conf'),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(/^[ \t]*(?:wpa_psk_file|eap_user_file)[ \t]*=[ \t]*(?<f>[^\s#][^\r\n]*?)[ \t]*$/gm)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, file))
      }
      return out
    },
  },
  {
    rule: 'MongoDB key file',
    isConfig: (path) => MONGO_CONFIGS.includes(path),
    named: (config, text) => {
      const out: string[] = []
      // YAML (`security:` then an indented `keyFile: PATH`) and the old INI form (`keyFile = PATH`).
      for (const m of text.matchAll(/^[ \t]*keyFile[ \t]*[:=][ \t]*(?<f>[^\s#][^\r\n#]*?)[ \t]*(?:#.*)?$/gm)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, unquoted(file)))
      }
      return out
    },
  },
  {
    rule: 'lighttpd password file',
    isConfig: (path) => path.endsWith('.conf') && LIGHTTPD.some((folder) => inFolder(folder, path)),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(/^[ \t]*auth\.backend\.plain\.userfile[ \t]*=[ \t]*"(?<f>[^"\n]+)"/gm)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, file))
      }
      return out
    },
  },
  {
    rule: 'PAM user database',
    isConfig: (path) => inFolder(PAM, path),
    named: (config, text) => {
      const out: string[] = []
      for (const line of text.split(/\r?\n/)) {
        if (/^\s*#/.test(line)) continue
        const userdb = /\bpam_userdb\.so\b.*?[ \t]db=(?<f>\/\S+)/.exec(line)?.groups?.f
        // pam_userdb opens PATH.db; the text it was made from is kept beside it (PATH.txt, PATH.list…).
        if (userdb !== undefined) out.push(resolved(config, userdb), `${resolved(config, userdb)}.*`)
        const pwdfile = /\bpam_pwdfile\.so\b.*?[ \t]pwdfile=(?<f>\/\S+)/.exec(line)?.groups?.f
        if (pwdfile !== undefined) out.push(resolved(config, pwdfile))
      }
      return out
    },
  },
]

/** The rule whose configs include this machine path, if any. */
export const namingRuleOf = (path: string): NamingRule | undefined => NAMING_RULES.find((r) => r.isConfig(path))

/**
 * The machine's configs the naming rules read: /etc/hostapd/*.conf, /etc/mongod.conf and
 * /etc/mongodb.conf, /etc/pam.d/*, lighttpd's *.conf (regular files only; conf-enabled's
 * symlinks are conf-available's files), with their stat data.
 */
async function machineConfigs(host: Pick<HostPort, 'lstat' | 'readdir'>, startedAt: number, cache?: ProviderCache): Promise<Array<{ path: string; stat: NonNullable<Awaited<ReturnType<HostPort['lstat']>>> }>> {
  const candidates: string[] = [...MONGO_CONFIGS]
  for (const folder of [HOSTAPD, PAM, ...LIGHTTPD]) {
    const st = await host.lstat(folder).catch(() => undefined)
    if (st?.type !== 'directory') continue
    const list = async (): Promise<string[]> => {
      const entries = await host.readdir(folder).catch(() => [])
      const names = entries
        .filter((e) => e.type === 'file')
        .map((e) => `${folder}/${e.name}`)
        .filter((p) => namingRuleOf(p) !== undefined)
        .sort()
      return names.slice(0, MAX_CONFIGS)
    }
    // A folder whose stat data did not move has the same names: not listed again (an unchanged machine lists no folder).
    candidates.push(...(cache === undefined ? await list() : await cachedByFileStats(cache, `named-credential-folder:${folder}`, [{ path: folder, stat: st }], startedAt, list)))
  }
  const out: Array<{ path: string; stat: NonNullable<Awaited<ReturnType<HostPort['lstat']>>> }> = []
  for (const path of candidates) {
    const stat = await host.lstat(path).catch(() => undefined)
    if (stat?.type === 'file') out.push({ path, stat })
  }
  return out
}

/**
 * The path patterns, with their rule, that the machine's configs name (see NAMING_RULES). Configs
 * whose stat data did not move are not read again, nor folders whose stat data did not move listed
 * again (cachedByFileStats): on an unchanged machine, a stat of each folder and config.
 */
export async function namedCredentialFiles(host: Pick<HostPort, 'readTextIfExists' | 'lstat' | 'readdir'>, cache?: ProviderCache): Promise<string[]> {
  const startedAt = Date.now()
  const configs = await machineConfigs(host, startedAt, cache)
  if (configs.length === 0) return []
  const read = async (): Promise<string[]> => {
    const paths = new Set<string>()
    for (const { path } of configs) {
      const text = await host.readTextIfExists(path).catch(() => undefined)
      if (text !== undefined) for (const p of namingRuleOf(path)?.named(path, text) ?? []) paths.add(p)
    }
    return [...paths]
  }
  if (cache === undefined) return read()
  return cachedByFileStats(cache, 'named-credential-files', configs, startedAt, read)
}

/** The twin's folders and files the naming rules' configs are in, for a push's look at its commit. */
export const NAMING_CONFIG_PLACES = { folders: [HOSTAPD, PAM, ...LIGHTTPD], files: MONGO_CONFIGS, max: MAX_CONFIGS } as const
