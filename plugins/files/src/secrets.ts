import { randomBytes, createHmac } from 'node:crypto'
import { posix } from 'node:path'
import { cachedByFileStat, cachedByFileStats, findSecrets, isValue, looksLikeToken, machinePathOf, PathPatterns, type HostPort, type ProviderCache, type SecretPath, type TwinReader, appendAll, passwdEntries } from '@twinsync/sdk'
import { partOf, partPath } from './manifest.js'
import { MANIFEST_PATH } from './state.js'
import { accessFileNamed, atHome, isIncludable, FOLLOWED_LIMITS, WEB_LIMITS, WEB_SERVER_RULE, webWalkRoots, type WebRoots, followHops, refsKey, includeHops, includedRefs, includesOf, throughLinks, type Include, type IncludedRefs, followKey, homesOf, homeConfigFiles, homeConfigFolders, homeOfFolder, isUnitFolder, linkedUnitAt, NAMING_CONFIG_PLACES, namedThroughLinks, namingRuleOf, passwordRefsIn, PASSWORD_FILE_RULE, resolvedWords, wildPaths, type Follow, type LinkLook, type PasswordRefs, readsAccounts, unitAccounts, unitsWithDropIns } from './named-credentials.js'
import { parseGroup, parsePasswd } from './accounts.js'

/**
 * Paths whose content never leaves the machine: password hashes, SSH host keys, TLS keys.
 * Recorded in the manifest as present (size, owner, mode, keyed hash) with `secret: true`, never copied.
 */
export const DEFAULT_SECRET_PATHS: readonly string[] = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/ssh/ssh_host_*_key',
  '/etc/ssl/private/**',
  '/etc/security/opasswd',
  '/etc/NetworkManager/system-connections/**',
  // wg-quick's configs and the keys `wg genkey` writes beside them (privatekey, *.key, psk).
  '/etc/wireguard/**',
  '/etc/ppp/*-secrets',
  // hostapd's per-station passphrases (wpa_psk_file: `MAC PASSPHRASE` lines) and its EAP users'
  // passwords (eap_user_file: `"user" MSCHAPV2 "password" [2]`), under the names its example
  // configuration gives them (session 20): nothing in their lines says "secret" to the detector.
  '/etc/hostapd/*.wpa_psk',
  '/etc/hostapd/*.eap_user',
  // postfix's SMTP relay credentials and postmap's database of them (`.db`, `.lmdb`, `.cdb`), also
  // in a folder of their own as Ubuntu's guide keeps them (/etc/postfix/sasl/sasl_passwd): the
  // database holds `user:password` with nothing around it for the detector (session 14).
  '/etc/postfix/sasl_passwd*',
  '/etc/postfix/**/sasl_passwd*',
  // Files of bare credentials (a password alone, `user:password`, `host:user:password`,
  // `mount user password`): nothing in their content says "secret" to the detector.
  '/etc/ldap.secret',
  '/etc/libnss-ldap.secret',
  '/etc/pam_ldap.secret',
  '/etc/rsyncd.secrets',
  '/etc/davfs2/secrets',
  '/etc/exim4/passwd',
  '/etc/exim4/passwd.client',
  '/etc/ipsec.secrets',
  '/etc/ipsec.d/*.secrets',
  // Session 21: xl2tpd's tunnel secrets (`* * SECRET`), RADIUS clients' shared secrets
  // (pam_radius_auth's `SERVER SECRET TIMEOUT`, radcli's and radiusclient's `servers`), and
  // Subversion's saved passwords (`K 8 / password / V n / VALUE` records).
  '/etc/xl2tpd/l2tp-secrets',
  '/etc/pam_radius_auth.conf',
  '/etc/raddb/server',
  '/etc/radcli/servers',
  '/etc/radiusclient/servers',
  '/etc/radiusclient-ng/servers',
  '/**/.subversion/auth/svn.simple/*',
  '/etc/chrony/chrony.keys',
  '/etc/ntpsec/ntp.keys',
  '/etc/ntp.keys',
  // Samba's old password database (LM and NT hashes), an Erlang node's cookie (RabbitMQ's: 20
  // capital letters, no token file by its shape).
  '/etc/samba/smbpasswd',
  '/**/.erlang.cookie',
  // Session 22: binary credential stores, which say nothing to the detector read as latin1: Cyrus
  // SASL's password database (a Berkeley DB of `user\0realm\0userPassword` keys and plain
  // passwords; /etc/sasldb2, and postfix's chroot copy), keystores of Elasticsearch, OpenSearch,
  // Kibana and Logstash (`bin/elasticsearch-keystore`: obfuscated, not protected, unless given a
  // password) and Java's and PKCS#12 key stores. And the machine id: machine-id(5) has it treated
  // as confidential; the twin keeps a keyed hash of it (twin.json, core/src/twin/machine-match.ts)
  // and a restore never writes another machine's.
  '/**/sasldb2',
  '/**/sasldb2.*',
  '/**/*.keystore',
  '/**/*.jks',
  '/**/*.p12',
  '/**/*.pfx',
  // Session 41: the other key stores: Java's JCEKS and Bouncy Castle's FIPS store, PKCS#12 of its
  // long name, IBM GSKit's key database and its stash (`.sth`: the database's password, masked by
  // a fixed byte: its plain sha256 tests a guess offline), KeePass's databases, NSS's key databases
  // (libreswan's /etc/ipsec.d, /etc/pki/nssdb: private keys under a password often empty).
  '/**/*.jceks',
  '/**/*.bcfks',
  '/**/*.pkcs12',
  '/**/*.kdb',
  '/**/*.sth',
  '/**/*.kdbx',
  '/**/key3.db',
  '/**/key4.db',
  // Private keys that may be binary (DER, a program's own format), so no detector sees them: PKCS#8
  // files, strongSwan's swanctl and ipsec.d key folders, Dropbear's host keys, SSH 1's host key,
  // MUNGE's key (owned by munge, not root: not root-only).
  '/**/*.p8',
  '/**/*.pk8',
  '/etc/swanctl/private/**',
  '/etc/swanctl/rsa/**',
  '/etc/swanctl/ecdsa/**',
  '/etc/swanctl/bliss/**',
  '/etc/swanctl/pkcs8/**',
  '/etc/swanctl/pkcs12/**',
  '/etc/ipsec.d/private/**',
  '/etc/dropbear/dropbear_*_host_key',
  '/etc/ssh/ssh_host_key',
  '/etc/munge/munge.key',
  '/etc/machine-id',
  '/var/lib/dbus/machine-id',
  // systemd's credential store (LoadCredential= without a path reads from here).
  '/etc/credstore/**',
  '/etc/credstore.encrypted/**',
  // Users' own keys and tokens, in case a user adds ~/.ssh or ~/.config/gh to the include set.
  '/**/.ssh/id_*',
  '/**/.config/gh/hosts.yml',
  '/**/.git-credentials',
  '/**/.netrc',
  '/**/.pgpass',
  '/**/.docker/config.json',
  '/**/.kube/config',
  '/**/.aws/credentials',
  '/**/.config/git/credentials',
  '/**/.davfs2/secrets',
  // Session 30: s3fs's password files (`ACCESS_KEY:SECRET`, `bucket:ACCESS_KEY:SECRET` lines: an
  // S3-compatible store's keys have no provider's shape), dma's SMTP passwords
  // (`user|smarthost:password`), pgpool's PCP users (`user:md5 of the password`) and its
  // pool_passwd (`user:md5…`, `AES…` or `TEXT…` passwords).
  '/etc/passwd-s3fs',
  '/**/.passwd-s3fs',
  '/etc/dma/auth.conf',
  '/etc/pgpool2/pcp.conf',
  '/etc/pgpool2/pool_passwd',
  '/**/.pcppass',
  // Session 31: GitLab's gitlab-secrets.json (every key of the instance, some in lists);
  // Proxmox VE's private folder (storage passwords in `<id>.pw` files of one bare word, API token
  // secrets, the cluster's keys); Deluge's `user:password:level` auth file and WeeChat's
  // secured data (sec.conf, names of the user's choosing), both under ~/.config; VNC password
  // files (8 bytes from a password of at most 8: an unkeyed digest of them is guessed offline);
  // Ceph keyrings; Kerberos keytabs; the key files systemd-cryptsetup looks for; OpenSMTPD's
  // credential tables as its manual names them; kube-apiserver's static token and basic-auth files.
  '/etc/gitlab/gitlab-secrets.json',
  '/etc/pve/priv/**',
  '/**/.config/deluge/auth',
  '/**/.config/weechat/sec.conf',
  '/**/.weechat/sec.conf',
  '/**/.vnc/passwd',
  '/**/.config/tigervnc/passwd',
  '/etc/ceph/*.keyring',
  '/etc/krb5.keytab',
  '/**/*.keytab',
  // Session 40: a Kerberos KDC's master key stash at MIT's default name (`.k5.REALM` in its folder:
  // Debian's /etc/krb5kdc, Red Hat's /var/kerberos/krb5kdc, a source build's /usr/local/var/krb5kdc;
  // Debian's kdc.conf names /etc/krb5kdc/stash) and its database (`principal`, `principal.ok`,
  // `principal.kadm5`: every key under the master key, which `kdb5_util create` makes from a
  // password); Heimdal's master key and database. Binary, so never mirrored as text, but a file
  // not held out is recorded with its plain sha256: a test of master-password guesses offline.
  '/etc/krb5kdc/.k5.*',
  '/etc/krb5kdc/stash',
  '/etc/krb5kdc/principal*',
  '/var/lib/krb5kdc/.k5.*',
  '/var/lib/krb5kdc/principal*',
  '/var/kerberos/krb5kdc/.k5.*',
  '/var/kerberos/krb5kdc/principal*',
  '/usr/local/var/krb5kdc/.k5.*',
  '/usr/local/var/krb5kdc/principal*',
  '/var/lib/heimdal-kdc/m-key',
  '/var/lib/heimdal-kdc/heimdal.*',
  // Samba's private folder (secrets.tdb: the machine account's password; passdb.tdb: NT hashes).
  '/var/lib/samba/private/**',
  '/etc/cryptsetup-keys.d/**',
  '/etc/smtpd/secrets',
  '/etc/mail/secrets',
  '/etc/kubernetes/**/known_tokens.csv',
  '/etc/kubernetes/**/basic_auth.csv',
]

/**
 * The files postfix's main.cf names as its SMTP client's password maps (`smtp_sasl_password_maps
 * = hash:/etc/postfix/relay_auth`, lmtp's too), each with its compiled databases (`.db`, `.lmdb`,
 * `.cdb`, `.dir`/`.pag`): whole files of `user:password` under whatever name the administrator
 * chose, which neither the detector (a bare `host user:password` line says "secret" only in a
 * file named sasl_passwd) nor a fixed path rule can tell (session 14). Path patterns.
 */
export async function postfixPasswordMaps(host: Pick<HostPort, 'readTextIfExists' | 'lstat'>, cache?: ProviderCache): Promise<string[]> {
  const startedAt = Date.now()
  const st = await host.lstat(MAIN_CF).catch(() => undefined)
  if (st?.type !== 'file') return []
  const read = async (): Promise<string[]> => passwordMapsIn(await host.readTextIfExists(MAIN_CF).catch(() => undefined))
  // An unchanged main.cf is not read again (its stat data, as other signature caches).
  if (cache === undefined) return read()
  return cachedByFileStat(cache, 'postfix-password-maps', st, startedAt, read)
}

const MAIN_CF = '/etc/postfix/main.cf'

function passwordMapsIn(text: string | undefined): string[] {
  if (text === undefined) return []
  const paths: string[] = []
  const lines = text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)
  // `$config_directory/…` (also `${…}`, `$(…)`): main.cf's own setting of it, else postfix's default (session 22).
  const configDirectory = lines.map((l) => /^[ \t]*config_directory[ \t]*=[ \t]*(?<d>\/\S*)[ \t]*$/.exec(l)?.groups?.d).filter((d) => d !== undefined).pop() ?? '/etc/postfix'
  // A logical line: a line that begins with a blank continues the one before it.
  for (const line of lines) {
    const found = /^[ \t]*[a-z0-9_]*_password_maps[ \t]*=(?<v>.*)$/.exec(line)
    if (found?.groups === undefined) continue
    for (const map of (found.groups.v ?? '').replace(/\$(?:config_directory\b|\{config_directory\}|\(config_directory\))/g, configDirectory).split(/[\s,]+/)) {
      // `type:/path`, `proxy:type:/path`; not a `static:…` map (the detector finds its password) nor a `$variable`.
      const path = /^(?:[a-z0-9]+:)+(?<p>\/[^\s,*?[\]{}]+)$/.exec(map)?.groups?.p
      if (path !== undefined) paths.push(path, `${path}.*`)
    }
  }
  return paths
}

const OPENVPN = '/etc/openvpn'
/** How deep under /etc/openvpn configs are looked for (client/, server/, a provider's folder in one of them). */
const OPENVPN_DEPTH = 3
/** At most this many configs are read (a folder of thousands is no VPN setup; the rest are not followed). */
const OPENVPN_MAX_CONFIGS = 500

/**
 * The files OpenVPN's configs (`/etc/openvpn/**` `*.conf` and `*.ovpn`) name as credentials that
 * nothing in their content tells the detector: `auth-user-pass FILE` (a user name, then a
 * password: a short or world-readable one escapes the token-file rule), `askpass FILE` (a private
 * key's passphrase), `http-proxy HOST PORT FILE` (the proxy's user and password) and `management
 * ADDR PORT FILE` (the management interface's password). The keys (`secret`, `tls-auth`,
 * `tls-crypt`, `tls-crypt-v2`, `key`) are found by their content, inline or in a file. A relative name is
 * taken from the config's folder, from /etc/openvpn and from the config's `cd DIR` (the units'
 * working directories: openvpn-client@ runs in client/, openvpn-server@ in server/, openvpn@ in
 * /etc/openvpn). Path patterns (a `*` in a name held out as `?`). Configs whose stat data did not
 * move are not read again (cachedByFileStats).
 */
export async function openvpnCredentialFiles(host: Pick<HostPort, 'readTextIfExists' | 'lstat' | 'readdir'>, cache?: ProviderCache): Promise<string[]> {
  const startedAt = Date.now()
  const configs = await openvpnConfigs(host)
  if (configs.length === 0) return []
  const read = async (): Promise<string[]> => {
    const paths = new Set<string>()
    for (const { path } of configs) for (const p of credentialFilesIn(path, await host.readTextIfExists(path).catch(() => undefined))) paths.add(p)
    return [...paths]
  }
  if (cache === undefined) return read()
  return cachedByFileStats(cache, 'openvpn-credential-files', configs.map(({ path, st }) => ({ path, stat: st })), startedAt, read)
}

async function openvpnConfigs(host: Pick<HostPort, 'lstat' | 'readdir'>): Promise<Array<{ path: string; st: NonNullable<Awaited<ReturnType<HostPort['lstat']>>> }>> {
  const out: Array<{ path: string; st: NonNullable<Awaited<ReturnType<HostPort['lstat']>>> }> = []
  if ((await host.lstat(OPENVPN).catch(() => undefined))?.type !== 'directory') return out
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await host.readdir(dir).catch(() => [])
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (out.length >= OPENVPN_MAX_CONFIGS) return
      const path = `${dir}/${e.name}`
      if (e.type === 'directory' && depth < OPENVPN_DEPTH) await walk(path, depth + 1)
      else if (e.type === 'file' && /\.(?:conf|ovpn)$/.test(e.name)) {
        const st = await host.lstat(path).catch(() => undefined)
        if (st?.type === 'file') out.push({ path, st })
      }
    }
  }
  await walk(OPENVPN, 1)
  return out
}

/** Which word of which directive names a credential file (see openvpnCredentialFiles). */
const OPENVPN_FILE_ARG: Readonly<Record<string, number>> = { 'auth-user-pass': 1, askpass: 1, 'http-proxy': 3, management: 3 }
/** Words in a file's place that name none: a prompt, an inline block, a proxy's own authentication. */
const OPENVPN_NOT_A_FILE = new Set(['stdin', '[inline]', 'auto', 'auto-nct'])

function credentialFilesIn(config: string, text: string | undefined): string[] {
  if (text === undefined) return []
  const lines = text.split(/\r?\n/)
  const named: string[] = []
  const bases = [posix.dirname(config), OPENVPN]
  let block: string | undefined
  for (const line of lines) {
    // An inline block (`<key>` … `</key>`) is content, not directives.
    if (block !== undefined) {
      if (line.trim() === `</${block}>`) block = undefined
      continue
    }
    const open = /^\s*<([A-Za-z0-9-]+)>\s*$/.exec(line)
    if (open !== null) {
      block = open[1]
      continue
    }
    const words = openvpnWords(line)
    const directive = words[0]?.replace(/^--/, '')
    if (directive === 'cd' && words[1] !== undefined) bases.push(posix.resolve(posix.dirname(config), words[1]))
    const at = directive === undefined ? undefined : OPENVPN_FILE_ARG[directive]
    const file = at === undefined ? undefined : words[at]
    if (file !== undefined && file !== '' && !OPENVPN_NOT_A_FILE.has(file)) named.push(file)
  }
  const paths = new Set<string>()
  for (const file of named) {
    for (const base of file.startsWith('/') ? ['/'] : bases) paths.add(posix.resolve(base, file).replace(/\*/g, '?'))
  }
  return [...paths]
}

/**
 * One line of an OpenVPN config as its words: blanks between them, `"…"` (with backslash escapes)
 * and `'…'` quoting, a backslash escaping the next character; a word that begins with `#` or `;`
 * starts a comment.
 */
function openvpnWords(line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i]
      else word += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else if (!inWord && (ch === '#' || ch === ';')) {
      break
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i]
      inWord = true
    } else {
      word += ch
      inWord = true
    }
  }
  if (inWord) words.push(word)
  return words
}

/**
 * The twin files a pushed commit adds or changes that these same rules hold out by path
 * (Provider.secretPaths): DEFAULT_SECRET_PATHS and `secrets.paths`, postfix's password maps and
 * the OpenVPN credential files that the main.cf and the OpenVPN configs IN THAT COMMIT name
 * (passwordMapsIn, credentialFilesIn: the rules the collect applies to the machine's). A snapshot
 * never writes such a file (it records it as a secret); a person can commit one by hand, and a
 * file mirrored before its rule existed is still in the mirror. A commit that adds or changes
 * main.cf or an OpenVPN config also names the twin's files its new text names (in the named
 * folders), changed or not. Only regular files are asked (a symlink at such a path is mirrored as
 * its target, as the collect does).
 *
 * Also a file that is one token (isBareToken): each asked file's blob is read through the
 * push's reader (the core read it once already for the detector).
 *
 * Cost: one read of main.cf and of each OpenVPN config of the commit (the core's reader reads a
 * tree or blob once for all the commits of a push); each text is parsed once per process. The
 * token look (session 17): a first push of the services root's twin (2 snapshots, 230 files)
 * 3,140 → 3,165 M instructions (callgrind, two runs each: +0.8%).
 */
export async function secretPathsInTwin(twin: TwinReader, paths: readonly string[], configuredPaths: readonly string[], allowPaths: readonly string[] = []): Promise<SecretPath[]> {
  const machine = paths.flatMap((twinPath) => {
    const path = machinePathOf(twinPath)
    return path === undefined ? [] : [{ twinPath, path }]
  })
  if (machine.length === 0) return []
  const fixed = fixedPatterns(configuredPaths)
  const postfixNamed = memoParse('postfix', await twin.readText(`filesystem${MAIN_CF}`).catch(() => undefined), passwordMapsIn)
  const openvpnNamed = await twinOpenvpnCredentialFiles(twin)
  const { named: otherNamed, included } = await twinNamedCredentialFiles(twin, paths)
  const postfix = new PathPatterns(postfixNamed)
  const openvpn = new PathPatterns(openvpnNamed)
  const others = otherNamed.map(({ rule, paths }) => ({ rule, patterns: new PathPatterns(paths) }))
  // A commit that adds or changes a config also makes the files it names secret where they already were.
  // Session 40: a config another includes (a site's `Include /etc/wiki/apache-auth.conf`) too.
  if (machine.some(({ path }) => path === MAIN_CF || isOpenvpnConfig(path) || namingRuleOf(path) !== undefined || included.has(path))) {
    const asked = new Set(paths)
    const folders = new Set([...postfixNamed, ...openvpnNamed, ...otherNamed.flatMap((n) => n.paths)].map(plainFolder))
    for (const folder of folders) {
      for (const twinPath of await twin.list(`filesystem${folder === '/' ? '' : folder}/`)) {
        if (asked.has(twinPath)) continue
        asked.add(twinPath)
        machine.push({ twinPath, path: machinePathOf(twinPath) as string })
      }
    }
  }
  const found: SecretPath[] = []
  for (const { twinPath, path } of machine) {
    const rule = fixed.matches(path)
      ? 'secret path'
      : postfix.matches(path)
        ? 'postfix password map'
        : openvpn.matches(path)
          ? 'OpenVPN credential file'
          : others.find((o) => o.patterns.matches(path))?.rule
    if (rule !== undefined) found.push({ path: twinPath, rule })
  }
  // A file the twin's own manifest records as a secret (a token file, a root-only file…), its content in the tree all the same.
  const { held, packaged } = await manifestRecords(twin, machine.filter(({ twinPath }) => !found.some((f) => f.path === twinPath)).map(({ path }) => path))
  for (const { twinPath, path } of machine) {
    const reason = held.get(path)
    if (reason !== undefined) found.push({ path: twinPath, rule: `a secret in the files manifest (${reason})` })
  }
  // A file that is one token (isBareToken), as the collect judges it whoever may read it: one
  // committed by hand at a path the manifest does not list, or over a mirrored file's text. Not a
  // path a package ships (the collect does not judge those so) nor one `secrets.allow` lets through.
  const allowed = allowPaths.length === 0 ? undefined : new PathPatterns(allowPaths)
  for (const { twinPath, path } of machine) {
    if (packaged.has(path) || allowed?.matches(path) === true || found.some((f) => f.path === twinPath)) continue
    const bytes = await twin.read(twinPath).catch(() => undefined)
    if (bytes === undefined || bytes.byteLength > BARE_TOKEN_BYTES || bytes.includes(0)) continue
    if (isBareToken(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), path)) found.push({ path: twinPath, rule: BARE_TOKEN })
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * Which of these machine paths the twin's files manifest records as secret, with the reason (a
 * rule's name or words, never a value): its head, and only the parts these paths' entries are in
 * (partOf). A snapshot writes a secret's record and never its content; content beside such a record
 * was put there by hand. Each text is parsed once per process (memoParse's cache).
 */
async function manifestRecords(twin: TwinReader, paths: readonly string[]): Promise<{ held: Map<string, string>; packaged: Set<string> }> {
  const held = new Map<string, string>()
  const packaged = new Set<string>()
  if (paths.length === 0) return { held, packaged }
  const documents = [MANIFEST_PATH, ...new Set(paths.map((p) => partPath(partOf(p))))]
  const wanted = new Set(paths)
  for (const document of documents) {
    const text = await twin.readText(document).catch(() => undefined)
    for (const entry of memoParse(`manifest\0${document}`, text, recordedEntries)) {
      const [path, reason] = entry.split('\0') as [string, string]
      if (!wanted.has(path)) continue
      if (reason === PACKAGED) packaged.add(path)
      else held.set(path, reason)
    }
  }
  return { held, packaged }
}

/** What recordedEntries says of a path a package ships (and the manifest records no secret at). */
const PACKAGED = '\u0001package'

/** The largest file isBareToken can say yes to (4096 characters of a word, blanks around it): bytes of a blob, characters of a text. */
const BARE_TOKEN_BYTES = 4200

/**
 * "path\0reason" of each entry with `secret: true` in a manifest document's text, and
 * "path\0\u0001package" of each other one a package ships (an unreadable text holds none).
 */
function recordedEntries(text: string | undefined): string[] {
  if (text === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return []
  }
  const entries = (parsed as { entries?: unknown } | null)?.entries
  if (!Array.isArray(entries)) return []
  return entries.flatMap((e: unknown) => {
    const entry = e as { path?: unknown; secret?: unknown; secretReason?: unknown; package?: unknown } | null
    if (typeof entry?.path !== 'string') return []
    if (entry.secret !== true) return typeof entry.package === 'string' ? [`${entry.path}\0${PACKAGED}`] : []
    const reason = typeof entry.secretReason === 'string' && /^[\w ,.'()/-]{1,80}$/.test(entry.secretReason) ? entry.secretReason : 'secret'
    return [`${entry.path}\0${reason}`]
  })
}

let fixedMemo: { key: string; patterns: PathPatterns } | undefined

function fixedPatterns(configured: readonly string[]): PathPatterns {
  const key = JSON.stringify(configured)
  if (fixedMemo?.key !== key) fixedMemo = { key, patterns: new PathPatterns([...DEFAULT_SECRET_PATHS, ...configured]) }
  return fixedMemo.patterns
}

/** The same config text in commit after commit of a push is parsed once (at most 256 texts kept, of every kind). */
const parsed = new Map<string, unknown>()

function memoParse(kind: string, text: string | undefined, parse: (text: string | undefined) => string[]): string[] {
  return text === undefined ? [] : memoized(kind, text, parse)
}

/** `parse(text)`, made once per process for each kind and text (the cache memoParse keeps). */
function memoized<T>(kind: string, text: string, parse: (text: string) => T): T {
  const key = `${kind}\0${text}`
  if (parsed.has(key)) return parsed.get(key) as T
  const made = parse(text)
  if (parsed.size >= 256) parsed.clear()
  parsed.set(key, made)
  return made
}

function isOpenvpnConfig(path: string): boolean {
  return path.startsWith(`${OPENVPN}/`) && /\.(?:conf|ovpn)$/.test(path) && path.slice(OPENVPN.length + 1).split('/').length <= OPENVPN_DEPTH
}

/** The folder of a named path pattern, up to its first component with a wildcard. */
function plainFolder(pattern: string): string {
  const parts = posix.dirname(pattern).split('/')
  const wild = parts.findIndex((part) => /[*?[]/.test(part))
  return (wild < 0 ? parts : parts.slice(0, wild)).join('/') || '/'
}

/** openvpnCredentialFiles over a twin: the configs its filesystem/etc/openvpn holds, as deep and as many as the machine's walk takes. */
async function twinOpenvpnCredentialFiles(twin: TwinReader): Promise<string[]> {
  const prefix = `filesystem${OPENVPN}/`
  const configs = (await twin.list(prefix)).filter((p) => isOpenvpnConfig(machinePathOf(p) as string)).slice(0, OPENVPN_MAX_CONFIGS)
  const paths = new Set<string>()
  for (const twinPath of configs) {
    const config = machinePathOf(twinPath) as string
    const text = await twin.readText(twinPath).catch(() => undefined)
    for (const p of memoParse(`openvpn\0${config}`, text, (t) => credentialFilesIn(config, t))) paths.add(p)
  }
  return [...paths]
}

/**
 * named-credentials.ts's rules over a twin: the configs its filesystem holds in their places (as
 * many a folder as the machine's look takes), the user units under the homes of the twin's
 * /etc/passwd (session 32), and any config among the commit's own `paths`; each rule's named
 * path patterns. Session 33: a unit folder, unit or drop-in folder the twin's manifest records as
 * a link (stow's dotfiles) is read where it leads in the twin, a user's within the same home
 * (named-credentials.ts's linkedUnitAt); a named path that leads through a recorded link names
 * where it leads too. Links are resolved in the twin's paths only (TwinLinks), never the machine's.
 */
async function twinNamedCredentialFiles(twin: TwinReader, paths: readonly string[] = [], links = new TwinLinks(twin)): Promise<{ named: Array<{ rule: string; paths: string[] }>; included: Set<string> }> {
  const configs: Array<{ twinPath: string; config: string }> = NAMING_CONFIG_PLACES.files.map((f) => ({ twinPath: `filesystem${f}`, config: f }))
  const passwd = await twin.readText('filesystem/etc/passwd').catch(() => undefined)
  // The home of every entry getpwent lists, a `+`/`-` line's too (passwdEntries, not passwdUsers): the
  // safe side, a credential file looked for in one home more is kept out of the twin, never let in.
  // A line glibc refuses (an empty uid outside a `+`/`-` line, a uid above 2^32−1) is no entry and
  // names no home here; the files provider mirrors no such home either (it takes passwdUsers').
  const homes = passwd === undefined ? [] : memoParse('passwd', passwd, (t) => passwdEntries(t ?? '').map((a) => a.home))
  const look = links.look
  configs.push(...homeConfigFiles(homes).map((f) => ({ twinPath: `filesystem${f}`, config: f })))
  for (const folder of [...NAMING_CONFIG_PLACES.folders, ...homeConfigFolders(homes)]) {
    let at: string | undefined = folder
    let files = await twin.list(`filesystem${folder}/`)
    const home = homeOfFolder(folder)
    if (home !== undefined && files.length === 0) {
      // A home the twin holds nothing of holds no unit; else its unit folder may be a link, or below one (session 33).
      if ((await twin.list(`filesystem${home}/`)).length === 0) continue
      at = await linkedUnitAt(look, folder, folder)
      if (at === undefined) continue
      files = at === folder ? files : await twin.list(`filesystem${at}/`)
    }
    const named = (twinPath: string, from: string, as: string) => `${as}${(machinePathOf(twinPath) as string).slice(from.length)}`
    const listed = files.map((p) => ({ twinPath: p, config: named(p, at, folder) })).filter((c) => namingRuleOf(c.config) !== undefined)
    configs.push(...listed.sort((a, b) => (a.config < b.config ? -1 : 1)).slice(0, NAMING_CONFIG_PLACES.max))
    if (!isUnitFolder(folder)) continue
    // Units and drop-in folders that are links (the manifest records a link, never its target's content): read where they lead, in the twin.
    for (const [link, name] of await links.linksIn(at)) {
      const config = `${folder}/${name}`
      const real = await linkedUnitAt(look, name.endsWith('.service.d') ? config : folder, link)
      if (real === undefined) continue
      if (name.endsWith('.service.d')) configs.push(...(await twin.list(`filesystem${real}/`)).map((p) => ({ twinPath: p, config: named(p, real, config) })).filter((c) => namingRuleOf(c.config) !== undefined).slice(0, NAMING_CONFIG_PLACES.max))
      else if (namingRuleOf(config) !== undefined) configs.push({ twinPath: `filesystem${real}`, config })
    }
  }
  // Session 41: the configs found under a tree by their rule (PostgreSQL's VERSION/CLUSTER/postgresql.conf, conf.d).
  for (const tree of NAMING_CONFIG_PLACES.trees) {
    const found = (await twin.list(`filesystem${tree}/`)).map((p) => ({ twinPath: p, config: machinePathOf(p) as string })).filter((c) => namingRuleOf(c.config) !== undefined)
    configs.push(...found.sort((a, b) => (a.config < b.config ? -1 : 1)).slice(0, NAMING_CONFIG_PLACES.max))
  }
  appendAll(configs, paths.filter((p) => namingRuleOf(machinePathOf(p) ?? '') !== undefined).map((p) => ({ twinPath: p, config: machinePathOf(p) as string })))
  const byRule = new Map<string, Set<string>>()
  const seen = new Set<string>()
  const follows = new Map<string, Follow>()
  const words = new Set<string>()
  const assigns: Array<[string, string]> = []
  // A crontab job's home (`~USER`, session 38) as the twin's /etc/passwd says.
  const homeOf = homesOf(passwd === undefined ? [] : memoized('passwd-accounts', passwd, parsePasswd))
  const add = async (rule: string, patterns: readonly string[]) => {
    const named = patterns.flatMap((p) => atHome(p, homeOf) ?? [])
    if (named.length === 0) return
    const set = byRule.get(rule) ?? new Set<string>()
    // A named file that is a link, or below a folder link, in the twin: where it leads is named too (session 33), a wildcard's paths too (session 34).
    for (const p of [...named, ...(await namedThroughLinks(look, named, links.names))]) set.add(p)
    byRule.set(rule, set)
  }
  const texts: Array<{ config: string; text: string }> = []
  // Session 39: a user unit's specifiers stand for its home's account, as the twin's /etc/passwd and /etc/group say (their texts part of its results' key).
  const group = configs.some((c) => readsAccounts(c.config)) ? await twin.readText('filesystem/etc/group').catch(() => undefined) : undefined
  const accounts = unitAccounts(passwd === undefined ? [] : memoized('passwd-accounts', passwd, parsePasswd), group === undefined ? {} : memoized('group-accounts', group, parseGroup))
  const accountsKey = `${passwd ?? ''}\0${group ?? ''}`
  const includes = new Map<string, Include>()
  const web: WebRoots[] = []
  const apply = async (config: string, text: string | undefined) => {
    const rule = namingRuleOf(config)
    if (rule === undefined) return
    if (rule.includes !== undefined && text !== undefined) for (const i of memoized(`includes\0${config}`, text, (t) => includesOf(rule, config, t))) includes.set(`${i.rule}\0${i.path}`, i)
    if (rule.webRoots !== undefined && text !== undefined) web.push(memoized(`web-roots\0${config}`, text, (t) => rule.webRoots?.(config, t) ?? { dirs: [], docroots: [], names: [] }))
    const of = readsAccounts(config) ? `${config}\0${accountsKey}` : config
    const named = memoParse(`named\0${of}`, text, (t) => (t === undefined ? [] : rule.named(config, t, accounts)))
    if (rule.follows !== undefined && text !== undefined) for (const f of memoized(`follows\0${of}`, text, (t) => rule.follows?.(config, t, accounts) ?? [])) follows.set(followKey(f), f)
    if (rule.environment !== undefined && text !== undefined) {
      const env = memoized(`environment\0${of}`, text, (t) => rule.environment?.(config, t, accounts) ?? { words: [], assigns: [] })
      for (const w of env.words) words.add(w)
      assigns.push(...env.assigns)
    }
    await add(rule.rule, named)
  }
  for (const { twinPath, config } of configs) {
    if (seen.has(`${twinPath}\0${config}`)) continue
    seen.add(`${twinPath}\0${config}`)
    if (namingRuleOf(config) === undefined) continue
    const text = await twin.readText(twinPath).catch(() => undefined)
    await apply(config, text)
    if (text !== undefined) texts.push({ config, text })
  }
  // Session 39: a unit with its drop-ins, as systemd reads them (named-credentials.ts).
  for (const { config, text } of unitsWithDropIns(texts)) await apply(config, text)
  // The files the configs follow (session 35: a unit's environment file, a crontab's script; session 36: what those source or
  // run, a second hop), as the twin holds them: the password files they point at, and the variables they set for the words left.
  const followed = await followHops(
    [...follows.values()],
    (pattern) => wildPaths(look, links.names, pattern),
    async (files) => {
      const refs: Array<[string, PasswordRefs]> = []
      for (const { path, home } of files) {
        const text = await twin.readText(`filesystem${path}`).catch(() => undefined)
        if (text !== undefined && text.length <= FOLLOWED_LIMITS.bytes) refs.push([refsKey(path, home), memoized(`password-refs\0${refsKey(path, home)}`, text, (t) => passwordRefsIn(t, path, undefined, home))])
      }
      return refs
    },
    homeOf,
  )
  await add(PASSWORD_FILE_RULE, [...new Set([...followed.paths, ...resolvedWords([...words, ...followed.words], [...assigns, ...followed.assigns])])])
  // Session 40: the configs the web servers' and Samba's configs include, as the twin holds them (links resolved in the twin; session 41: read where isIncludable).
  const included = await includeHops(
    [...includes.values()],
    (pattern) => wildPaths(look, links.names, pattern),
    (path) => throughLinks(look, path, '/'),
    async (entries) => {
      const refs: Array<[string, IncludedRefs]> = []
      for (const entry of entries) {
        const text = await twin.readText(`filesystem${entry.path}`).catch(() => undefined)
        if (text !== undefined && text.length <= FOLLOWED_LIMITS.bytes) refs.push([`${entry.rule}\0${entry.path}`, memoized(`included\0${entry.rule}\0${entry.path}`, text, (t) => includedRefs(entry, t))])
      }
      return refs
    },
  )
  for (const { rule, paths } of included.named) await add(rule, paths)
  // Session 42: the per-directory configs (`.htaccess`) under the folders Apache's configs let them configure, as the twin holds them.
  const configsRead = new Set(included.configs)
  const { roots, names } = webWalkRoots([...web, ...included.web])
  const access = new Set<string>()
  for (const pattern of roots) {
    for (const root of /[*?]/.test(pattern) ? await wildPaths(look, links.names, pattern) : [pattern]) {
      const real = await throughLinks(look, root, '/')
      if (real === undefined || !isIncludable(real)) continue
      for (const twinPath of await twin.list(`filesystem${real}/`)) {
        const path = machinePathOf(twinPath) as string
        if (access.size >= WEB_LIMITS.files) break
        if (names.includes(posix.basename(path)) && path.slice(real.length + 1).split('/').length <= WEB_LIMITS.depth + 1) access.add(path)
      }
    }
  }
  for (const path of access) {
    const text = await twin.readText(`filesystem${path}`).catch(() => undefined)
    if (text === undefined || text.length > FOLLOWED_LIMITS.bytes) continue
    configsRead.add(path)
    await add(WEB_SERVER_RULE, memoized(`access-file\0${path}`, text, accessFileNamed))
  }
  return { named: [...byRule].map(([rule, paths]) => ({ rule, paths: [...paths] })), included: configsRead }
}

/**
 * The links a twin's files manifest records (its head and the part of each folder asked), each
 * document's read and parsed once for one push's look: a name's link (`look`, for throughLinks:
 * a name that is no link is `other`, the twin's own files resolved by their paths, never the
 * machine's), and the links of one folder. Only a twin path is ever read: a target `/…` or
 * `../..` resolves inside filesystem/.
 */
class TwinLinks {
  private readonly documents = new Map<string, Promise<Map<string, string>>>()
  constructor(private readonly twin: TwinReader) {}

  private linksOf(document: string): Promise<Map<string, string>> {
    let links = this.documents.get(document)
    if (links === undefined) {
      links = this.twin.readText(document).then((t) => memoLinks(t), () => new Map<string, string>())
      this.documents.set(document, links)
    }
    return links
  }

  /** The folder's links: [path, name] pairs. */
  async linksIn(folder: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = []
    for (const document of [MANIFEST_PATH, partPath(partOf(`${folder}/-`))]) {
      for (const path of (await this.linksOf(document)).keys()) if (posix.dirname(path) === folder) out.push([path, path.slice(folder.length + 1)])
    }
    return out
  }

  private readonly folders = new Map<string, Promise<readonly string[]>>()

  /** A folder's names in the twin (ListNames, for a named path's wildcards): what it holds below it, and its recorded links. */
  readonly names = (folder: string): Promise<readonly string[]> => {
    let names = this.folders.get(folder)
    if (names === undefined) {
      names = (async () => {
        const prefix = folder === '/' ? 'filesystem/' : `filesystem${folder}/`
        const out = new Set<string>()
        for (const p of await this.twin.list(prefix)) {
          const name = p.slice(prefix.length).split('/')[0]
          if (name !== undefined && name !== '') out.add(name)
        }
        for (const [, name] of await this.linksIn(folder)) out.add(name)
        return [...out]
      })()
      this.folders.set(folder, names)
    }
    return names
  }

  readonly look = async (path: string): Promise<LinkLook> => {
    for (const document of [MANIFEST_PATH, partPath(partOf(path))]) {
      const target = (await this.linksOf(document)).get(path)
      if (target !== undefined) return { link: target }
    }
    return { other: true }
  }
}

/** linkEntries of each text parsed once per process (a push's commits share their manifest documents): memoParse's cache. */
function memoLinks(text: string | undefined): Map<string, string> {
  return text === undefined ? new Map() : memoized('links', text, linkEntries)
}

/** The symlinks of a manifest document's text: path → target (an unreadable text holds none). */
function linkEntries(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (text === undefined) return out
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return out
  }
  const entries = (parsed as { entries?: unknown } | null)?.entries
  if (!Array.isArray(entries)) return out
  for (const e of entries as unknown[]) {
    const entry = e as { path?: unknown; type?: unknown; target?: unknown } | null
    if (entry?.type === 'symlink' && typeof entry.path === 'string' && typeof entry.target === 'string') out.set(entry.path, entry.target)
  }
  return out
}

/** Why a file is private although the detector found nothing in it. */
export const ROOT_ONLY_UNCHECKED = 'root-only, content not checked'

/**
 * Why a binary file is private although the detector found nothing in it and others than root may
 * read it (session 42): kept from other users (no read bit for others), and no package ships its
 * bytes. Its plain sha256 would let anyone with the twin test guesses offline where the bytes
 * follow from a password (a keytab `ktutil addent -password` made, a stash, a small password
 * database), so it gets the keyed hash only, as root's own do. Before, a binary its group (or its
 * owner, not root) could read kept its sha256: a keytab 0640 root:www-data, ~/.config/pulse/cookie.
 */
export const KEPT_BINARY = 'binary, not world-readable'

/** Why a file of bare tokens is private (see isTokenFile). */
export const TOKEN_FILE = 'token file, not world-readable'

/**
 * A file of bare credentials: one or two lines (comments and blank lines aside), each a single
 * word, one of them token-like: 12 or more printable characters with at least two of lower case,
 * upper case, digits and other signs, not a path. `/etc/myapp/db.pass`, `wg genkey`'s output, a
 * k3s or Zabbix PSK file, OpenVPN's `auth-user-pass` file (user, then password). Nothing in such a
 * content says "secret" to the detector; whoever keeps it from other users says so (see judge).
 */
export function isTokenFile(text: string): boolean {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  if (lines.length === 0 || lines.length > 2) return false
  if (!lines.every((l) => /^[\x21-\x7e]{1,4096}$/.test(l))) return false
  return lines.some((l) => {
    if (l.length < 12 || l.startsWith('/')) return false
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((c) => c.test(l)).length
    return classes >= 2
  })
}

/** Why a file that is one token is private, whoever may read it (see isBareToken). */
export const BARE_TOKEN = 'a token, the whole file'

/** A file name that says it holds a password or token: `password.txt`, `db.pass`, `api-token`, nginx's `passphrases`. */
const PASSWORD_FILE_NAME = /(?:^|[._-])(?:pass(?:wd|word|phrase)?s?|secrets?|tokens?|psk|api[_-]?key|creds?|credentials?|pwd?)(?:$|[._-])/i

/**
 * A file whose whole text is one token, whoever may read it (session 17: world-readable ones were
 * mirrored, and one committed into the twin by hand was pushed): a token-shaped word (the
 * detector's looksLikeToken: 16 or more characters with lower case, upper case and digits, no `=`
 * but base64's padding at its end: `openssl rand -base64 24 > /etc/myapp/api.token`), or in a file
 * named for a password or token any one word a password could be (`/etc/restic/password.txt`,
 * nginx's `ssl_password_file`). Hex digests, UUIDs, machine ids, settings (`LANG=en_US.UTF-8`),
 * names, versions and paths are none: on the services and checkers roots (every file of 8 KB or
 * less) and this machine's /etc it holds out nothing. isTokenFile's looser shapes (two lines, two
 * kinds of characters) still need a file kept from other users. `secrets.allow` lets one through.
 * Session 34: in a file named for a password or passphrase, a line of words too (isPassphraseFile;
 * over 189,345 files of 8 KB or less of this machine's /etc, /usr/share/doc, /root and the checkers
 * root, it holds out none).
 */
export function isBareToken(text: string, path: string): boolean {
  if (text.length > BARE_TOKEN_BYTES) return false
  const word = text.trim()
  if (word.length < 8 || word.length > 4096) return false
  if (/\s/.test(word)) return isPassphraseFile(word, path)
  if (/^[A-Za-z0-9+/_.~-]+={0,2}$/.test(word) && looksLikeToken(word)) return true
  return PASSWORD_FILE_NAME.test(posix.basename(path)) && /^[\x21-\x7e]+$/.test(word) && !word.includes('/') && isValue(word)
}

/** A file name that says it holds a password or passphrase (not a token, secret or key): `password`, `repo.pass`, `borg-passphrase.txt`. */
const PASSPHRASE_FILE_NAME = /(?:^|[._-])(?:pass(?:wd|word|phrase)?s?|pwd?)(?:$|[._-])/i

/**
 * A passphrase of words, one line, in a file named for a password (session 34): restic's
 * `--password-file`/`RESTIC_PASSWORD_FILE` reads its first line whole, and a diceware phrase
 * (`/etc/restic/password` holding `correct horse battery staple`) was mirrored, since a word with
 * spaces was no token. Two to twelve words of printable characters, 12 or more in all.
 */
function isPassphraseFile(line: string, path: string): boolean {
  if (line.length < 12 || line.length > 1024 || !/^[\x21-\x7e]+(?: [\x21-\x7e]+){1,11}$/.test(line)) return false
  return PASSPHRASE_FILE_NAME.test(posix.basename(path)) && isValue(line)
}

export class SecretRules {
  /** The path rules (DEFAULT_SECRET_PATHS and the extra paths, as given), made into expressions when first asked (see `paths`). */
  private readonly pathRules: readonly string[]

  private readonly allowRules: readonly string[]

  private madePaths: PathPatterns | undefined

  private madeAllowed: PathPatterns | undefined

  constructor(
    readonly extraPaths: readonly string[],
    readonly detectContent: boolean,
    /** Paths the token-file rule leaves alone (`secrets.allow`): never a path rule's nor the detector's finding. */
    readonly allowPaths: readonly string[] = [],
  ) {
    this.pathRules = [...DEFAULT_SECRET_PATHS, ...extraPaths]
    this.allowRules = [...allowPaths]
  }

  /**
   * Speed (issue 22, session 42): the path rules' expressions are made when a path is first asked
   * about, not with the rules. A collect asks only of the files it reads (a new or changed one),
   * so an unchanged snapshot, `plan` and `status` make none: the ~200 patterns of
   * DEFAULT_SECRET_PATHS and the machine's named credential files turned into one expression (a
   * regular-expression replace a character, the expression parsed) cost 6.9–8.7 M instructions of
   * an unchanged snapshot of the minbase root (callgrind, node only, markers around the
   * constructor), about 2% of the run.
   */
  private get paths(): PathPatterns {
    return (this.madePaths ??= new PathPatterns(this.pathRules))
  }

  private get allowed(): PathPatterns {
    return (this.madeAllowed ??= new PathPatterns(this.allowRules))
  }

  /** Whether the configuration lets a token file at this path be mirrored. */
  allows(path: string): boolean {
    return this.allowPaths.length > 0 && this.allowed.matches(path)
  }

  /** Why the path alone makes a file secret, or undefined. */
  pathVerdict(path: string): string | undefined {
    return this.paths.matches(path) ? 'path rule' : undefined
  }

  /**
   * The detector's first rule that matches the content, or undefined. Binary content is searched
   * as latin1 (a PEM key inside a keystore still shows). The SDK's detector is the only rule set.
   */
  async contentVerdict(content: Uint8Array, path: string): Promise<string | undefined> {
    if (!this.detectContent) return undefined
    const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1')
    return (await findSecrets(text, { path }))[0]?.rule
  }
}

/**
 * Only root can read the file: owned by root, no read bit for others, and the group's read bit only
 * for group root. Such a file is private unless its content is shown to be free of findings (text
 * the detector read and passed); binary, oversized or unchecked content of such a file stays private.
 */
export function onlyRootCanRead(stat: { mode: number; uid: number; gid: number }): boolean {
  if (stat.uid !== 0) return false
  if ((stat.mode & 0o004) !== 0) return false
  return (stat.mode & 0o040) === 0 || stat.gid === 0
}

const KEY_NAME = 'secret-hash-key'

/**
 * The key of the keyed hash recorded for secret files, kept in the provider cache (inside the
 * twin's .git, never committed or pushed). A plain sha256 of a short password file could be
 * guessed offline from the twin; an HMAC under a key that stays on the machine cannot. Losing the
 * key makes every secret's hash change once (a snapshot records every secret file as changed), so
 * it is state, not a cache: written durably, and one an older store wrote (without the core's
 * check) is still read, proved whole by its form (64 hex digits), and written again in the new form.
 */
export async function secretHashKey(cache: ProviderCache): Promise<Buffer> {
  const stored = keyIn(await cache.read(KEY_NAME))
  if (stored !== undefined) return stored
  const earlier = keyIn(await cache.read(KEY_NAME, { earlier: true }))
  const key = earlier ?? randomBytes(32)
  await cache.write(KEY_NAME, key.toString('hex'), { durable: true })
  return key
}

function keyIn(text: string | undefined): Buffer | undefined {
  const trimmed = text?.trim()
  return trimmed !== undefined && KEY_FORM.test(trimmed) ? Buffer.from(trimmed, 'hex') : undefined
}

const KEY_FORM = /^[0-9a-f]{64}$/

export function secretHash(key: Buffer, content: Uint8Array): string {
  return 'hmac-sha256:' + createHmac('sha256', key).update(content).digest('hex')
}
