import { posix } from 'node:path'
import { cachedByFileStats, isRacy, retireKeys, SECRET_RULES_VERSION, type HostPort, type ProviderCache } from '@twinsync/sdk'
import { keptLister, plainLister, type FolderLister } from './kept-listings.js'
import { parseGroup, parsePasswd } from './accounts.js'

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
 * Session 22:
 * - a PAM service file that is a link (vsftpd's `pam_service_name=NAME` names /etc/pam.d/NAME, and
 *   guides keep that file with vsftpd's own and link it): read through the link, as PAM reads it;
 *   pam_pwdfile's older `pwdfile PATH` (two words);
 * - vsftpd's own: `email_password_file` (the passwords anonymous logins must give when
 *   `secure_email_list_enable=YES`; /etc/vsftpd.email_passwords unless named) and its TLS keys
 *   (`rsa_private_key_file`, `dsa_private_key_file`), in /etc/vsftpd.conf and
 *   /etc/vsftpd/vsftpd.conf. Its `user_config_dir` files are per-user settings, no credential;
 * - Cyrus SASL's `sasldb_path: PATH` (a password database of another name than sasldb2), in the
 *   SASL applications' configs: /etc/postfix/sasl/*.conf and /etc/sasl2/*.conf.
 * Session 29:
 * - systemd's `LoadCredential=ID:PATH` (and `LoadCredentialEncrypted=`) in a unit of
 *   /etc/systemd/system or a drop-in of it (`NAME.service.d/*.conf`): PATH is handed to the service
 *   as a credential whatever its name and content (`/etc/myapp/smtp.txt` holding `battery staple
 *   …`, world-readable, was mirrored); a folder's files all (`LoadCredential=s3:/etc/myapp/creds/`).
 *   A PATH without `/` is looked for in the credential stores (/etc/credstore…: path rules).
 * Session 30:
 * - systemd's `EnvironmentFile=` in those units and drop-ins: the service's environment, where its
 *   secrets go under whatever names it reads (`APP_DB_CONN=…`); each file of the line (`-` before
 *   one that may be missing), a specifier (`%i`…) standing for any name (`%E` for /etc). Vendor
 *   units' (/usr/lib/systemd/system: /etc/default/ssh…) are not read: those files are the packages'.
 * - stunnel's `PSKsecrets = FILE` (any case) in /etc/stunnel/*.conf: `IDENTITY:KEY` lines.
 * Session 31:
 * - rsync's daemon: `secrets file = PATH` in /etc/rsyncd.conf (`user:password` lines; only
 *   /etc/rsyncd.secrets was held, by its path);
 * - OpenSMTPD's credential tables: a `table NAME [file:|db:]PATH` that an `auth <NAME>` or
 *   `auth-optional <NAME>` uses (`label user:password` lines for a relay, `user hash` for
 *   users), in /etc/smtpd.conf and /etc/smtpd/smtpd.conf;
 * - a LUKS key file: /etc/crypttab's third field, a path on the root (not a device's, nor
 *   `/dev/urandom` for swap): a text passphrase file of any mode was mirrored;
 * - kube-apiserver's `--token-auth-file=` and `--basic-auth-file=` (`token,user,uid,"groups"`
 *   lines), in a kubelet's static pods (/etc/kubernetes/manifests), the files of /etc/kubernetes,
 *   k3s's and RKE2's config.yaml (`kube-apiserver-arg`) and the units above.
 * Session 32:
 * - the same two settings in user units: /etc/systemd/user (every user's manager reads it) and
 *   each selected user's ~/.config/systemd/user, with their drop-ins. A unit's specifiers stand
 *   for its manager's folders (systemd.unit(5)): for a user unit `%h` is the home (any home, /root
 *   or /home/*, in /etc/systemd/user), `%E` ~/.config, `%S` ~/.local/state, `%C` ~/.cache, `%L`
 *   ~/.local/state/log, `%t` /run/user/*; for a system unit `%h` /root, `%E` /etc, `%S` /var/lib,
 *   `%C` /var/cache, `%L` /var/log, `%t` /run (before, a path that began with one was dropped).
 * Session 33:
 * - a unit, a drop-in, a drop-in folder or the unit folder itself that is a link (GNU stow's
 *   dotfiles: `~/.config/systemd/user/foo.service -> ../../../dotfiles/systemd/foo.service`, or
 *   the whole `~/.config/systemd/user` folder a link) is read through, its link resolved a name at
 *   a time inside the root (throughLinks: at most 40 links, Linux's own bound, so a loop ends); a
 *   user's unit only when it ends in the same home (a link to /etc/shadow or to another user's
 *   file is not read: the snapshot runs as root), a system unit's (`systemctl link`) when it ends
 *   outside the vendor folders (/usr/lib/systemd, /lib/systemd: aliases) and is a file (not a
 *   mask's /dev/null). At most 256 KB of a unit read so. The real file is read as any file is
 *   (no link on the way: a link swapped in since is refused by the read).
 * - a named file that is a link, or lies below a folder link (stow's `~/.config/app/app.env`):
 *   the file it leads to is named too (namedThroughLinks), since that file is what the walk
 *   mirrors; looked up each collect, outside the cached list (a link moved without its config).
 * Session 38:
 * - a relative password-file word where cron or systemd make its folder certain: a crontab job's
 *   home (its HOME= line, else its user's home, `~USER` until /etc/passwd says: atHome), the
 *   folder a followed script or environment file is run from (a job's home, a unit's
 *   WorkingDirectory= or systemd's default, `/` or the user's home, `~` its User='s; run-parts' `/`), carried
 *   through the hops (Follow's `cwd`); the relative scripts a script runs or sources (`./up.sh`);
 * - computed variables: a crontab line's own (`F=/x; … "$F"`), a value of variables
 *   (`PASSFILE="$BASE/pw"`, substituted in turn), the script's own folder (`$(dirname "$0")`);
 * - anacron's jobs (/etc/anacrontab), read as a crontab's lines and their scripts followed;
 * - a third hop (MAX_HOPS); Kerberos keytabs (`KRB5_KTNAME=`, `KRB5_CLIENT_KTNAME=`), and the
 *   files of /etc/default read for them and every password-file word;
 * - a system unit's `%u`, `%U`, `%g`, `%G` (root, 0) and `%d` (its credentials folder).
 * Session 39:
 * - a unit read with its drop-ins as systemd reads them (unitsWithDropIns: a drop-in's
 *   `WorkingDirectory=` for the unit's relative word, the unit's for a drop-in's `ExecStart=`);
 * - a relative value of a variable an environment file sets (`PW=pw.txt`, `--password-file $PW`):
 *   the word goes with its program's folder (inFolderWord), resolved there (resolvedWords);
 * - Kerberos keytabs that krb5.conf, kdc.conf, sssd.conf and gssproxy's configs name (and the KDC's key stash);
 * - a crontab line's `cd $HOME/x`, `cd ~/x`, bare `cd` (the job's home, atHomeFolder) before a relative word, a word of
 *   the home (`$HOME/pw`, `~/pw`); `~USER/x` in any script; a script run relatively after a certain `cd`.
 * - a user unit's `%u`, `%U`, `%g`, `%G` (its home's account) and /etc/systemd/user's `%h` (a
 *   service account's home too), from /etc/passwd and /etc/group (UnitAccounts); its scripts followed from each
 *   folder it may run in (unitCwds).
 * Session 40:
 * - keytabs Apache (`GssapiCredStore`, `Krb5Keytab`; envvars' `KRB5_KTNAME=`), nginx
 *   (`auth_gss_keytab`) and Samba (`dedicated keytab file`…, with its password databases and
 *   private folder) name, also in the files their configs include (includeHops); a
 *   KDC's `database_name` and LDAP bind stash;
 * - a followed script's HOME (Follow.home): a crontab job's, a unit's (systemd's: its `User=`'s
 *   home, a home's unit's), for its `cd $HOME`, `cd ~`, `~/pw`.
 * Session 41:
 * - the web servers' other credential files: Apache's passphrase and LDAP bind password programs,
 *   mod_auth_gssapi's session key and delegated credentials, its ticket key and user files
 *   (APACHE_FILES); nginx's passphrase, user and ticket key files (NGINX_FILES);
 * - included configs wherever an administrator keeps them (INCLUDE_ROOTS: /srv, /opt… besides /etc);
 * - a unit of /etc/systemd/user's scripts with each account's HOME (sharedUnitHomes);
 * - Dovecot's passwd-files, PgBouncer's `auth_file`, Mosquitto's `psk_file` and `password_file`;
 * - XDG autostart entries' `Exec=` lines and scripts, with each HOME they start with (isAutostart);
 * - PostgreSQL's `krb_server_keyfile` and `ssl_passphrase_command`'s file or program (postgresNamed).
 * Session 42: Apache's `.htaccess` files under the folders its configs let them configure (webWalkRoots).
 * Each rule gives path patterns (a named path, and for pam_userdb `PATH.*` too), and a name for
 * messages that never holds a value.
 */
export interface NamingRule {
  /** What the named files are, for messages ("hostapd credential file"). */
  readonly rule: string
  /** Whether a machine path is one of this rule's configs. */
  isConfig(path: string): boolean
  /** The path patterns a config's text names (session 39: `accounts`, the machine's or twin's, for a user unit's specifiers). */
  named(config: string, text: string, accounts?: UnitAccounts): string[]
  /**
   * Files whose text is read in turn for the password files it points at (passwordFilesIn, session
   * 35): a unit's EnvironmentFile= and the scripts its Exec lines run, a crontab's scripts. Paths
   * without wildcards; at most MAX_FOLLOWED of them a collect, each at most MAX_FOLLOWED_BYTES.
   */
  follows?(config: string, text: string, accounts?: UnitAccounts): Follow[]
  /**
   * Session 36: the words its text leaves to an environment (`--password-file "$PASSFILE"` of a
   * variable an environment file sets) and the assignments it makes, resolved (resolvedWords) over
   * what it, the files it follows and the other configs set.
   */
  environment?(config: string, text: string, accounts?: UnitAccounts): { words: string[]; assigns: Array<[string, string]> }
  /**
   * Session 40: the configs its text includes (Apache's `Include`, nginx's `include`, Samba's
   * `include =`): path patterns under /etc, read with this rule's `named` and `includes` in turn
   * (includeHops), wherever they are.
   */
  includes?(config: string, text: string): string[]
  /** Session 42: the folders whose per-directory configs (Apache's `.htaccess`) are read, and their names (apacheWebRoots). */
  webRoots?(config: string, text: string): WebRoots
  /** The largest config of this rule read (a folder of scripts holds programs too: /usr/local/bin). */
  readonly maxBytes?: number
}

/** hostapd's configs: /etc/hostapd/NAME.conf (one level). */
const HOSTAPD = '/etc/hostapd'
const PAM = '/etc/pam.d'
const MONGO_CONFIGS = ['/etc/mongod.conf', '/etc/mongodb.conf']
const LIGHTTPD = ['/etc/lighttpd', '/etc/lighttpd/conf-available', '/etc/lighttpd/conf-enabled']
const VSFTPD_CONFIGS = ['/etc/vsftpd.conf', '/etc/vsftpd/vsftpd.conf']
const SASL = ['/etc/postfix/sasl', '/etc/sasl2']
const SYSTEMD = '/etc/systemd/system'
/** The user units every user's manager reads (session 32). */
const SYSTEMD_USER = '/etc/systemd/user'
/** A user's own units, under their home (session 32). */
const HOME_UNITS = '.config/systemd/user'
const STUNNEL = '/etc/stunnel'
/**
 * Session 41: Dovecot's configs (dovecot.conf, conf.d's *.conf and *.conf.ext: Debian's
 * auth-passwdfile.conf.ext), PgBouncer's pgbouncer.ini, Mosquitto's mosquitto.conf and conf.d.
 */
const DOVECOT = '/etc/dovecot'
const DOVECOT_FOLDER = '/etc/dovecot/conf.d'
const PGBOUNCER_CONFIGS = ['/etc/pgbouncer/pgbouncer.ini']
const MOSQUITTO_CONFIGS = ['/etc/mosquitto/mosquitto.conf']
const MOSQUITTO_FOLDER = '/etc/mosquitto/conf.d'
/** A Dovecot `passdb`/`userdb` block (2.3's `{ driver = passwd-file … }`, 2.4's `passdb passwd-file { … }`; no nested block). */
const DOVECOT_BLOCK = /(?:^|[\s{}])(?:passdb|userdb)\b(?<v>[^{}\n]{0,64}\{[^{}]*)\}/g
/** In such a block: 2.3's `args =` (its words that are paths: `scheme=CRYPT username_format=%u /etc/dovecot/users`), 2.4's `passwd_file_path =`. */
const DOVECOT_ARGS = /^[ \t]*(?:args|passwd_file_path)[ \t]*=(?<v>[^\n]*)/gm
/**
 * Session 41: PostgreSQL's clusters' configs, /etc/postgresql/VERSION/CLUSTER/postgresql.conf and
 * its conf.d/*.conf (Debian's layout; the folders found by listing, at most MAX_PG_FOLDERS of each level).
 * Session 42: Red Hat's, in the data folder: /var/lib/pgsql/data (the distribution's
 * postgresql-server) and /var/lib/pgsql/VERSION/data (PGDG's packages), postgresql.conf and
 * postgresql.auto.conf (ALTER SYSTEM's); and in either layout the files their `include`,
 * `include_if_exists` and `include_dir` name, and Debian's data folder's postgresql.auto.conf
 * (`data_directory`), read by the same rule (includeHops).
 */
const POSTGRES = '/etc/postgresql'
const PGSQL = '/var/lib/pgsql'
const MAX_PG_FOLDERS = 16
const isPostgresConfig = (path: string): boolean => /^\/etc\/postgresql\/[^/]+\/[^/]+\/(?:postgresql\.conf|conf\.d\/[^/]+\.conf)$/.test(path) || /^\/var\/lib\/pgsql\/(?:[^/]+\/)?data\/postgresql(?:\.auto)?\.conf$/.test(path)
/** A postgresql.conf line: a name, `=` or blanks, a quoted or bare value (`#` comments). */
const POSTGRES_SETTING = /^[ \t]*(?<k>ssl_passphrase_command|krb_server_keyfile|ssl_key_file|data_directory|include_dir|include_if_exists|include)[ \t]*(?:=[ \t]*)?(?:'(?<q>(?:[^'\n]|'')*)'|(?<v>[^\s#']+))/gm
/** A postgresql.conf's settings of POSTGRES_SETTING, each name's values in order. */
function postgresSettings(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const m of text.matchAll(POSTGRES_SETTING)) out.push([m.groups?.k ?? '', (m.groups?.q ?? m.groups?.v ?? '').replace(/''/g, "'")])
  return out
}
/** Where PostgreSQL takes a relative path of a setting from: its data folder (`data_directory`; Red Hat's config is in it). */
const postgresBase = (config: string, settings: ReadonlyArray<readonly [string, string]>): string => settings.find(([k, v]) => k === 'data_directory' && v.startsWith('/'))?.[1] ?? posix.dirname(config)
/**
 * What PostgreSQL's settings name (session 41): the keytab of `krb_server_keyfile` (of any name:
 * `*.keytab` is held by its name), and what `ssl_passphrase_command` reads the TLS key's passphrase
 * from: a file it `cat`s (`head`, `tail`, `<`), or its program (an administrator's: `followable`).
 * Session 42: the TLS key itself (`ssl_key_file`: one in DER or of another kind the detector does
 * not tell), a relative one (and a keytab's) from the data folder.
 */
function postgresNamed(config: string, text: string): string[] {
  const out: string[] = []
  const settings = postgresSettings(text)
  const base = postgresBase(config, settings)
  const file = (v: string): string | undefined => (v === '' || v.includes('%') ? undefined : asPattern(posix.resolve(base, v)))
  for (const [key, value] of settings) {
    if (key === 'krb_server_keyfile') {
      const path = keytabPath(value, false) ?? file(value.replace(/^(?:FILE|WRFILE):/, ''))
      if (path !== undefined) out.push(path)
    } else if (key === 'ssl_key_file') {
      const path = file(value)
      if (path !== undefined) out.push(path)
    } else if (key === 'ssl_passphrase_command') {
      const program = /^[ \t]*(?<p>\/[^\s;|&<>]+)/.exec(value)?.groups?.p
      if (program !== undefined && followable(posix.normalize(program))) out.push(asPattern(program))
      for (const f of value.matchAll(/(?:(?:^|[\s;|&])(?:cat|head|tail)(?:[ \t]+-[-\w=]+){0,3}[ \t]+|<[ \t]*)(?<f>\/[^\s;|&<>'"]+)/g)) out.push(asPattern(f.groups?.f ?? ''))
    }
  }
  return out
}

/**
 * The configs a postgresql.conf includes (session 42): `include` and `include_if_exists` (a file),
 * `include_dir` (its `*.conf`), relative to the including file's folder; and where Debian's config
 * says its data folder is, that folder's postgresql.auto.conf.
 */
function postgresIncludes(config: string, text: string): string[] {
  const out: string[] = []
  for (const [key, value] of postgresSettings(text).slice(0, MAX_INCLUDE_TRIES)) {
    if (value === '') continue
    const at = posix.resolve(posix.dirname(config), value)
    if (key === 'include' || key === 'include_if_exists') out.push(...includePattern(at))
    else if (key === 'include_dir') out.push(...includePattern(at).map((p) => `${p}/*.conf`))
    else if (key === 'data_directory' && value.startsWith('/') && config.startsWith(`${POSTGRES}/`)) out.push(...includePattern(`${at}/postgresql.auto.conf`))
  }
  return out
}

/**
 * The clusters' folders of /etc/postgresql (`VERSION/CLUSTER`), on the machine: two levels listed
 * when /etc/postgresql is a folder (a machine without PostgreSQL: one lstat).
 */
async function postgresFolders(host: Pick<HostPort, 'lstat' | 'readdir'>): Promise<string[]> {
  if ((await host.lstat(POSTGRES).catch(() => undefined))?.type !== 'directory') return []
  const out: string[] = []
  const dirs = async (folder: string) => (await host.readdir(folder).catch(() => [])).filter((e) => e.type === 'directory').map((e) => e.name).sort().slice(0, MAX_PG_FOLDERS)
  for (const version of await dirs(POSTGRES)) for (const cluster of await dirs(`${POSTGRES}/${version}`)) out.push(`${POSTGRES}/${version}/${cluster}`)
  return out
}

/**
 * Session 42: Red Hat's data folders, on the machine: /var/lib/pgsql/data and each
 * /var/lib/pgsql/VERSION/data (one level listed, MAX_PG_FOLDERS at most; a machine without it: one lstat).
 */
async function pgsqlDataFolders(host: Pick<HostPort, 'lstat' | 'readdir'>): Promise<string[]> {
  if ((await host.lstat(PGSQL).catch(() => undefined))?.type !== 'directory') return []
  const names = (await host.readdir(PGSQL).catch(() => [])).filter((e) => e.type === 'directory').map((e) => e.name).sort()
  const out = names.includes('data') ? [`${PGSQL}/data`] : []
  for (const name of names.filter((n) => n !== 'data').slice(0, MAX_PG_FOLDERS)) {
    if ((await host.lstat(`${PGSQL}/${name}/data`).catch(() => undefined))?.type === 'directory') out.push(`${PGSQL}/${name}/data`)
  }
  return out
}

/** PgBouncer's `auth_file = PATH` (an ini: `;`/`#` comments), Mosquitto's `psk_file PATH`, `password_file PATH`: a value's first word. */
const PGBOUNCER_AUTH_FILE = /^[ \t]*auth_file[ \t]*=[ \t]*(?<v>[^\s;#]+)/gm
const MOSQUITTO_FILES = /^[ \t]*(?:psk_file|password_file)[ \t]+(?<v>[^\s#]+)/gm
/** Dovecot's `%u`, `%d`, `%{user}` and the like in a path: any name. */
const dovecotPath = (word: string): string | undefined => {
  const w = unquoted(word)
  return w.startsWith('/') ? posix.normalize(w.replace(/\*/g, '?').replace(/%\{[^}\s]*\}|%[A-Za-z%]/g, '*')) : undefined
}
const RSYNCD_CONFIGS = ['/etc/rsyncd.conf']
const SMTPD_CONFIGS = ['/etc/smtpd.conf', '/etc/smtpd/smtpd.conf']
const CRYPTTAB = '/etc/crypttab'
const KUBERNETES = ['/etc/kubernetes', '/etc/kubernetes/manifests']
const KUBE_CONFIGS = ['/etc/rancher/k3s/config.yaml', '/etc/rancher/rke2/config.yaml', '/etc/default/kube-apiserver']
/** Zabbix's configs: the agent's, agent 2's, the server's and the proxy's *.conf, and the folders they Include= (Debian's, upstream's). Session 36. */
/** chrony's and ntpd's (NTPsec's) configs: `keyfile`/`keys` name their symmetric keys' file (session 36). */
const NTP_CONFIGS = ['/etc/chrony/chrony.conf', '/etc/chrony.conf', '/etc/ntpsec/ntp.conf', '/etc/ntp.conf']
const NTP_FOLDERS = ['/etc/chrony/conf.d', '/etc/chrony/sources.d', '/etc/ntpsec/ntp.d']
const ZABBIX = '/etc/zabbix'
/**
 * Session 39: Kerberos' configs that name keytabs (and a KDC's master key stash): MIT's krb5.conf
 * and its includedir's files, the KDC's kdc.conf, SSSD's sssd.conf and conf.d/*.conf, gssproxy's
 * gssproxy.conf and its folder's *.conf.
 */
const KRB5_CONFIGS = ['/etc/krb5.conf', '/etc/krb5kdc/kdc.conf']
const KRB5_FOLDER = '/etc/krb5.conf.d'
const SSSD_CONFIGS = ['/etc/sssd/sssd.conf']
const SSSD_FOLDER = '/etc/sssd/conf.d'
const GSSPROXY = '/etc/gssproxy'
/**
 * The settings each kind of them names a keytab (or key stash) by. Session 40: the KDC's database
 * (`database_name`, its `.ok`/`.kadm5` files beside it: keys under the master key, which a master
 * password makes) and the LDAP back end's bind password stash (`ldap_service_password_file`).
 */
const KEYTAB_SETTINGS = {
  krb5: new Set(['default_keytab_name', 'default_client_keytab_name', 'key_stash_file', 'admin_keytab', 'database_name', 'ldap_service_password_file']),
  sssd: new Set(['krb5_keytab', 'ldap_krb5_keytab']),
  gssproxy: new Set(['keytab', 'cred_store']),
} as const
const keytabKind = (path: string): keyof typeof KEYTAB_SETTINGS | undefined =>
  KRB5_CONFIGS.includes(path) || inFolder(KRB5_FOLDER, path) ? 'krb5' : SSSD_CONFIGS.includes(path) || (inFolder(SSSD_FOLDER, path) && path.endsWith('.conf')) ? 'sssd' : inFolder(GSSPROXY, path) && path.endsWith('.conf') ? 'gssproxy' : undefined
/** A `NAME = VALUE` line's name and first word (krb5.conf's, sssd.conf's, gssproxy's; `#`/`;` comments start their lines). */
const SETTING_LINE = /^[ \t]*(?<k>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*["']?(?<v>[^\s"'#;]+)/gm

/**
 * The keytab (or credential cache) a setting's value names, as a path pattern (session 39):
 * `FILE:`/`WRFILE:` or a path; gssproxy's `cred_store = keytab:PATH`, `client_keytab:PATH`,
 * `ccache:FILE:PATH`; MIT's `%{euid}`-like tokens and gssproxy's `%U` for any name. Not a
 * `MEMORY:`, `KEYRING:`, `KCM:` one, nor a relative path.
 */
function keytabPath(value: string, store: boolean): string | undefined {
  let v = value
  if (store) {
    const cut = /^(?:keytab|client_keytab|ccache):/.exec(v)
    if (cut === null) return undefined
    v = v.slice(cut[0].length)
  }
  v = v.replace(/^(?:FILE|WRFILE):/, '')
  if (!v.startsWith('/')) return undefined
  return posix.normalize(v.replace(/\*/g, '?').replace(/%\{[A-Za-z_]*\}|%[A-Za-z]/g, '*'))
}

/**
 * Session 40: the web servers' and Samba's configs that name keytabs: Apache's (Debian's
 * apache2.conf, ports.conf and its conf-, sites- and mods- folders; Red Hat's httpd.conf,
 * conf.d and conf.modules.d), nginx's (nginx.conf, conf.d, sites-, snippets) and Samba's
 * (/etc/samba's *.conf). Each also read in the files it includes (INCLUDE_ROOTS, includeHops).
 */
const APACHE_CONFIGS = ['/etc/apache2/apache2.conf', '/etc/apache2/ports.conf', '/etc/httpd/conf/httpd.conf']
const APACHE_FOLDERS = [...['conf-available', 'conf-enabled', 'sites-available', 'sites-enabled', 'mods-available', 'mods-enabled', 'conf.d'].map((f) => `/etc/apache2/${f}`), '/etc/httpd/conf.d', '/etc/httpd/conf.modules.d']
const NGINX_CONFIGS = ['/etc/nginx/nginx.conf']
const NGINX_FOLDERS = ['conf.d', 'sites-available', 'sites-enabled', 'snippets'].map((f) => `/etc/nginx/${f}`)
const SAMBA = '/etc/samba'
/** Apache's environment (apache2ctl sources it): `export KRB5_KTNAME=…`, read by the password-file rule. */
const APACHE_ENVVARS = '/etc/apache2/envvars'
const isApacheConfig = (path: string) => APACHE_CONFIGS.includes(path) || APACHE_FOLDERS.some((folder) => inFolder(folder, path))
const isNginxConfig = (path: string) => NGINX_CONFIGS.includes(path) || NGINX_FOLDERS.some((folder) => inFolder(folder, path))
const isSambaConfig = (path: string) => inFolder(SAMBA, path) && path.endsWith('.conf')

/**
 * Where an included config is read (session 40: /etc only), as deep as MAX_INCLUDE_HOPS, at most
 * MAX_INCLUDED a collect or push. Session 41: also where sites keep their own configs (`Include
 * /srv/www/intranet/auth.conf`, `include /opt/app/nginx.conf;`): the folders an administrator's
 * files are in (the followed scripts' roots, and /var/www), each where it leads (links resolved).
 */
const INCLUDE_ROOTS = ['/etc/', '/srv/', '/opt/', '/var/www/', '/var/lib/', '/usr/local/', '/home/', '/root/', '/data/']
/** Whether an included config at this path (links resolved) is read. */
export const isIncludable = (path: string): boolean => INCLUDE_ROOTS.some((r) => path.startsWith(r))
const MAX_INCLUDE_HOPS = 3
const MAX_INCLUDED = 200
/** The most included paths looked up in all (a missing one too: 100,000 `Include /etc/x/N.conf` lines of a hostile config cost 1,000 look-ups). */
const MAX_INCLUDE_TRIES = 1000
/**
 * The distinct values of group `v` of `pattern`'s matches, at most `max` (a hostile config of
 * 1,600,000 `PATH:…` list items took 3.6 s to turn each into a pattern, the same value each time;
 * includeHops looks up MAX_INCLUDE_TRIES at most, so no more includes are taken of one config).
 */
function valuesIn(text: string, pattern: RegExp, max = Number.POSITIVE_INFINITY): string[] {
  const out = new Set<string>()
  for (const m of text.matchAll(pattern)) {
    out.add(m.groups?.v ?? '')
    if (out.size >= max) break
  }
  return [...out]
}

/** An included path as a pattern: absolute, normalized, under INCLUDE_ROOTS (or none). */
const includePattern = (path: string): string[] => {
  const p = posix.normalize(path)
  return isIncludable(p) && !p.includes('[') ? [p] : []
}

/** Apache's keytab directives (names in any case): mod_auth_gssapi's `GssapiCredStore keytab:…`, `client_keytab:…`, `ccache:FILE:…`; mod_auth_kerb's `Krb5Keytab`, `Krb4Srvtab`. */
const APACHE_KEYTAB = /^[ \t]*(?<k>GssapiCredStore|Krb5Keytab|Krb4Srvtab)[ \t]+["']?(?<v>[^\s"']+)/gim
/**
 * Session 41: Apache's other credential files (names in any case): the program that prints a TLS
 * key's passphrase (mod_ssl's `SSLPassPhraseDialog exec:PATH` or `|PATH`) or an LDAP bind password
 * (mod_authnz_ldap's `AuthLDAPBindPassword exec:PATH`), mod_auth_gssapi's session key
 * (`GssapiSessionKey file:PATH`) and delegated credentials' folder (`GssapiDelegCcacheDir`),
 * mod_ssl's session ticket key (`SSLSessionTicketKeyFile`), and the password files of basic and
 * digest authentication (`AuthUserFile`, `AuthDigestFile`, `AuthDBMUserFile`: a DBM's `.db`,
 * `.pag`, `.dir` beside its name). Not `AuthGroupFile` (names of groups' users, no credential).
 */
const APACHE_FILES = /^[ \t]*(?<k>SSLPassPhraseDialog|AuthLDAPBindPassword|GssapiSessionKey|GssapiDelegCcacheDir|SSLSessionTicketKeyFile|AuthUserFile|AuthDigestFile|AuthDBMUserFile)[ \t]+["']?(?<v>[^\s"']+)/gim
/** Apache's `Include`, `IncludeOptional` (a path relative to ServerRoot; wildcards). */
const APACHE_INCLUDE = /^[ \t]*Include(?:Optional)?[ \t]+["']?(?<v>[^\s"']+)/gim
/** nginx's spnego module's `auth_gss_keytab`, and `include` (relative to /etc/nginx; wildcards), after a line's start, `;`, `{` or `}`. */
const NGINX_KEYTAB = /(?:^|[;{}])[ \t]*auth_gss_keytab[ \t]+["']?(?<v>[^\s"';{}]+)/gm
const NGINX_INCLUDE = /(?:^|[;{}])[ \t]*include[ \t]+["']?(?<v>[^\s"';{}]+)/gm
/**
 * Session 41: nginx's other credential files: a TLS key's passphrases (`ssl_password_file`, the
 * proxied, gRPC and uwsgi upstreams' `proxy_ssl_password_file`…: a passphrase a line, of any
 * shape), basic authentication's users (`auth_basic_user_file`) and the session ticket keys
 * (`ssl_session_ticket_key`); a relative one from /etc/nginx, not one of a variable.
 */
const NGINX_FILES = /(?:^|[;{}])[ \t]*(?:(?:proxy|grpc|uwsgi)_)?(?:ssl_password_file|auth_basic_user_file|ssl_session_ticket_key)[ \t]+["']?(?<v>[^\s"';{}]+)/gm
/** nginx's credential files (NGINX_KEYTAB, NGINX_FILES) a config names. */
const nginxNamed = (text: string): string[] => {
  const lines = withoutHashComments(text)
  return [...valuesIn(lines, NGINX_KEYTAB).flatMap((v) => keytabPath(v, false) ?? []), ...valuesIn(lines, NGINX_FILES).flatMap((v) => (v.includes('$') ? [] : [posix.resolve('/etc/nginx', v).replace(/\*/g, '?')]))]
}
/** nginx's comments: `#` at a line's start or after a blank, `;`, `{`, `}`, to the line's end (blanked, positions kept). */
const withoutHashComments = (text: string) => (text.includes('#') ? text.replace(/(?<=^|[ \t;{}])#[^\n]*/gm, (c) => ' '.repeat(c.length)) : text)
/** A Samba line: its name (to the first `=`; case and blanks in it insignificant, smb.conf(5)) and value. */
const SAMBA_LINE = /^[ \t]*(?<k>[A-Za-z][^=\r\n]*)=(?<v>[^\r\n]*)/gm
/** Samba's substitutions in a path (`%m`, `%U`, `%$(VAR)`): any name. */
const sambaPath = (value: string): string | undefined => {
  const v = unquoted(value.trim()).replace(/%\$\([^)\s]*\)|%[A-Za-z$]/g, '%m')
  return keytabPath(v, false)
}

/** The keytabs an Apache config names (session 40); session 41: its other credential files (APACHE_FILES), relative ones from ServerRoot. */
function apacheKeytabs(config: string, text: string): string[] {
  const values = new Set<string>()
  for (const m of text.matchAll(APACHE_KEYTAB)) values.add(`${(m.groups?.k ?? '').toLowerCase() === 'gssapicredstore' ? 's' : 'k'}${m.groups?.v ?? ''}`)
  const out = [...values].flatMap((v) => keytabPath(v.slice(1), v.startsWith('s')) ?? [])
  const files = new Set<string>()
  for (const m of text.matchAll(APACHE_FILES)) files.add(`${(m.groups?.k ?? '').toLowerCase()}\0${m.groups?.v ?? ''}`)
  for (const each of files) {
    const [key, value] = each.split('\0') as [string, string]
    const path = (v: string) => (v === '' || v.includes('$') ? undefined : posix.resolve(apacheRoot(config), v).replace(/\*/g, '?'))
    if (key === 'sslpassphrasedialog' || key === 'authldapbindpassword') {
      // A program of the administrator's (Debian's own `exec:/usr/share/apache2/ask-for-passphrase` asks at the console).
      const program = /^(?:exec:|\|)(?<p>\/.*)$/.exec(value)?.groups?.p
      if (program !== undefined && followable(posix.normalize(program))) out.push(asPattern(program))
    } else if (key === 'gssapisessionkey') {
      const file = /^file:(?<p>.+)$/.exec(value)?.groups?.p
      const at = file === undefined ? undefined : path(file)
      if (at !== undefined) out.push(at)
    } else {
      const at = path(value)
      if (at === undefined || at === '/') continue
      out.push(at)
      if (key === 'gssapidelegccachedir') out.push(`${at}/**`)
      if (key === 'authdbmuserfile') out.push(`${at}.*`)
    }
  }
  return out
}

/** Apache's ServerRoot for a config (relative includes): Red Hat's /etc/httpd, else Debian's /etc/apache2. */
const apacheRoot = (config: string) => (config.startsWith('/etc/httpd/') ? '/etc/httpd' : '/etc/apache2')

/**
 * Session 42: what an Apache config says of its per-directory configs (`.htaccess`): the folders
 * of its `<Directory PATH>` sections that let them say anything (`AllowOverride` or
 * `AllowOverrideList` other than `None`: `AuthConfig` lets one name `AuthUserFile`,
 * `AuthDBMUserFile`, `GssapiCredStore keytab:`…), its `DocumentRoot`s and (session 43) the
 * folders its `Alias` and `ScriptAlias` lines serve, and the names `AccessFileName` gives them. Relative paths from ServerRoot; a path with a variable or a `[` is
 * passed over. A regular expression's section (`<Directory ~ …>`, `<DirectoryMatch>`) is not read:
 * Apache takes `AllowOverride` from `<Directory>` sections without one only (its documentation
 * says so; httpd's ap_directory_walk reads each folder's `.htaccess` with what those sections
 * allow, and merges the regular expressions' sections after the walk), so none of its folders'
 * `.htaccess` files is read for it (session 43). Which of these folders are walked: webWalkRoots.
 */
export interface WebRoots {
  readonly dirs: string[]
  /** The folders it serves: its `DocumentRoot`s and, since session 43, what its `Alias` and `ScriptAlias` lines map a URL to. */
  readonly docroots: string[]
  readonly names: string[]
}
const APACHE_DIRECTORY = /^[ \t]*<Directory[ \t]+(?:"(?<q>[^"\n]*)"|(?<v>[^\s>"]+))[ \t]*>/i
const APACHE_DIRECTORY_END = /^[ \t]*<\/Directory[ \t]*>/i
const APACHE_OVERRIDE = /^[ \t]*AllowOverride(?:List)?[ \t]+(?<v>[^\s#]+)/i
const APACHE_DOCUMENT_ROOT = /^[ \t]*DocumentRoot[ \t]+(?:"(?<q>[^"\n]*)"|(?<v>[^\s"]+))/i
/** `Alias URL PATH`, `ScriptAlias URL PATH`, and the one-argument form inside a `<Location>`: the PATH (session 43). */
const APACHE_ALIAS = /^[ \t]*(?:Script)?Alias[ \t]+(?:(?:"[^"\n]*"|[^\s"]+)[ \t]+)?(?:"(?<q>[^"\n]*)"|(?<v>[^\s"#]+))/i
const APACHE_ACCESS_NAME = /^[ \t]*AccessFileName[ \t]+(?<v>[^\n#]*)/i
/** At most this many folders, document roots and names an Apache config gives (a hostile config of 100,000 sections). */
const MAX_WEB_ROOTS = 64
/** The per-directory configs' name when no config gives one (Apache's default). */
const ACCESS_FILE_NAME = '.htaccess'

export function apacheWebRoots(config: string, text: string): WebRoots {
  const dirs = new Set<string>()
  const docroots = new Set<string>()
  const names = new Set<string>()
  if (!/AllowOverride|DocumentRoot|AccessFileName|Alias/i.test(text)) return { dirs: [], docroots: [], names: [] }
  const path = (v: string): string | undefined => {
    if (v === '' || v === '~' || /[$\[]/.test(v)) return undefined
    const p = posix.resolve(apacheRoot(config), v)
    return p === '/' ? p : p.replace(/\/+$/, '')
  }
  let dir: string | undefined
  for (const line of text.split('\n')) {
    if (!/^[ \t]*[<ADSads]/.test(line)) continue
    const open = APACHE_DIRECTORY.exec(line)
    if (open !== null) {
      dir = path(open.groups?.q ?? open.groups?.v ?? '')
      continue
    }
    if (APACHE_DIRECTORY_END.test(line)) {
      dir = undefined
      continue
    }
    const override = APACHE_OVERRIDE.exec(line)
    if (override !== null) {
      if (dir !== undefined && (override.groups?.v ?? '').toLowerCase() !== 'none' && dirs.size < MAX_WEB_ROOTS) dirs.add(dir)
      continue
    }
    const root = APACHE_DOCUMENT_ROOT.exec(line) ?? APACHE_ALIAS.exec(line)
    if (root !== null) {
      const at = path(root.groups?.q ?? root.groups?.v ?? '')
      if (at !== undefined && docroots.size < MAX_WEB_ROOTS) docroots.add(at)
      continue
    }
    const access = APACHE_ACCESS_NAME.exec(line)
    for (const name of (access?.groups?.v ?? '').split(/[ \t]+/)) {
      const n = unquoted(name)
      if (n !== '' && n !== '.' && n !== '..' && !n.includes('/') && names.size < 4) names.add(n)
    }
  }
  return { dirs: [...dirs], docroots: [...docroots], names: [...names] }
}

/**
 * The folders whose per-directory configs are read (session 42), from every Apache config's
 * WebRoots (its own and those it includes): each `<Directory>` folder that lets them say
 * anything, where it is one of INCLUDE_ROOTS' (not `/`, `/var`, `/srv` itself), and each
 * `DocumentRoot` below (or at) such a folder, wherever that folder is (`<Directory /srv>` with
 * `DocumentRoot /srv/www/intranet`), and each `Alias` target likewise (session 43: `<Directory
 * /var/www/>` with `Alias /app /var/www/app` walked nothing); a folder below another taken once. Apache reads none where
 * `AllowOverride` is `None` (its default since 2.3.9, Debian's for /var/www): a stock layout
 * walks nothing. A `<Directory>` inside one that lets them say anything and says `None` is not
 * told apart: what its `.htaccess` names is a credential file all the same, and the `None` may not
 * hold for every request (a `<Directory>` inside one `<VirtualHost>` is that site's alone; a
 * deeper one may allow them again), so the walk reads more than Apache, the safe side (session
 * 43). The names: those `AccessFileName` gives, else `.htaccess`.
 */
export function webWalkRoots(all: readonly WebRoots[]): { roots: string[]; names: string[] } {
  const dirs = [...new Set(all.flatMap((w) => w.dirs))]
  const below = dirs.map((d) => new RegExp(`^${d === '/' ? '' : d.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(?:/|$)`))
  const roots = new Set(dirs.filter((d) => isIncludable(d)))
  for (const root of new Set(all.flatMap((w) => w.docroots))) if (isIncludable(root) && below.some((b) => b.test(root))) roots.add(root)
  const sorted = [...roots].sort()
  const kept = sorted.filter((r) => !sorted.some((o) => o !== r && !/[*?]/.test(o) && r.startsWith(`${o}/`)))
  const names = [...new Set(all.flatMap((w) => w.names))]
  return { roots: kept.slice(0, MAX_WEB_ROOTS), names: names.length === 0 ? [ACCESS_FILE_NAME] : names.slice(0, 4) }
}

/** The web servers' rule's name (Apache's, nginx's: what a per-directory config names is held by it too). */
export const WEB_SERVER_RULE = 'web server credential file'

/** How deep below a walked folder, how many folders in all and how many per-directory configs a collect or push reads (session 42). */
export const WEB_LIMITS = { depth: 8, folders: 256, files: 64 } as const

/**
 * The credential files a per-directory config names (session 42): APACHE_FILES' and
 * APACHE_KEYTAB's (`AuthUserFile`, `AuthDigestFile`, `AuthDBMUserFile`, `GssapiCredStore`…), a
 * relative one from either ServerRoot (which server's folder it is is not known here).
 */
export const accessFileNamed = (text: string): string[] => [...new Set([...apacheKeytabs('/etc/apache2/.htaccess', text), ...apacheKeytabs('/etc/httpd/.htaccess', text)])]

/**
 * The settings of Samba's smb.conf (and the files it includes) that name credentials (session
 * 40): its Kerberos keytab (`dedicated keytab file`, with `kerberos method = dedicated keytab`;
 * Samba 4.21's `sync machine password to keytab` list, each `PATH:…`), its password databases
 * (`smb passwd file`, `passdb backend = smbpasswd:PATH` or `tdbsam:PATH`: NT hashes, a password's
 * equal) and its private folder (`private dir`: secrets.tdb holds the machine account's password).
 */
function sambaNamed(text: string): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  for (const m of text.matchAll(SAMBA_LINE)) {
    const key = (m.groups?.k ?? '').replace(/[ \t]/g, '').toLowerCase()
    const value = m.groups?.v ?? ''
    if (!SAMBA_NAMING.has(key) || seen.has(`${key}=${value}`)) continue
    seen.add(`${key}=${value}`)
    if (key === 'dedicatedkeytabfile' || key === 'smbpasswdfile') {
      const path = sambaPath(value)
      if (path !== undefined) out.push(path)
    } else if (key === 'syncmachinepasswordtokeytab') {
      for (const spec of new Set(value.split(/[,\s]+/))) {
        const path = sambaPath(spec.split(':', 1)[0] ?? '')
        if (path !== undefined) out.push(path)
      }
    } else if (key === 'passdbbackend') {
      for (const b of value.matchAll(/\b(?:smbpasswd|tdbsam):(?<p>\/[^\s,"']+)/g)) {
        const path = sambaPath(b.groups?.p ?? '')
        if (path !== undefined) out.push(path)
      }
    } else if (key === 'privatedir') {
      const path = sambaPath(value)
      if (path !== undefined && path !== '/') out.push(path, `${path}/**`)
    }
  }
  return [...new Set(out)]
}
const SAMBA_NAMING = new Set(['dedicatedkeytabfile', 'smbpasswdfile', 'syncmachinepasswordtokeytab', 'passdbbackend', 'privatedir'])

/** The files a Samba config includes (`include = PATH`, `config file = PATH`; absolute, a substitution for any name). */
function sambaIncludes(text: string): string[] {
  const values = new Set<string>()
  for (const m of text.matchAll(SAMBA_LINE)) {
    const key = (m.groups?.k ?? '').replace(/[ \t]/g, '').toLowerCase()
    if (key === 'include' || key === 'configfile') values.add(m.groups?.v ?? '')
    if (values.size >= MAX_INCLUDE_TRIES) break
  }
  return [...values].flatMap((v) => includePattern(sambaPath(v) ?? ''))
}

const ZABBIX_FOLDERS = [ZABBIX, ...['zabbix_agentd.d', 'zabbix_agentd.conf.d', 'zabbix_agent2.d', 'zabbix_agent2.d/plugins.d', 'zabbix_server.conf.d', 'zabbix_proxy.conf.d'].map((f) => `${ZABBIX}/${f}`)]

/** The units' rule's name. */
const SYSTEMD_RULE = 'systemd credential file'

/** kube-apiserver's flags that name a file of credentials, in any text that passes its flags (`--token-auth-file=PATH`, k3s's `- token-auth-file=PATH`). */
function kubeAuthFiles(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/(?:^|[\s"'=,-])(?:token|basic)-auth-file[ \t]*[= \t][ \t]*["']?(?<f>\/[^\s"',]+)/gm)) {
    const file = m.groups?.f
    if (file !== undefined) out.push(posix.normalize(file).replace(/\*/g, '?'))
  }
  return out
}
/** A folder of units the naming rule reads: the system's, the users' shared one, a user's own (HOME/.config/systemd/user). */
export const isUnitFolder = (folder: string) => folder === SYSTEMD || folder === SYSTEMD_USER || folder.endsWith(`/${HOME_UNITS}`)
/** A unit's drop-in folder (`NAME.service.d`) of one of those. */
const isDropInFolder = (folder: string) => isUnitFolder(posix.dirname(folder)) && folder.endsWith('.service.d')
/** A user unit or a drop-in of one (/etc/systemd/user's, a home's). */
export const isUserUnit = (config: string): boolean => {
  const folder = posix.dirname(config).endsWith('.service.d') ? posix.dirname(posix.dirname(config)) : posix.dirname(config)
  return isUnitFolder(folder) && folder !== SYSTEMD && (config.endsWith('.service') || config.endsWith('.conf'))
}

/**
 * Session 41: XDG autostart entries, started by each user's desktop session at login:
 * /etc/xdg/autostart's for every user, a home's ~/.config/autostart's for its own. Their `Exec=`
 * lines point at password files as a unit's do (`sh -c "restic --password-file ~/.config/restic/key …"`:
 * ~/.config is in the default include set, and such a file of words was mirrored).
 */
const AUTOSTART = '/etc/xdg/autostart'
const HOME_AUTOSTART = '.config/autostart'
const isAutostart = (path: string): boolean => path.endsWith('.desktop') && (inFolder(AUTOSTART, path) || posix.dirname(path).endsWith(`/${HOME_AUTOSTART}`))
/** Whether a config's rule reads the accounts (/etc/passwd, /etc/group): a user unit's specifiers, a shared unit's or autostart entry's homes. */
export const readsAccounts = (config: string): boolean => isUserUnit(config) || isAutostart(config)
/** The homes an autostart entry runs with: its own home's, or (/etc/xdg/autostart) every account's (sharedUnitHomes). */
const autostartHomes = (config: string, accounts?: UnitAccounts): string[] => (inFolder(AUTOSTART, config) ? sharedUnitHomes(accounts) : [homePattern(posix.dirname(posix.dirname(posix.dirname(config))))])
/** An entry's `Exec=` lines (its actions' too) as one text, a line each; its `Path=` (the folder it runs in), if any. */
function desktopExec(text: string): { exec: string; folder?: string } {
  const lines: string[] = []
  let folder: string | undefined
  for (const m of text.matchAll(/^[ \t]*(?<k>Exec|Path)[ \t]*=[ \t]*(?<v>[^\r\n]*)/gm)) {
    if (m.groups?.k === 'Exec') lines.push(m.groups.v ?? '')
    else if (m.groups?.v?.startsWith('/') === true) folder = posix.normalize(m.groups.v)
  }
  return { exec: lines.join('\n'), ...(folder === undefined ? {} : { folder }) }
}

/**
 * What a system unit's specifiers stand for in a path (systemd.unit(5)); any other one for any name. Session 36: `%T`, `%V`.
 * Session 38: the user and group running the manager, `%u`/`%U`/`%g`/`%G` (root and 0 for the system's, whatever User= says).
 */
const SYSTEM_SPECIFIERS: Readonly<Record<string, string>> = { '%': '%', E: '/etc', h: '/root', S: '/var/lib', C: '/var/cache', L: '/var/log', t: '/run', T: '/tmp', V: '/var/tmp', u: 'root', U: '0', g: 'root', G: '0' }

/**
 * The specifiers a unit's own name makes certain (session 36, systemd.unit(5)): `%n` (its full
 * name), `%N` (without the suffix), `%p` (the prefix, before a template's `@`), `%j` (the prefix's
 * last `-` part); for the unit's own file (not a drop-in: the drop-in's unit's file may be a
 * vendor's) `%y` (its path) and `%Y` (its folder). A template's or drop-in's instance stands for
 * any name (`*`). `%P`, `%J`, `%f` (unescaped) only where the name has no `-` or `\`.
 */
function nameSpecifiers(config: string): Record<string, string> {
  const dropIn = posix.dirname(config).endsWith('.service.d')
  const unit = dropIn ? posix.basename(posix.dirname(config)).slice(0, -2) : posix.basename(config)
  const stem = unit.replace(/\.service$/, '')
  const at = stem.indexOf('@')
  const prefix = at < 0 ? stem : stem.slice(0, at)
  const instance = at < 0 ? '' : stem.slice(at + 1) === '' ? '*' : stem.slice(at + 1)
  const name = at < 0 ? stem : `${prefix}@${instance}`
  const out: Record<string, string> = { n: `${name}.service`, N: name, p: prefix, j: prefix.slice(prefix.lastIndexOf('-') + 1) }
  if (!/[-\\]/.test(prefix)) Object.assign(out, { P: prefix, J: prefix })
  if (at < 0 && !/[-\\]/.test(prefix)) out.f = `/${prefix}`
  if (!dropIn) Object.assign(out, { y: config, Y: posix.dirname(config) })
  return out
}

/**
 * The path patterns a path a unit names stands for (a literal `*` held out as `?`, as resolved;
 * quotes and a leading `-` dropped): its specifiers replaced by what they stand for in the unit's
 * manager, the system's or a user's (each home the unit may be one of). Only absolute ones.
 */
function unitPaths(config: string, word: string, accounts?: UnitAccounts): string[] {
  const file = unquoted(word).replace(/^-/, '').replace(/\*/g, '?')
  const maps = specifierMaps(config, accounts)
  // A `~USER/…` (a folder of WorkingDirectory=~, unitFolder) is kept for atHome.
  const paths = maps.map((map) => file.replace(/%(.)/g, (_, c: string) => map[c] ?? '*')).map((p) => (p.startsWith('/') || /^~[^/]+\//.test(p) ? posix.normalize(p).replace(/(?<=.)\/+$/, '') : undefined))
  return [...new Set(paths.filter((p): p is string => p !== undefined))]
}

/** The last config's specifier maps (a unit's every path word asks for the same ones; session 39: made once a unit, not once a word). */
let lastMaps: { config: string; accounts: UnitAccounts | undefined; maps: ReadonlyArray<Readonly<Record<string, string>>> } | undefined

/** What a unit's specifiers stand for in its manager: the system's one map, or one for each home a user unit may be in. */
function specifierMaps(config: string, accounts?: UnitAccounts): ReadonlyArray<Readonly<Record<string, string>>> {
  if (lastMaps?.config === config && lastMaps.accounts === accounts) return lastMaps.maps
  const folder = posix.dirname(config).endsWith('.service.d') ? posix.dirname(posix.dirname(config)) : posix.dirname(config)
  const homes = folder === SYSTEMD ? [] : folder === SYSTEMD_USER ? userManagerHomes(accounts) : [folder.slice(0, -HOME_UNITS.length - 1).replace(/\*/g, '?')]
  const named = nameSpecifiers(config)
  // Session 38: `%d`, the service's credentials folder (`$CREDENTIALS_DIRECTORY`: /run/credentials/NAME, a user's under its runtime folder).
  // Session 39: a user unit's `%u`, `%U`, `%g`, `%G`, the account whose home it is (any name where none is known: `*`).
  const maps = folder === SYSTEMD ? [{ ...named, ...SYSTEM_SPECIFIERS, d: `/run/credentials/${named.n}` }] : homes.map((h): Record<string, string> => ({ ...named, ...accountSpecifiers(h, accounts), '%': '%', h, E: `${h}/.config`, S: `${h}/.local/state`, C: `${h}/.cache`, L: `${h}/.local/state/log`, t: '/run/user/*', T: '/tmp', V: '/var/tmp', d: `/run/user/*/credentials/${named.n}` }))
  lastMaps = { config, accounts, maps }
  return maps
}

/**
 * Session 39: the accounts a user unit's specifiers stand for, from the machine's or a pushed
 * twin's /etc/passwd and /etc/group: `%u`, `%U`, `%g`, `%G` of a home's unit (before, any name:
 * a `WorkingDirectory=/srv/%u` was no one folder, its script's relative words left), and the
 * homes of /etc/systemd/user's units (every account's manager reads them; before, /root and
 * /home/* only: a service account's home under /srv or /var/lib was not one).
 */
export interface UnitAccounts {
  /** Each home's account's specifiers (the first account of a home, as the passwd lines go). */
  readonly byHome: ReadonlyMap<string, Readonly<Record<string, string>>>
  /** The homes a unit of /etc/systemd/user runs in (userManagerHomes). */
  readonly homes: readonly string[]
}

/**
 * The most homes a unit of /etc/systemd/user is taken to run in besides /root and /home/* (a
 * bound: each is a path pattern of each of its paths; a unit of 2,000 lines and 64 homes made
 * 264,000 patterns in 22 s), and where they may be: a service account's (podman's, a backup
 * job's), not a system account's /usr/sbin, /bin, /var/cache/man.
 */
const MAX_MANAGER_HOMES = 8

/** An account or group name a specifier or `~USER` may stand for (a name a path can hold as it is). */
const ACCOUNT_NAME = /^[A-Za-z_][\w.-]*\$?$/
const MANAGER_HOME_ROOTS = ['/srv/', '/var/lib/', '/opt/', '/data/', '/usr/local/']

/** The homes a unit of /etc/systemd/user runs in: /root, /home/* (any /home/NAME; an account /etc/passwd does not list: LDAP's), and the homes of accounts under MANAGER_HOME_ROOTS, at most MAX_MANAGER_HOMES more. */
const userManagerHomes = (accounts?: UnitAccounts): readonly string[] => accounts?.homes ?? ['/root', '/home/*']

/**
 * The most homes under /home a unit of /etc/systemd/user's scripts are followed with (session 41:
 * each home's HOME a parse of each script; the first ones of /etc/passwd).
 */
const MAX_SHARED_UNIT_HOMES = 16

/**
 * Session 41: the homes a unit of /etc/systemd/user runs with as its HOME, each an account's own
 * (for a script's `cd ~`, `$HOME/pw`): userManagerHomes' without `/home/*`, and the homes under
 * /home that /etc/passwd lists (at most MAX_SHARED_UNIT_HOMES; an account it does not list, LDAP's,
 * is no HOME known). None without accounts.
 */
function sharedUnitHomes(accounts?: UnitAccounts): string[] {
  if (accounts === undefined) return []
  const home = [...accounts.byHome.keys()].filter((h) => /^\/home\/[^/?*]+$/.test(h)).slice(0, MAX_SHARED_UNIT_HOMES)
  return [...new Set([...accounts.homes.filter((h) => !/[*?]/.test(h)), ...home])]
}

/** A home's account's specifiers; none where no account has it (`*`: any name). */
const accountSpecifiers = (home: string, accounts?: UnitAccounts): Readonly<Record<string, string>> => accounts?.byHome.get(home) ?? {}

/** A home as unitPaths writes it: normalized, no trailing `/`, a literal `*` held out as `?`. */
const homePattern = (home: string) => posix.normalize(home).replace(/(?<=.)\/+$/, '').replace(/\*/g, '?')

/**
 * UnitAccounts of an /etc/passwd's and an /etc/group's accounts, made once for a collect or a
 * push's look: one pass over each (a twin's /etc/passwd is untrusted: 100,000 lines cost a pass,
 * not a pass for each unit's path).
 */
export function unitAccounts(passwd: ReadonlyArray<{ readonly name: string; readonly uid: number; readonly gid: number; readonly home: string }>, groups: Readonly<Record<string, number>>): UnitAccounts {
  const groupNames = new Map<number, string>()
  for (const [name, gid] of Object.entries(groups)) if (!groupNames.has(gid)) groupNames.set(gid, name)
  const byHome = new Map<string, Record<string, string>>()
  const homes = new Set(['/root', '/home/*'])
  for (const account of passwd) {
    const home = homePattern(account.home)
    if (MANAGER_HOME_ROOTS.some((r) => home.startsWith(r)) && homes.size < MAX_MANAGER_HOMES + 2) homes.add(home)
    if (byHome.has(home)) continue
    const group = groupNames.get(account.gid)
    byHome.set(home, !ACCOUNT_NAME.test(account.name) ? {} : { u: account.name, U: String(account.uid), G: String(account.gid), ...(group !== undefined && ACCOUNT_NAME.test(group) ? { g: group } : {}) })
  }
  return { byHome, homes: [...homes] }
}

/**
 * The folder a unit's programs run from, as unitPaths takes it (session 38): its WorkingDirectory=
 * (the last one of its text), else systemd's default, `/` for a system unit and the home (`%h`) for
 * a user's; `~` its User='s home (`~USER`); undefined for a variable's (session 39: a drop-in's is read with its unit, unitsWithDropIns).
 */
function unitFolder(config: string, text: string): string | undefined {
  let cwd: string | undefined
  for (const m of text.matchAll(/^[ \t]*WorkingDirectory[ \t]*=[ \t]*-?(?<d>[^\s]*)[ \t]*\r?$/gm)) cwd = m.groups?.d
  const user = homeOfFolder(posix.dirname(config)) !== undefined || posix.dirname(config).startsWith(SYSTEMD_USER)
  if (cwd === undefined) return user ? '%h' : '/'
  // `~`: the home of the unit's User= (root's without one), `~USER` until an /etc/passwd says (atHome); a user unit's own home.
  if (unquoted(cwd) === '~') {
    if (user) return '%h'
    let name = 'root'
    for (const m of text.matchAll(/^[ \t]*User[ \t]*=[ \t]*(?<u>[^\s]+)[ \t]*\r?$/gm)) name = m.groups?.u ?? name
    return ACCOUNT_NAME.test(name) ? `~${name}` : undefined
  }
  return /^[/%]/.test(unquoted(cwd)) && !cwd.includes('$') ? unquoted(cwd) : undefined
}

/**
 * Session 40: the HOME systemd runs a unit's programs with (systemd.exec(5): set for a system
 * service with `User=`, always for a user's): `~USER` of a system unit's last `User=` (a name,
 * atHome resolves it), the home of a home's own user unit; none for one without `User=`, a
 * numeric one, or a unit of /etc/systemd/user (any home: its `%h` paths are each home's already).
 */
function unitHome(config: string, text: string): string | undefined {
  const home = homeOfFolder(posix.dirname(config))
  if (home !== undefined) return homePattern(home)
  if (posix.dirname(config).startsWith(SYSTEMD_USER)) return undefined
  let name: string | undefined
  for (const m of text.matchAll(/^[ \t]*User[ \t]*=[ \t]*(?<u>[^\s]+)[ \t]*\r?$/gm)) name = m.groups?.u ?? name
  return name !== undefined && ACCOUNT_NAME.test(name) ? `~${name}` : undefined
}

/**
 * unitFolder as paths: one, or (session 39) each a user unit of /etc/systemd/user may run in (each
 * home), or a pattern (`/srv/%i`: `/srv/*`; a relative word from it a pattern too); none where
 * not known (null).
 */
function unitCwds(config: string, text: string, accounts?: UnitAccounts): Array<string | null> {
  const folder = unitFolder(config, text)
  if (folder?.startsWith('~') === true) return [folder]
  const paths = folder === undefined ? [] : unitPaths(config, folder, accounts)
  return paths.length === 0 ? [null] : paths
}

/**
 * A unit's password-file words (passwordFileWords) as unitPaths takes them (session 36): a
 * `$NAME`/`${NAME}` of its own Environment= replaced (systemd expands them in its command lines),
 * one it does not set kept for its environment files (`words`); a relative path from its
 * WorkingDirectory= (session 38: or systemd's default, unitFolder).
 */
function unitPasswordWords(config: string, text: string, accounts?: UnitAccounts): { paths: string[]; words: string[] } {
  const found = passwordFileWords(text)
  if (found.length === 0) return { paths: [], words: [] }
  const env = valuesOf(unitAssignments(text))
  const folder = unitFolder(config, text)
  // Session 39: a word left to the environment files goes with the folder its program runs in (a relative value, `PW=pw.txt`).
  const folders = folder === undefined ? [] : folder.startsWith('~') ? [folder] : unitPaths(config, folder, accounts)
  const paths: string[] = []
  const words: string[] = []
  for (const word of found) {
    const each = substituted(word, env)
    if (each === undefined) {
      if (folders.length === 0) words.push(word)
      else words.push(...folders.map((f) => inFolderWord(f, word)))
      continue
    }
    for (const w of each) {
      if (/^[/%]/.test(w)) paths.push(w)
      else if (folder !== undefined && !/[$~]/.test(w)) paths.push(`${folder === '/' ? '' : folder}/${w}`)
    }
  }
  return { paths, words }
}

/**
 * Session 39: each unit with its drop-ins as systemd reads them, one text (the unit's, then its
 * drop-ins' by name: a later `WorkingDirectory=`, `User=` wins), named under the unit's path (its
 * `%y`), or its first drop-in's when the unit is a vendor's (not read); only units that have a
 * drop-in. The rules read these besides each file alone (a drop-in's `WorkingDirectory=/srv/app`
 * is where the unit's `--password-file pw` is; more held, never less). Linear: one pass, a sort
 * of each unit's drop-ins.
 */
export function unitsWithDropIns(configs: ReadonlyArray<{ readonly config: string; readonly text: string }>): Array<{ config: string; text: string }> {
  const units = new Map<string, { unit?: { config: string; text: string }; dropIns: Array<{ config: string; text: string }> }>()
  const group = (key: string) => {
    let found = units.get(key)
    if (found === undefined) units.set(key, (found = { dropIns: [] }))
    return found
  }
  for (const { config, text } of configs) {
    const folder = posix.dirname(config)
    if (config.endsWith('.conf') && isDropInFolder(folder)) group(folder.slice(0, -2)).dropIns.push({ config, text })
    else if (config.endsWith('.service') && isUnitFolder(folder)) group(config).unit = { config, text }
  }
  const out: Array<{ config: string; text: string }> = []
  for (const { unit, dropIns } of units.values()) {
    if (dropIns.length === 0) continue
    dropIns.sort((a, b) => (posix.basename(a.config) < posix.basename(b.config) ? -1 : 1))
    const parts = unit === undefined ? dropIns : [unit, ...dropIns]
    out.push({ config: (parts[0] as { config: string }).config, text: parts.map((p) => p.text).join('\n') })
  }
  return out
}

/** Folders whose links to files are read through (PAM opens /etc/pam.d/NAME whatever it is). */
const FOLLOWED = new Set([PAM])

/** Linux's bound on the links one path name may go through (MAXSYMLINKS): a loop ends there. */
const MAX_LINKS = 40
/** The most of a unit read through a link (a unit is a few KB; a link to a large file is no unit). */
const MAX_LINKED_UNIT = 256 * 1024
/** The vendor units' folders: /etc/systemd/system's links there are aliases of packages' units (their files the packages'). */
const VENDOR_UNITS = ['/usr/lib/systemd/', '/lib/systemd/']

const within = (scope: string, path: string) => scope === '/' || path === scope || path.startsWith(`${scope}/`)

/** What a name is, to throughLinks: missing, a link (its target), a file, or anything else (a folder, or not known: a twin's). */
export type LinkLook = { missing: true } | { link: string } | { file: true } | { other: true }
/** Looks up what a path's last name is (its folder's links resolved already). */
export type LookName = (path: string) => Promise<LinkLook>

/** The machine's names, each looked at once for one collect (lstat, readlink). */
export function machineLooks(host: Pick<HostPort, 'lstat' | 'readlink'>): LookName {
  const looks = new Map<string, Promise<LinkLook>>()
  return (path) => {
    let look = looks.get(path)
    if (look === undefined) {
      look = (async (): Promise<LinkLook> => {
        const st = await host.lstat(path).catch(() => undefined)
        if (st === undefined) return { missing: true }
        if (st.type === 'file') return { file: true }
        if (st.type !== 'symlink') return { other: true }
        const target = await host.readlink(path).catch(() => undefined)
        return target === undefined ? { missing: true } : { link: target }
      })()
      looks.set(path, look)
    }
    return look
  }
}

/**
 * The path `path` leads to, its links resolved a name at a time (`look`: the machine's lstat and
 * readlink, or a twin's manifest), as the kernel does: an absolute target from the root's `/`
 * (never above it: a machine's is inside the root, a twin's inside its filesystem/), `..` from
 * the folder reached so far. Undefined when a name is missing, a name follows a file, more than
 * MAX_LINKS links are met (a loop), or where it ends is not within `scope`.
 */
export async function throughLinks(look: LookName, path: string, scope: string): Promise<string | undefined> {
  const rest = path.split('/').filter((n) => n !== '' && n !== '.')
  let done = '/'
  let links = 0
  while (rest.length > 0) {
    const name = rest.shift() as string
    if (name === '..') {
      done = posix.dirname(done)
      continue
    }
    const next = done === '/' ? `/${name}` : `${done}/${name}`
    const found = await look(next)
    if ('missing' in found) return undefined
    if ('link' in found) {
      if (found.link === '' || ++links > MAX_LINKS) return undefined
      rest.unshift(...found.link.split('/').filter((n) => n !== '' && n !== '.'))
      if (found.link.startsWith('/')) done = '/'
      continue
    }
    if ('file' in found && rest.length > 0) return undefined
    done = next
  }
  return within(scope, done) ? done : undefined
}

/** The home a user unit folder (HOME/.config/systemd/user or a drop-in folder of it) is under; undefined for a system folder. */
export const homeOfFolder = (folder: string): string | undefined => {
  const units = folder.endsWith('.service.d') ? posix.dirname(folder) : folder
  return units.endsWith(`/${HOME_UNITS}`) ? units.slice(0, -HOME_UNITS.length - 1) : undefined
}

/**
 * Where a unit that is a link (or in a linked folder) of this unit folder (or drop-in folder) really is, to be read:
 * a user's within the same home (the home itself as it really is: a /home that is a link), a system unit's anywhere
 * but the vendor folders (aliases of packages' units); undefined for any other.
 */
export async function linkedUnitAt(look: LookName, folder: string, path: string): Promise<string | undefined> {
  const home = homeOfFolder(folder)
  const scope = home === undefined ? '/' : await throughLinks(look, home, '/')
  const real = scope === undefined ? undefined : await throughLinks(look, path, scope)
  return real === undefined || VENDOR_UNITS.some((v) => real.startsWith(v)) ? undefined : real
}

/** At most this many configs of one folder are read (a folder of thousands is no such setup). */
const MAX_CONFIGS = 200

const inFolder = (folder: string, path: string) => path.startsWith(`${folder}/`) && !path.slice(folder.length + 1).includes('/')

/** A named file as a path pattern: relative to the config's folder, a `*` held out as `?` (as openvpnCredentialFiles). */
const resolved = (config: string, file: string) => posix.resolve(posix.dirname(config), file).replace(/\*/g, '?')

/** A value as the config writes it: quotes around it dropped. */
const unquoted = (v: string) => v.replace(/^(["'])(.*)\1$/, '$2')

/** The crontabs: the system's, its drop-ins, each user's (the cron provider mirrors those; the files they name are the files provider's). */
const CRONTAB = '/etc/crontab'
const CRONTAB_FOLDERS = ['/etc/cron.d', '/var/spool/cron/crontabs']
/** anacron's jobs (session 38: `@daily 10 backup /bin/bash /home/ops/borg.sh`), read as a crontab's. */
const ANACRONTAB = '/etc/anacrontab'
/** Folders of scripts an administrator writes: run-parts' folders and /usr/local's. */
/** The packages' environment files (session 38: what their units and init scripts read, `KRB5_KTNAME=` of gssproxy's, nfs's, apache's). */
const DEFAULTS = '/etc/default'
const SCRIPT_FOLDERS = ['/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly', '/usr/local/bin', '/usr/local/sbin']
/** The mail clients' configs that point at password files (session 36): the system's msmtprc, and each user's. */
const MAIL_CONFIGS = ['/etc/msmtprc']
const HOME_MAIL_CONFIGS = ['.msmtprc', '.config/msmtp/config', '.mbsyncrc', '.config/isync/mbsyncrc', '.offlineimaprc', '.config/offlineimap/config']
const isHomeMailConfig = (path: string) => HOME_MAIL_CONFIGS.some((f) => path.endsWith(`/${f}`) && (path.startsWith('/home/') || path.startsWith('/root/')))
/** The password-file rule's name. */
export const PASSWORD_FILE_RULE = 'password file'
/** The most files followed a collect (a unit's or crontab's scripts and environment files), and the most of each read. */
const MAX_FOLLOWED = 256
const MAX_FOLLOWED_BYTES = 256 * 1024
/** The same bounds for a pushed twin's look (twinNamedCredentialFiles in secrets.ts). */
export const FOLLOWED_LIMITS = { files: MAX_FOLLOWED, bytes: MAX_FOLLOWED_BYTES } as const
/** Where a unit's or a crontab's scripts are followed from: not the packages' own folders (their programs are no administrator's). */
const FOLLOWED_ROOTS = ['/etc/', '/opt/', '/srv/', '/root/', '/home/', '/usr/local/', '/var/lib/', '/data/']

/** A path word (group `f`) as written: absolute, a unit's specifier, a variable (`"$PASSFILE"`, `${DIR}/pw`) or relative (`pw.txt`, `./keys/pw`). */
const PATH_WORD = String.raw`["']?(?<f>[^\s"';|&)<>\`\-=#][^\s"';|&)<>\`]*[^\s"';|&)<>\`/]|[^\s"';|&)<>\`\-=#/])`

/** passwordFileWords' expressions (group `f`: the word). */
const PASSWORD_FILE_PATTERNS: readonly RegExp[] = [
  new RegExp(String.raw`(?:^|[^\w-])(?:(?:[A-Z][A-Z0-9_]*_)?(?:PASSWORD|PASSWD|PASS|PASSPHRASE|SECRET|TOKEN|CREDENTIALS?|PSK)_FILE|PGPASSFILE)[ \t]*=[ \t]*${PATH_WORD}`, 'g'),
  new RegExp(String.raw`(?:^|[\s"'=])--(?:[a-z0-9]+-){0,3}(?:password|passwd|pass|passphrase|secret|token|credentials?|psk)-?file(?:[ \t]*=[ \t]*|[ \t]+)${PATH_WORD}`, 'g'),
  new RegExp(String.raw`(?:PASSWORD_COMMAND|PASSCOMMAND|--password-command|--passcommand|passwordeval|PassCmd)(?:[ \t]*=[ \t]*|[ \t]+)["']?(?:(?:cat|head|tail)(?:[ \t]+-[-\w=]+){0,3}[ \t]+|<[ \t]*)${PATH_WORD}`, 'g'),
  new RegExp(String.raw`^[ \t]*remotepassfile[ \t]*=[ \t]*${PATH_WORD}`, 'gm'),
  new RegExp(String.raw`\bfetchmail\b[^\n|;&]{0,200}?[ \t](?:-f|--fetchmailrc)(?:[ \t]*=[ \t]*|[ \t]+)${PATH_WORD}`, 'g'),
  new RegExp(String.raw`(?:^|[\s"'])-pass(?:in|out)?[ \t]+["']?file:${PATH_WORD}`, 'g'),
  new RegExp(String.raw`(?:^|[\s"'])--(?:askpass|auth-user-pass)[ \t]+${PATH_WORD}`, 'g'),
  new RegExp(String.raw`\bsshpass\b[^\n|;&]{0,200}?[ \t]-f[ \t]*${PATH_WORD}`, 'g'),
  new RegExp(String.raw`\bldap(?:search|add|modify|delete|passwd|compare|modrdn|whoami|exop|url)\b[^\n|;&]{0,200}?[ \t]-y[ \t]*${PATH_WORD}`, 'g'),
  // Session 38: Kerberos' keytab (`KRB5_KTNAME=FILE:/etc/app/http.kt`, the client's KRB5_CLIENT_KTNAME), a file or WRFILE one (not MEMORY:, KEYRING:…).
  new RegExp(String.raw`(?:^|[^\w-])KRB5_(?:CLIENT_)?KTNAME[ \t]*=[ \t]*(?:["']?(?:FILE|WRFILE):)?(?!["']?[A-Z]{2,}:)${PATH_WORD}`, 'g'),
]

/** A comment's line says nothing (`# RESTIC_PASSWORD_FILE=/etc/restic/old`): blanked, its length kept (positions stay). */
const uncommented = (text: string) => (/^[ \t]*[#;]/m.test(text) ? text.replace(/^[ \t]*[#;][^\n]*/gm, (c) => ' '.repeat(c.length)) : text)

/** The longest word taken for a path (Linux's PATH_MAX), and the most variables in one: a bound, so a 1 MB word of `$A$A…` costs no more than a path. */
const MAX_WORD = 4096
const MAX_VARIABLES = 8

/** passwordFileWords with where each is in the (uncommented) text. */
function passwordFileMatches(lines: string): Array<{ word: string; at: number }> {
  const out: Array<{ word: string; at: number }> = []
  for (const pattern of PASSWORD_FILE_PATTERNS) {
    for (const m of lines.matchAll(pattern)) {
      const word = m.groups?.f
      if (word !== undefined && word.length <= MAX_WORD && word.split('$', MAX_VARIABLES + 2).length <= MAX_VARIABLES + 1) out.push({ word, at: m.index ?? 0 })
    }
  }
  return out
}

/**
 * Session 35: the files a command line, an environment or a script points at as holding a password
 * (or a passphrase, secret, token), whatever they are called; the file holds the password alone
 * and says nothing to the detector (`/etc/restic/repo1`, a line of words). Words as written (a
 * unit's may begin with a specifier; session 36: a variable, `"$PASSFILE"`, or a relative path):
 * - an environment variable named so: restic's `RESTIC_PASSWORD_FILE=`, the `*_PASSWORD_FILE`,
 *   `*_PASSPHRASE_FILE`, `*_SECRET_FILE`, `*_TOKEN_FILE`, `*_CREDENTIALS_FILE` of Docker's
 *   convention (`POSTGRES_PASSWORD_FILE=`, `MYSQL_ROOT_PASSWORD_FILE=`), libpq's `PGPASSFILE=`,
 *   `*_PSK_FILE` (session 36);
 * - a flag named so: restic's and rsync's `--password-file`, gpg's `--passphrase-file`, duplicity's
 *   and others' `--…-secret-file`, `--token-file`, `--pass-file`, `--credentials-file`, Zabbix's
 *   `--tls-psk-file` (zabbix_sender, zabbix_get; session 36);
 * - a password command that reads a file: restic's `RESTIC_PASSWORD_COMMAND` and
 *   `--password-command`, borg's `BORG_PASSCOMMAND`, rclone's `--password-command`, their command
 *   `cat FILE`, `head -n1 FILE`, `tail …`, `< FILE`;
 * - openssl's `-pass`/`-passin`/`-passout file:FILE`, `sshpass -f FILE`, the OpenLDAP tools' `-y FILE`,
 *   OpenVPN's `--askpass FILE` and `--auth-user-pass FILE` on a command line (its configs' own
 *   `askpass`/`auth-user-pass` are the OpenVPN rule's, secrets.ts);
 * - session 36, the mail fetchers' and senders': msmtp's `passwordeval "cat FILE"`, isync's
 *   `PassCmd "cat FILE"`, OfflineIMAP's `remotepassfile = FILE`, and fetchmail's `-f FILE` (a run
 *   control file of another name than fetchmailrc: `poll … pass PASSWORD` lines);
 * - session 38, Kerberos' keytab: `KRB5_KTNAME=` and `KRB5_CLIENT_KTNAME=` (`FILE:`/`WRFILE:` or a
 *   path; not `MEMORY:` and the like), a keytab of any name (`*.keytab` is held by its name).
 */
export function passwordFileWords(text: string): string[] {
  return passwordFileMatches(uncommented(text)).map((m) => m.word)
}

/** A variable in a word: `$NAME` or `${NAME}`. */
const VARIABLE = /\$(?:\{(?<b>[A-Za-z_][A-Za-z0-9_]*)\}|(?<n>[A-Za-z_][A-Za-z0-9_]*))/g
/** The most values one variable is taken to have, and the most paths one word stands for (a bound: a text of many assignments stays linear). */
const MAX_VALUES = 8

/** The script's own path, `$0` or bash's `${BASH_SOURCE[0]}` (blanks and quotes taken out), for SCRIPT_DIR. */
const SELF = String.raw`\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\}|BASH_SOURCE)`
const DIRNAME = String.raw`dirname(?:--)?(?:${SELF}|\$\((?:readlink-[fem]|realpath)(?:--)?${SELF}\))`
/**
 * Session 38: a value that is the script's own folder, blanks and quotes taken out:
 * `$(dirname "$0")`, `` `dirname $0` ``, `$(dirname "$(readlink -f "$0")")`, `${0%/*}`,
 * `$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)` (and `&> /dev/null`, `pwd -P`).
 */
const SCRIPT_DIR = new RegExp(String.raw`^(?:\$\(${DIRNAME}\)|\`${DIRNAME}\`|\$\{0%\/\*\}|\$\(cd(?:--)?\$\(${DIRNAME}\)(?:&>\/dev\/null|>\/dev\/null(?:2>&1)?)?&&pwd(?:-P)?\))$`)

/**
 * The assignments a script, an environment file or a crontab makes (session 36): `NAME=VALUE` at a
 * line's start or after `;`/`&&` (`export`, `declare -x`, `local`, `readonly` before it), the
 * value unquoted. Only a value of no backquote or `(`: a path (what a later word's `$NAME` stands
 * for). Session 38: a value of other variables too (`PASSFILE="$DIR/pw"`, substituted in turn),
 * after blanks or `then`/`do`/`else`; and, for a script whose `path` is known, the script's own
 * folder (SCRIPT_DIR: `HERE=$(dirname "$0")`).
 */
export function assignmentsIn(text: string, path?: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const pattern = /(?:^[ \t]*|[;&|][ \t]*|\b(?:then|do|else)[ \t]+)(?:(?:export|declare|typeset|local|readonly)(?:[ \t]+-[a-zA-Z]+)*[ \t]+)?(?<n>[A-Za-z_][A-Za-z0-9_]*)=(?:(?=(?<s>["']?(?:\$\(|`)[^\n]{0,200}$))|(?:"(?<a>[^"\n`(]*)"|'(?<b>[^'\n]*)'|(?<c>[^\s"'`;&|()]*))(?=[\s;&|]|$))/gm
  for (const m of uncommented(text).matchAll(pattern)) {
    const name = m.groups?.n
    const self = m.groups?.s
    if (self !== undefined) {
      if (name !== undefined && path?.startsWith('/') === true && SCRIPT_DIR.test(self.replace(/[ \t"']/g, '').replace(/;$/, ''))) out.push([name, posix.dirname(posix.normalize(path))])
      continue
    }
    const value = m.groups?.a ?? m.groups?.b ?? m.groups?.c
    if (name !== undefined && value !== undefined && value !== '' && !value.includes('$(')) out.push([name, value])
  }
  return out
}

/** A unit's own environment: its `Environment=` lines' `NAME=VALUE` words (quoted or not). */
export function unitAssignments(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const line of text.matchAll(/^[ \t]*Environment[ \t]*=(?<v>[^\r\n]*)/gm)) {
    for (const m of (line.groups?.v ?? '').matchAll(/"(?<n>[A-Za-z_][A-Za-z0-9_]*)=(?<a>[^"]*)"|'(?<n1>[A-Za-z_][A-Za-z0-9_]*)=(?<b>[^']*)'|(?<n2>[A-Za-z_][A-Za-z0-9_]*)=(?<c>\S*)/g)) {
      const name = m.groups?.n ?? m.groups?.n1 ?? m.groups?.n2
      const value = m.groups?.a ?? m.groups?.b ?? m.groups?.c
      if (name !== undefined && value !== undefined && value !== '') out.push([name, value])
    }
  }
  return out
}

/** What substituted looks a variable's values up in. */
type Values = Pick<ReadonlyMap<string, readonly string[]>, 'get'>

/** Each variable's values, at most MAX_VALUES each (added to `values`, when given). */
function valuesOf(assigns: ReadonlyArray<readonly [string, string]>, values = new Map<string, string[]>()): Map<string, string[]> {
  for (const [name, value] of assigns) {
    const list = values.get(name) ?? []
    if (list.length < MAX_VALUES && !list.includes(value)) list.push(value)
    values.set(name, list)
  }
  return values
}

/** How deep a value of variables is substituted in turn (`PASSFILE="$DIR/pw"`, `DIR="$BASE/app"`; a `X=$X/a` ends there). Session 38. */
const MAX_DEPTH = 4

/**
 * A word's variables replaced by their values (each value of each, at most MAX_VALUES words);
 * undefined when one has none. A word of no variable is itself. Session 38: a value that holds
 * variables is substituted in turn, MAX_DEPTH deep (a value whose variables have none is left out).
 */
function substituted(word: string, values: Values, depth = 0, memo = new Map<string, string[] | undefined>()): string[] | undefined {
  if (word.length > MAX_WORD) return undefined
  // Each value substituted once a depth (memo): a text of values of many variables stays linear in them.
  const inTurn = (v: string): string[] => {
    if (!v.includes('$')) return [v]
    if (depth >= MAX_DEPTH) return []
    const key = `${depth}\0${v}`
    if (!memo.has(key)) memo.set(key, substituted(v, values, depth + 1, memo))
    return memo.get(key) ?? []
  }
  let words = ['']
  let last = 0
  for (const m of word.matchAll(VARIABLE)) {
    const vals = values.get(m.groups?.b ?? m.groups?.n ?? '')?.flatMap(inTurn).slice(0, MAX_VALUES)
    if (vals === undefined || vals.length === 0) return undefined
    const plain = word.slice(last, m.index)
    words = words.flatMap((w) => vals.map((v) => `${w}${plain}${v}`)).slice(0, MAX_VALUES)
    last = (m.index ?? 0) + m[0].length
  }
  return words.map((w) => `${w}${word.slice(last)}`)
}

/**
 * Where a script's `cd`s leave its relative words: `first`, where its first `cd` (or `pushd`) is
 * (Infinity when none: every word is read from its caller's folder, session 38); `folder`, the
 * folder a word after the first one is certain to be read from, when every `cd` goes to the same
 * absolute folder (none to a variable's, `-` or a relative one).
 */
function scriptFolder(lines: string, home?: string): { first: number; folder?: { folder: string; from: number } } {
  let first = Number.POSITIVE_INFINITY
  let found: { folder: string; from: number } | undefined
  let certain = true
  for (const m of lines.matchAll(/(?:^|[;&|({][ \t]*|\b(?:then|do|else)[ \t]+)(?:cd|pushd)(?:[ \t]+(?<d>[^\s;&|)]*))?/gm)) {
    first = Math.min(first, m.index ?? 0)
    if (!certain) continue
    const dir = atHomeFolder(unquoted(m.groups?.d ?? ''), home)
    const folder = dir !== undefined && (dir.startsWith('/') || /^~[A-Za-z_][\w.-]*(?:\/|$)/.test(dir)) && !/[$`*?]/.test(dir) && !dir.slice(1).includes('~') ? posix.normalize(dir) : undefined
    if (folder === undefined || (found !== undefined && found.folder !== folder)) {
      certain = false
      found = undefined
      continue
    }
    found ??= { folder, from: m.index ?? 0 }
  }
  return found === undefined ? { first } : { first, folder: found }
}

/**
 * Session 39: a `cd` folder of the home (a crontab job's, `home`: its HOME= line or `~USER`): a
 * bare `cd`, `~`, `~/x`, `$HOME`, `${HOME}/x`, written from the home; `~USER/x` as written
 * (atHome resolves it); undefined for a `~`, `$HOME` without a home known.
 */
function atHomeFolder(dir: string, home?: string): string | undefined {
  const rest = /^(?:~|\$HOME|\$\{HOME\})(?=\/|$)/.exec(dir)
  if (dir === '' || rest !== null) return home === undefined ? undefined : `${home}${dir.slice(rest?.[0].length ?? 0)}`
  return dir
}

/**
 * A file followed (followHops): a script or environment file, with the folder it is run from
 * (session 38): `cwd` a folder (a crontab job's home, `~USER` until the twin's or machine's
 * /etc/passwd says where, or a unit's WorkingDirectory=), undefined its caller's, null not known
 * (after a `cd` to a variable's folder). A relative `path` (`./upload.sh`, `. conf/env`) is from
 * its caller's folder.
 */
export interface Follow {
  readonly path: string
  readonly cwd?: string | null
  /**
   * Session 40: the HOME it runs with, a crontab job's (its HOME= line, else its user's home,
   * `~USER` until an /etc/passwd says), carried to what it runs and sources: a `cd $HOME`, `cd ~`,
   * `$HOME/pw`, `~/pw` of the script are from there. None known: undefined.
   */
  readonly home?: string
}

/** One Follow's identity: its path, the folder it runs in (an unknown folder, `null`, apart from none given) and its HOME. */
export function followKey(f: Follow): string {
  return `${f.path}\0${f.cwd ?? ''}\0${f.cwd === null ? 'x' : ''}\0${f.home ?? ''}`
}

/** What a script, an environment file or a crontab says of password files (passwordRefsIn). */
export interface PasswordRefs {
  /** The password files it names, resolved (its own variables, its `cd`): path patterns. */
  readonly paths: string[]
  /** Words whose variables it does not set (`--password-file "$PASSFILE"` of a variable its environment file sets): resolved over what its unit, crontab and followed files set (resolvedWords). */
  readonly words: string[]
  /** Its assignments (`PASSFILE=/etc/x/pw`), for the words of the texts it goes with. */
  readonly assigns: Array<[string, string]>
  /** Session 38: relative words before any `cd` of it: from the folder it is run from (its caller's: followHops joins them). */
  readonly relative: string[]
  /** What it runs or sources in turn (`. /etc/backup/env`, `/opt/backup/upload.sh`): followed one hop more (session 36); session 38: with the folder each is run from. */
  readonly next: Follow[]
}

/**
 * Session 36: passwordFileWords of a script, an environment file or a crontab, resolved where the
 * text makes it certain: a variable it sets (`PASSFILE=/etc/x/pw` then `--password-file
 * "$PASSFILE"`, `${DIR}/pw`), a relative path after the one folder it `cd`s to; a word of a
 * variable it does not set is kept for its unit's or crontab's environment (`words`). Session 38:
 * a relative word before any `cd` is kept for its caller's folder (`relative`); `path`, the
 * script's own (its `$(dirname "$0")`); `scope`, assignments made before it runs (a crontab's).
 */
export function passwordRefsIn(text: string, path?: string, scope?: Pick<ReadonlyMap<string, readonly string[]>, 'has' | 'get'>, home?: string): PasswordRefs {
  const lines = uncommented(text)
  const matches = passwordFileMatches(lines)
  const assigns = assignmentsIn(text, path)
  const cd = scriptFolder(lines, home)
  const next = sourcedAndRun(lines).flatMap(({ path: f, at }): Follow[] => {
    if (at < cd.first) return [{ path: f }]
    const folder = cd.folder !== undefined && at > cd.folder.from ? cd.folder.folder : undefined
    if (!f.startsWith('/')) return folder === undefined ? [] : [{ path: fromFolder(folder, f), cwd: folder }]
    return [{ path: f, cwd: folder ?? null }]
  })
  if (matches.length === 0) return { paths: [], words: [], assigns, relative: [], next }
  const own = valuesOf(assigns)
  // Session 40: the HOME it runs with (a followed script's, its crontab job's), where neither it nor the scope sets one.
  if (home !== undefined && !own.has('HOME') && scope?.has('HOME') !== true) own.set('HOME', [home])
  // The scope's values, then its own (a view: a crontab's scope is not copied for each of its lines).
  const values = scope === undefined ? own : { get: (name: string) => (scope.has(name) || own.has(name) ? [...new Set([...(scope.get(name) ?? []), ...(own.get(name) ?? [])])].slice(0, MAX_VALUES) : undefined) }
  const paths: string[] = []
  const words: string[] = []
  const relative: string[] = []
  for (const { word, at } of matches) {
    const resolvedWords = substituted(word, values)
    if (resolvedWords === undefined) {
      words.push(word)
      continue
    }
    for (const w of resolvedWords) {
      // Session 39: a word of the home (`~/pw`, `$HOME/pw` of a job's `~USER`) from it, or `~USER/pw` for atHome.
      const at0 = w.startsWith('~') ? atHomeFolder(w, home) : w
      if (at0 === undefined) continue
      if (at0.startsWith('/')) paths.push(asPattern(at0))
      else if (/^~[A-Za-z_][\w.-]*\//.test(at0) && !/[$%]/.test(at0) && !at0.slice(1).includes('~')) paths.push(asPattern(at0))
      else if (/[$%~]/.test(at0)) continue
      else if (at < cd.first) relative.push(at0)
      else if (cd.folder !== undefined && at > cd.folder.from) paths.push(fromFolder(cd.folder.folder, at0))
    }
  }
  return { paths, words, assigns, relative, next }
}

/** A path as a path pattern: normalized, a literal `*` held out as `?`. */
const asPattern = (path: string) => posix.normalize(path).replace(/\*/g, '?')

/** passwordRefsIn's resolved paths. */
export const passwordFilesIn = (text: string, path?: string): string[] => passwordRefsIn(text, path).paths

/**
 * A relative path `w` from the folder `cwd` (session 39): an absolute folder's, or a `~USER`
 * one's (resolved by atHome later); the folder's wildcards (a unit's `%h` of /etc/systemd/user)
 * kept, the word's literal `*` held out as `?`.
 */
export const fromFolder = (cwd: string, w: string): string => {
  const word = w.replace(/\*/g, '?')
  return cwd.startsWith('~') ? posix.normalize(`${cwd}/${word}`) : posix.resolve(cwd, word)
}

/** A word left to the environment with the folder its program runs in (session 39): `FOLDER\0WORD`, split by resolvedWords. */
export const inFolderWord = (cwd: string, word: string): string => `${cwd}\0${word}`

/**
 * The words a unit's, a crontab's or a script's text leaves to its environment, resolved over the
 * assignments of the texts it goes with (its Environment=, environment files, sourced files,
 * crontab lines): absolute results, and (session 39) relative ones of a word that goes with its
 * program's folder (inFolderWord: `PW=pw.txt` in a unit's environment file, `--password-file
 * $PW` in its ExecStart= run from its WorkingDirectory=). Every text's assignments count for every
 * word (a variable of the same name set elsewhere for another file names that file too: more
 * held, never less).
 */
export function resolvedWords(words: readonly string[], assigns: ReadonlyArray<readonly [string, string]>): string[] {
  if (words.length === 0) return []
  const values = valuesOf(assigns)
  const out = new Set<string>()
  for (const each of new Set(words)) {
    const cut = each.indexOf('\0')
    const cwd = cut < 0 ? undefined : each.slice(0, cut)
    for (const w of substituted(each.slice(cut + 1), values) ?? []) {
      if (w.startsWith('/') && !w.includes('$')) out.add(asPattern(w))
      else if (cwd !== undefined && w !== '' && !/[$%~]/.test(w)) out.add(fromFolder(cwd, w))
    }
  }
  return [...out]
}

/**
 * A path pattern of a crontab job's home (`~USER/pw`, session 38) as the account's home says
 * (`homeOf`: the machine's or the twin's /etc/passwd); undefined where the account has none. Any
 * other pattern is itself.
 */
export function atHome(pattern: string, homeOf: (user: string) => string | undefined): string | undefined {
  if (!pattern.startsWith('~')) return pattern
  const slash = pattern.indexOf('/')
  const home = homeOf(slash < 0 ? pattern.slice(1) : pattern.slice(1, slash))
  if (home === undefined || !home.startsWith('/')) return undefined
  return asPattern(slash < 0 ? home : `${home}/${pattern.slice(slash + 1)}`)
}

/** The home of each account of an /etc/passwd text (the first line of a name wins, as getpwnam). */
export function homesOf(accounts: ReadonlyArray<{ name: string; home: string }>): (user: string) => string | undefined {
  const homes = new Map<string, string>()
  for (const a of accounts) if (!homes.has(a.name)) homes.set(a.name, a.home.replace(/\*/g, '?'))
  return (user) => homes.get(user)
}

/**
 * The files a script sources (`. FILE`, `source FILE`) or runs by an absolute path in a command's
 * place (a line's start, after `;`, `&&`, `|`, `then`, `do`, `exec`, `sh`…), followable ones: the
 * second hop (session 36), its own password files and variables read in turn. Session 38: a
 * relative one too (`./upload.sh`, `../lib/env`, `. conf/env`): from the folder it is run from.
 */
function sourcedAndRun(lines: string): Array<{ path: string; at: number }> {
  const out: Array<{ path: string; at: number }> = []
  for (const m of lines.matchAll(/(?:^[ \t]*|[;&|(`][ \t]*|\b(?:then|do|else|exec|sudo|nohup|nice|time|sh|bash|dash|ksh|zsh|source)[ \t]+|(?:^|[\s;&|(])\.[ \t]+)["']?(?<f>\/[^\s"';|&()<>`$]+)/gm)) {
    const f = m.groups?.f
    if (f !== undefined && followable(posix.normalize(f)) && !/[*?]/.test(f)) out.push({ path: posix.normalize(f), at: m.index ?? 0 })
  }
  // Relative ones in a command's place: `./upload.sh`, `sh ../run`, `. conf/env`, `source ./env` (a bare `. env` is looked for in PATH).
  for (const m of lines.matchAll(/(?:^|[;&|(]|\b(?:then|do|else))[ \t]*(?:(?:exec|sudo|nohup|nice|time|sh|bash|dash|ksh|zsh)[ \t]+["']?(?<r>\.\.?\/[^\s"';|&()<>`$]+)|(?:source|\.)[ \t]+["']?(?<s>(?:\.\.?\/)?[\w.-]+\/[^\s"';|&()<>`$]+)|["']?(?<x>\.\.?\/[^\s"';|&()<>`$]+))/gm)) {
    const f = m.groups?.r ?? m.groups?.s ?? m.groups?.x
    if (f !== undefined && !/[*?#]/.test(f)) out.push({ path: f, at: m.index ?? 0 })
  }
  return out.sort((a, b) => a.at - b.at)
}

/**
 * A script or file a unit or crontab names that is followed (passwordRefsIn): absolute, in
 * FOLLOWED_ROOTS, no variable; a unit's wildcard (a user unit's `%h`, an instance's `%i`) stands
 * for the files it matches (session 36: followHops takes it to them, wildPaths). A crontab's or
 * script's glob (`rm /srv/tmp/*`) is none: its files are data, and would take the bound's room.
 */
const followable = (path: string) => path.startsWith('/') && !/[[%$]/.test(path) && FOLLOWED_ROOTS.some((r) => path.startsWith(r))

/** The absolute paths a crontab's lines name (its jobs' scripts), comments left out: followed for the password files they point at. */
function crontabScripts(text: string): string[] {
  const out: string[] = []
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(?:#|$)/.test(line)) continue
    for (const m of line.matchAll(/(?:^|[\s"'=;&|(])(?<f>\/[^\s"';|&()<>`]+)/g)) {
      const f = m.groups?.f
      if (f !== undefined && followable(posix.normalize(f)) && !/[*?]/.test(f)) out.push(posix.normalize(f))
    }
  }
  return out
}

/** A text without its trailing blanks (spaces, tabs), by a scan back: `[ \t]*$` tries every blank of a run (quadratic in a long one). */
function withoutTrailingBlanks(text: string): string {
  let end = text.length
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--
  return text.slice(0, end)
}

/** A crontab: the system's, its drop-ins, a user's. */
const isCrontab = (config: string) => config === CRONTAB || config === ANACRONTAB || CRONTAB_FOLDERS.some((folder) => inFolder(folder, config))

/** run-parts' folders: cron runs them `cd / && run-parts …` (anacron from its unit's `/`). */
const RUN_PARTS = ['/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly']

/** passwordRefsIn of a script (or environment file) the password-file rule reads: a run-parts script's relative words from `/`. */
function scriptRefs(config: string, text: string): PasswordRefs {
  const refs = passwordRefsIn(text, config)
  if (!RUN_PARTS.some((folder) => inFolder(folder, config))) return refs
  return { ...refs, paths: [...refs.paths, ...refs.relative.map((w) => asPattern(posix.resolve('/', w)))], next: refs.next.map((n) => (n.path.startsWith('/') ? { path: n.path, cwd: n.cwd === undefined ? '/' : n.cwd } : { path: posix.resolve('/', n.path), cwd: '/' })) }
}

/** A crontab's own (/etc/crontab, /etc/cron.d/*: a user field on each line), not a user's (/var/spool/cron/crontabs/USER). */
const isSystemCrontab = (config: string) => config === CRONTAB || inFolder('/etc/cron.d', config)

/**
 * What a crontab says of password files (session 38), a job line at a time: cron runs each job's
 * command with `sh -c` from the job's home (its HOME= line before, else its user's home, `~USER`
 * until an /etc/passwd says), so a relative word before any `cd` of the line is from there; its
 * variable lines (`NAME=VALUE`, `NAME = "VALUE"`) are set for every line after them. Its scripts
 * are followed from that folder too.
 */
type CrontabRefs = { paths: string[]; words: string[]; assigns: Array<[string, string]>; follows: Follow[] }
/** The last crontab's (its rule's named, follows and environment read the same text in turn). */
let lastCrontab: { config: string; text: string; refs: CrontabRefs } | undefined

function crontabRefs(config: string, text: string): CrontabRefs {
  if (lastCrontab?.config === config && lastCrontab.text === text) return lastCrontab.refs
  const refs = crontabRefsOf(config, text)
  lastCrontab = { config, text, refs }
  return refs
}

function crontabRefsOf(config: string, text: string): CrontabRefs {
  const anacron = config === ANACRONTAB
  const system = isSystemCrontab(config)
  const scope = new Map<string, string[]>()
  const owner = system || anacron ? undefined : posix.basename(config)
  const out = { paths: [] as string[], words: [] as string[], assigns: [] as Array<[string, string]>, follows: [] as Follow[] }
  let home: string | undefined
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(?:#|$)/.test(line)) continue
    const variable = /^[ \t]*(?<n>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?<v>.*)$/.exec(line)?.groups
    if (variable !== undefined) {
      const value = unquoted(withoutTrailingBlanks(variable.v ?? ''))
      if (variable.n === 'HOME') home = value.startsWith('/') && !/[$`]/.test(value) ? posix.normalize(value) : undefined
      if (value !== '' && variable.n !== undefined) {
        out.assigns.push([variable.n, value])
        valuesOf([[variable.n, value]], scope)
      }
      // A variable a job's program reads (`RESTIC_PASSWORD_FILE=/etc/restic/pw`).
      const refs = passwordRefsIn(line, undefined, scope)
      out.paths.push(...refs.paths)
      out.words.push(...refs.words)
      continue
    }
    // anacron's `PERIOD DELAY ID COMMAND` (its folder not taken: anacron's own, not the crontab's kind of certain).
    const job = (anacron ? /^[ \t]*(?:@[a-z]+|\d+)[ \t]+\d+[ \t]+\S+[ \t]+(?<c>.*)$/ : system ? /^[ \t]*(?:@[a-z]+|\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+)[ \t]+(?<u>\S+)[ \t]+(?<c>.*)$/ : /^[ \t]*(?:@[a-z]+|\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+)[ \t]+(?<c>.*)$/).exec(line)?.groups
    const user = owner ?? job?.u
    if (job?.c === undefined || (user === undefined && !anacron)) continue
    // cron's `%` ends the command (what follows is its input).
    const command = anacron ? job.c : job.c.replace(/(?<!\\)%[^\n]*/, '')
    const cwd = anacron ? undefined : (home ?? `~${user}`)
    // Session 40: the HOME the job's scripts run with (anacron's only from its HOME= line).
    const jobHome = anacron ? home : cwd
    const from = (w: string) => (cwd === undefined ? undefined : cwd.startsWith('/') ? posix.resolve(cwd, w) : `${cwd}/${w}`)
    // Session 39: the job's home for its `cd ~/x`, `cd $HOME/x`, `$HOME/pw` (cron sets HOME: its HOME= line, else the account's).
    const jobScope = cwd === undefined || scope.has('HOME') ? scope : { has: (n: string) => n === 'HOME' || scope.has(n), get: (n: string) => (n === 'HOME' ? [cwd] : scope.get(n)) }
    const refs = passwordRefsIn(command, undefined, jobScope, cwd)
    out.paths.push(...refs.paths, ...refs.relative.flatMap((w) => from(w) ?? []).map(asPattern))
    out.words.push(...(cwd === undefined ? refs.words : refs.words.map((w) => inFolderWord(cwd, w))))
    out.assigns.push(...refs.assigns)
    const scripts = crontabScripts(command)
    for (const path of scripts) {
      const n = refs.next.find((f) => f.path === path)
      out.follows.push({ path, cwd: n === undefined || n.cwd === undefined ? (cwd ?? null) : n.cwd, ...(jobHome === undefined ? {} : { home: jobHome }) })
    }
    // A relative one from the job's home, or (session 39) from the folder a `cd` made certain (`cd $HOME/conf && ./run.sh`: its path resolved).
    for (const n of refs.next) {
      if (scripts.includes(n.path)) continue
      const at = n.path.startsWith('/') || n.path.startsWith('~') ? n.path : from(n.path)
      if (at !== undefined) out.follows.push({ path: at, cwd: n.cwd === undefined ? (cwd ?? null) : n.cwd, ...(jobHome === undefined ? {} : { home: jobHome }) })
    }
  }
  return out
}

/**
 * A value to its last character before blanks and its line's end (session 38): each run of blanks
 * that a character other than a line's end follows, with that character, taken greedily one way
 * only. The same value as a lazy `[^\r\n]*?` before `[ \t]*\r?$` (in `m` mode a line's end is
 * also before `\r`, U+2028 or U+2029), which tried the line's end over the rest of a run of
 * blanks from each of the run's characters: a config line of `sasldb_path: a`, 16 KB of tabs and
 * `b` took 1.5 s, now 0.1 ms.
 */
const REST = String.raw`(?:[ \t]*[^ \t\r\n\u2028\u2029])*`
/** The naming rules' line settings (session 38: linear, REST; plugins/files/test/named-credentials.test.ts holds each to its earlier expression). */
export const LINE_VALUES = {
  hostapd: new RegExp(String.raw`^[ \t]*(?:wpa_psk_file|eap_user_file)[ \t]*=[ \t]*(?<f>[^\s#]${REST})[ \t]*$`, 'gm'),
  keyFile: new RegExp(String.raw`^[ \t]*keyFile[ \t]*[:=][ \t]*(?<f>[^\s#](?:[ \t]*[^ \t\r\n\u2028\u2029#])*)[ \t]*(?:#.*)?$`, 'gm'),
  sasldb: new RegExp(String.raw`^[ \t]*sasldb_path[ \t]*:[ \t]*(?<f>[^\s#]${REST})[ \t]*\r?$`, 'gm'),
  loadCredential: new RegExp(String.raw`^[ \t]*LoadCredential(?:Encrypted)?[ \t]*=[ \t]*[^:\s]+:(?<f>[/%]${REST})[ \t]*\r?$`, 'gm'),
  environmentFile: new RegExp(String.raw`^[ \t]*EnvironmentFile[ \t]*=[ \t]*(?<f>${REST})[ \t]*\r?$`, 'gm'),
  rsyncSecrets: new RegExp(String.raw`^[ \t]*secrets[ \t]*file[ \t]*=[ \t]*(?<f>[^\s#;]${REST})[ \t]*\r?$`, 'gim'),
  pskSecrets: new RegExp(String.raw`^[ \t]*PSKsecrets[ \t]*=[ \t]*(?<f>[^\s;#]${REST})[ \t]*\r?$`, 'gim'),
  zabbix: new RegExp(String.raw`^[ \t]*(?:Plugins\.[^\s=]+\.)?TLS(?:PSK|Key)File[ \t]*=[ \t]*(?<f>[^\s#]${REST})[ \t]*\r?$`, 'gm'),
} as const

export const NAMING_RULES: readonly NamingRule[] = [
  {
    rule: 'hostapd credential file',
    isConfig: (path) => inFolder(HOSTAPD, path) && path.endsWith('.conf'),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.hostapd)) {
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
      for (const m of text.matchAll(LINE_VALUES.keyFile)) {
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
        const pwdfile = /\bpam_pwdfile\.so\b.*?[ \t]pwdfile(?:=|[ \t]+)(?<f>\/\S+)/.exec(line)?.groups?.f
        if (pwdfile !== undefined) out.push(resolved(config, pwdfile))
      }
      return out
    },
  },
  {
    rule: 'vsftpd credential file',
    isConfig: (path) => VSFTPD_CONFIGS.includes(path),
    named: (config, text) => {
      const out: string[] = []
      const value = (name: string): string | undefined => {
        let found: string | undefined
        for (const m of text.matchAll(new RegExp(String.raw`^[ \t]*${name}=(?<v>${REST})[ \t]*\r?$`, 'gm'))) found = m.groups?.v
        return found
      }
      // The last setting of a name counts (vsftpd reads the file top to bottom).
      const emails = value('email_password_file')
      if (emails !== undefined && emails !== '') out.push(resolved(config, emails))
      else if (/^yes$/i.test(value('secure_email_list_enable') ?? '')) out.push('/etc/vsftpd.email_passwords')
      for (const key of ['rsa_private_key_file', 'dsa_private_key_file']) {
        const file = value(key)
        if (file !== undefined && file !== '') out.push(resolved(config, file))
      }
      return out
    },
  },
  {
    rule: 'Cyrus SASL password database',
    isConfig: (path) => path.endsWith('.conf') && SASL.some((folder) => inFolder(folder, path)),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.sasldb)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, file), `${resolved(config, file)}.*`)
      }
      return out
    },
  },
  {
    rule: SYSTEMD_RULE,
    isConfig: (path) => (path.endsWith('.service') && isUnitFolder(posix.dirname(path))) || (path.endsWith('.conf') && isDropInFolder(posix.dirname(path))),
    named: (config, text, accounts) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.loadCredential)) {
        // A file, or a folder whose every file is a credential.
        for (const path of unitPaths(config, m.groups?.f ?? '', accounts)) out.push(path, `${path}/**`)
      }
      for (const m of text.matchAll(LINE_VALUES.environmentFile)) {
        for (const word of (m.groups?.f ?? '').split(/[ \t]+/)) out.push(...unitPaths(config, word, accounts))
      }
      // A kube-apiserver run by a unit (`ExecStart=… --token-auth-file=…`, session 31).
      out.push(...kubeAuthFiles(text))
      // A password file its environment or command lines point at (`Environment=RESTIC_PASSWORD_FILE=…`, `--password-file …`, session 35);
      // session 36: `${PASSFILE}` of its own Environment=, a relative path from its WorkingDirectory=.
      for (const word of unitPasswordWords(config, text, accounts).paths) out.push(...unitPaths(config, word, accounts))
      return out
    },
    environment: (config, text, accounts) => ({ words: unitPasswordWords(config, text, accounts).words, assigns: unitAssignments(text) }),
    // Its environment files and the scripts its Exec lines run (`ExecStart=/opt/backup/run.sh`, `/bin/sh /etc/restic/run`).
    // Session 38: each run from the unit's folder (unitCwd), for the relative words it holds.
    // Session 39: from each folder it may run in (a unit of /etc/systemd/user: each home).
    follows: (config, text, accounts) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.environmentFile)) {
        for (const word of (m.groups?.f ?? '').split(/[ \t]+/)) out.push(...unitPaths(config, word, accounts))
      }
      for (const m of text.matchAll(/^[ \t]*Exec[A-Za-z]*[ \t]*=(?<c>[^\r\n]*)/gm)) {
        for (const w of (m.groups?.c ?? '').matchAll(/(?:^|[\s"'=])[-@:+!|]*(?<f>[/%][^\s"';|&()<>`]+)/g)) out.push(...unitPaths(config, w.groups?.f ?? '', accounts))
      }
      const paths = [...new Set(out.filter(followable))]
      const cwds = paths.length === 0 ? [] : unitCwds(config, text, accounts)
      // A path under one of the folders (a home's `%h/bin/sync`) runs from that one (not every home's script from every home).
      const from = (path: string) => {
        const own = cwds.filter((c) => c !== null && c !== '/' && path.startsWith(`${c}/`))
        return own.length === 0 ? cwds : own
      }
      // Session 40: with the HOME systemd gives it (unitHome), for a script's `cd $HOME`, `~/pw`.
      const home = paths.length === 0 ? undefined : unitHome(config, text)
      const out1 = paths.flatMap((path) => from(path).map((cwd) => ({ path, cwd, ...(home === undefined ? {} : { home }) })))
      if (paths.length === 0 || !posix.dirname(config).startsWith(SYSTEMD_USER)) return out1
      // Session 41: a unit of /etc/systemd/user runs in every user's manager, each with its own HOME:
      // its scripts followed once for each home an account has (sharedUnitHomes), from that home's folders.
      return [
        ...out1,
        ...sharedUnitHomes(accounts).flatMap((h) => {
          const own = unitCwds(config, text, { byHome: accounts?.byHome ?? new Map(), homes: [h] })
          return paths.flatMap((path) => {
            const mine = own.filter((c) => c !== null && c !== '/' && path.startsWith(`${c}/`))
            return (mine.length === 0 ? own : mine).map((cwd) => ({ path, cwd, home: h }))
          })
        }),
      ]
    },
  },
  {
    rule: 'rsync secrets file',
    isConfig: (path) => RSYNCD_CONFIGS.includes(path),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.rsyncSecrets)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, unquoted(file)))
      }
      return out
    },
  },
  {
    rule: 'OpenSMTPD credential table',
    isConfig: (path) => SMTPD_CONFIGS.includes(path),
    named: (config, text) => {
      const used = new Set([...text.matchAll(/\bauth(?:-optional)?[ \t]+<(?<t>[^>\s]+)>/g)].map((m) => m.groups?.t))
      const out: string[] = []
      for (const m of text.matchAll(/^[ \t]*table[ \t]+(?<t>\S+)[ \t]+(?:(?:file|db):)?(?<f>\/[^\s#]+)/gm)) {
        const file = m.groups?.f
        if (file !== undefined && used.has(m.groups?.t)) out.push(resolved(config, file), `${resolved(config, file)}.db`)
      }
      return out
    },
  },
  {
    rule: 'LUKS key file',
    isConfig: (path) => path === CRYPTTAB,
    named: (_config, text) => {
      const out: string[] = []
      for (const line of text.split(/\r?\n/)) {
        const key = /^[ \t]*[^\s#]\S*[ \t]+\S+[ \t]+(?<k>\S+)/.exec(line)?.groups?.k
        // A path on the root: not `none` or `-`, not a device (`/dev/urandom`), not `PATH:DEVICE` (a key on another device).
        if (key !== undefined && key.startsWith('/') && !key.startsWith('/dev/') && !key.startsWith('/proc/') && !key.includes(':')) out.push(posix.normalize(key).replace(/\*/g, '?'))
      }
      return out
    },
  },
  {
    rule: 'Kubernetes token file',
    isConfig: (path) => KUBE_CONFIGS.includes(path) || KUBERNETES.some((folder) => inFolder(folder, path)),
    named: (_config, text) => kubeAuthFiles(text),
  },
  {
    // Session 41: an XDG autostart entry's `Exec=` lines (isAutostart), with the HOME of each user it
    // starts for (autostartHomes): the password files they point at, the scripts they run followed
    // from its `Path=` (else the home: a session starts its entries there).
    rule: PASSWORD_FILE_RULE,
    isConfig: isAutostart,
    named: (config, text, accounts) => {
      const { exec, folder } = desktopExec(text)
      if (exec === '') return []
      const out = new Set<string>()
      const homes = autostartHomes(config, accounts)
      for (const home of homes.length === 0 ? [undefined] : homes) {
        const refs = passwordRefsIn(exec, undefined, undefined, home)
        for (const p of refs.paths) out.add(p)
        const cwd = folder ?? home
        if (cwd !== undefined) for (const w of refs.relative) out.add(fromFolder(cwd, w))
      }
      return [...out]
    },
    follows: (config, text, accounts) => {
      const { exec, folder } = desktopExec(text)
      const scripts = exec === '' ? [] : crontabScripts(exec)
      if (scripts.length === 0) return []
      const homes = autostartHomes(config, accounts)
      return scripts.flatMap((path) => (homes.length === 0 ? [{ path, cwd: folder ?? null }] : homes.map((home) => ({ path, cwd: folder ?? home, home }))))
    },
    maxBytes: MAX_FOLLOWED_BYTES,
  },
  {
    // Session 41: PostgreSQL's `krb_server_keyfile` and `ssl_passphrase_command`'s file or program (postgresNamed).
    rule: 'PostgreSQL credential file',
    isConfig: isPostgresConfig,
    named: (config, text) => postgresNamed(config, text),
    // Session 42: `include`, `include_if_exists`, `include_dir`, Debian's data folder's postgresql.auto.conf.
    includes: (config, text) => postgresIncludes(config, text),
  },
  {
    // Session 41: Dovecot's passwd-file (`user:password:uid:gid…` lines; under `scheme=PLAIN` or
    // `default_pass_scheme = PLAIN` a password in the clear, which no detector tells from a field).
    rule: 'Dovecot passwd-file',
    isConfig: (path) => path === `${DOVECOT}/dovecot.conf` || (inFolder(DOVECOT_FOLDER, path) && /\.conf(?:\.ext)?$/.test(path)) || (inFolder(DOVECOT, path) && path.endsWith('.conf.ext')),
    named: (_config, text) => {
      const out = new Set<string>()
      for (const block of valuesIn(uncommented(text).replace(/#[^\n]*/g, ''), DOVECOT_BLOCK)) {
        // 2.4's `passdb passwd-file {`, 2.3's (and 2.4's named block's) `driver = passwd-file`.
        if (!/^[ \t]*passwd-file\b|\bdriver[ \t]*=[ \t]*passwd-file\b/.test(block)) continue
        for (const m of block.matchAll(DOVECOT_ARGS)) for (const word of (m.groups?.v ?? '').trim().split(/[ \t]+/)) {
          const path = dovecotPath(word)
          if (path !== undefined) out.add(path)
        }
      }
      return [...out]
    },
  },
  {
    // Session 41: PgBouncer's `auth_file` (`"user" "password"` lines: a password in the clear, an md5 or SCRAM verifier).
    rule: 'PgBouncer auth file',
    isConfig: (path) => PGBOUNCER_CONFIGS.includes(path),
    named: (config, text) => valuesIn(uncommented(text), PGBOUNCER_AUTH_FILE).map((v) => resolved(config, unquoted(v))),
  },
  {
    // Session 41: Mosquitto's `psk_file` (`identity:KEY` lines, the key in hex) and `password_file`.
    rule: 'Mosquitto credential file',
    isConfig: (path) => MOSQUITTO_CONFIGS.includes(path) || (inFolder(MOSQUITTO_FOLDER, path) && path.endsWith('.conf')),
    named: (config, text) => valuesIn(text, MOSQUITTO_FILES).map((v) => resolved(config, unquoted(v))),
  },
  {
    rule: 'stunnel PSK file',
    isConfig: (path) => inFolder(STUNNEL, path) && path.endsWith('.conf'),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.pskSecrets)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, unquoted(file)))
      }
      return out
    },
  },
  {
    // Session 36: chrony's `keyfile FILE` and ntpd's `keys FILE`: the symmetric keys that
    // authenticate time sources (`ID SHA256 HEX:…` lines; /etc/chrony/chrony.keys and
    // /etc/ntpsec/ntp.keys were held by their paths, a file of another name was mirrored).
    rule: 'NTP key file',
    isConfig: (path) => NTP_CONFIGS.includes(path) || (path.endsWith('.conf') && NTP_FOLDERS.some((folder) => inFolder(folder, path))),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(/^[ \t]*(?:keyfile|keys)[ \t]+(?<f>[^\s#]+)/gm)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, unquoted(file)))
      }
      return out
    },
  },
  {
    // Session 36: Zabbix's `TLSPSKFile=` (the agent's, agent 2's, the server's and proxy's pre-shared
    // key: a line of hex, held only when named *.psk before) and `TLSKeyFile=` (a plugin's session's
    // too: `Plugins.Mysql.Sessions.NAME.TLSKeyFile=`), relative to the config's folder.
    rule: 'Zabbix PSK or key file',
    isConfig: (path) => path.endsWith('.conf') && ZABBIX_FOLDERS.some((folder) => inFolder(folder, path)),
    named: (config, text) => {
      const out: string[] = []
      for (const m of text.matchAll(LINE_VALUES.zabbix)) {
        const file = m.groups?.f
        if (file !== undefined) out.push(resolved(config, unquoted(file)))
      }
      return out
    },
  },
  {
    // Session 39: Kerberos keytabs of any name that krb5.conf (`default_keytab_name`,
    // `default_client_keytab_name`; the KDC's kdc.conf: its master key's `key_stash_file`,
    // `admin_keytab`), SSSD (`krb5_keytab`, `ldap_krb5_keytab`) and gssproxy (`keytab =`,
    // `cred_store = keytab:…`, `client_keytab:…`, `ccache:FILE:…`) name; `*.keytab` is held by
    // its name, a keytab of another (`/etc/gss/http.service-key`) was mirrored.
    rule: 'Kerberos keytab',
    isConfig: (path) => keytabKind(path) !== undefined,
    named: (config, text) => {
      const kind = keytabKind(config)
      if (kind === undefined) return []
      const out: string[] = []
      for (const m of text.matchAll(SETTING_LINE)) {
        const key = m.groups?.k ?? ''
        if (!KEYTAB_SETTINGS[kind].has(key)) continue
        const path = keytabPath(m.groups?.v ?? '', key === 'cred_store')
        // Session 40: the KDC's database with the files beside it (principal.ok, principal.kadm5, an LMDB's principal.mdb).
        if (path !== undefined) out.push(...(key === 'database_name' ? [path, `${path}.*`] : [path]))
      }
      return out
    },
  },
  {
    // Session 40: Apache's keytabs of any name (mod_auth_gssapi's `GssapiCredStore keytab:…`,
    // mod_auth_kerb's `Krb5Keytab`), in its configs and the files they `Include`.
    // Session 41: its other credential files (APACHE_FILES), in the files it includes wherever they are (INCLUDE_ROOTS).
    rule: WEB_SERVER_RULE,
    isConfig: isApacheConfig,
    named: (config, text) => apacheKeytabs(config, text),
    // A folder's files too (`Include /etc/intranet/apache.d`: Apache reads each file in it): `PATH/*`, nothing where PATH is a file.
    includes: (config, text) => valuesIn(text, APACHE_INCLUDE, MAX_INCLUDE_TRIES).flatMap((v) => includePattern(posix.resolve(apacheRoot(config), unquoted(v)))).flatMap((p) => (/[*?]/.test(posix.basename(p)) ? [p] : [p, `${p}/*`])),
    // Session 42: the folders whose `.htaccess` files are read (webWalkRoots).
    webRoots: apacheWebRoots,
  },
  {
    // Session 40: nginx's spnego module's `auth_gss_keytab`, in its configs and the files they `include`.
    // Session 41: its passphrase, user and ticket key files (NGINX_FILES), in the files it includes wherever they are.
    rule: WEB_SERVER_RULE,
    isConfig: isNginxConfig,
    named: (_config, text) => nginxNamed(text),
    includes: (_config, text) => valuesIn(withoutHashComments(text), NGINX_INCLUDE, MAX_INCLUDE_TRIES).flatMap((v) => includePattern(posix.resolve('/etc/nginx', v))),
  },
  {
    // Session 40: Samba's keytab, password databases and private folder (sambaNamed), in smb.conf and the files it includes.
    rule: 'Samba credential file',
    isConfig: isSambaConfig,
    named: (_config, text) => sambaNamed(uncommented(text)),
    includes: (_config, text) => sambaIncludes(uncommented(text)),
  },
  {
    // Session 35: the crontabs (/etc/crontab, /etc/cron.d, the users') and the administrator's
    // scripts (run-parts' /etc/cron.*ly, /usr/local/bin and sbin): the password files their lines
    // point at (passwordFilesIn); a crontab's scripts are followed too (crontabScripts).
    // Session 38: a crontab a job line at a time (crontabRefs: its job's home); /etc/default's files (the environment of
    // the packages' units and init scripts: `KRB5_KTNAME=…`); run-parts' scripts run from `/` (cron's `cd / && run-parts`).
    rule: PASSWORD_FILE_RULE,
    isConfig: (path) => path === CRONTAB || path === ANACRONTAB || path === APACHE_ENVVARS || MAIL_CONFIGS.includes(path) || isHomeMailConfig(path) || [...CRONTAB_FOLDERS, ...SCRIPT_FOLDERS, DEFAULTS].some((folder) => inFolder(folder, path)),
    named: (config, text) => (isCrontab(config) ? crontabRefs(config, text).paths : scriptRefs(config, text).paths),
    // A crontab's scripts; a script's sourced files and the scripts it runs (session 36).
    follows: (config, text) => (isCrontab(config) ? crontabRefs(config, text).follows : scriptRefs(config, text).next),
    environment: (config, text) => {
      const refs = isCrontab(config) ? crontabRefs(config, text) : passwordRefsIn(text, config)
      return { words: refs.words, assigns: refs.assigns }
    },
    maxBytes: MAX_FOLLOWED_BYTES,
  },
]

/** The rule whose configs include this machine path, if any. */
export const namingRuleOf = (path: string): NamingRule | undefined => NAMING_RULES.find((r) => r.isConfig(path))

/**
 * Where the naming rules' configs are: these files, and the files of these folders (at most `max`
 * of a folder; systemd's drop-in folders in turn). One list for the machine's look (machineConfigs)
 * and a push's look at the twin (twinNamedCredentialFiles in secrets.ts).
 */
export const NAMING_CONFIG_PLACES = {
  folders: [HOSTAPD, PAM, ...LIGHTTPD, ...SASL, SYSTEMD, SYSTEMD_USER, STUNNEL, DOVECOT, DOVECOT_FOLDER, MOSQUITTO_FOLDER, AUTOSTART, ...KUBERNETES, ...NTP_FOLDERS, ...ZABBIX_FOLDERS, ...CRONTAB_FOLDERS, ...SCRIPT_FOLDERS, DEFAULTS, KRB5_FOLDER, SSSD_FOLDER, GSSPROXY, ...APACHE_FOLDERS, ...NGINX_FOLDERS, SAMBA],
  /** Under each user's home (the selected users' on the machine, every account's of the twin's /etc/passwd). */
  homeFolders: [HOME_UNITS, HOME_AUTOSTART],
  /** Files under each home, likewise (session 36: the mail clients' configs). */
  homeFiles: HOME_MAIL_CONFIGS,
  /** Session 41: folders whose configs are found under them by their rule's isConfig (PostgreSQL's VERSION/CLUSTER). */
  trees: [POSTGRES, PGSQL],
  files: [...MONGO_CONFIGS, ...PGBOUNCER_CONFIGS, ...MOSQUITTO_CONFIGS, ...VSFTPD_CONFIGS, ...RSYNCD_CONFIGS, ...SMTPD_CONFIGS, CRYPTTAB, ...KUBE_CONFIGS, ...NTP_CONFIGS, CRONTAB, ANACRONTAB, ...MAIL_CONFIGS, ...KRB5_CONFIGS, ...SSSD_CONFIGS, ...APACHE_CONFIGS, ...NGINX_CONFIGS, APACHE_ENVVARS],
  max: MAX_CONFIGS,
} as const

/** The files of NAMING_CONFIG_PLACES.homeFiles under these homes. */
export const homeConfigFiles = (homes: readonly string[]): string[] =>
  [...new Set(homes)].map((h) => posix.normalize(h).replace(/\/+$/, '')).filter((h) => h.startsWith('/')).flatMap((h) => NAMING_CONFIG_PLACES.homeFiles.map((f) => `${h}/${f}`))

/** The folders of NAMING_CONFIG_PLACES.homeFolders under these homes. */
export const homeConfigFolders = (homes: readonly string[]): string[] =>
  [...new Set(homes)].map((h) => posix.normalize(h).replace(/\/+$/, '')).filter((h) => h.startsWith('/')).flatMap((h) => NAMING_CONFIG_PLACES.homeFolders.map((f) => `${h}/${f}`))

/**
 * The machine's configs the naming rules read (NAMING_CONFIG_PLACES): /etc/hostapd/*.conf, /etc/stunnel/*.conf, /etc/mongod.conf and
 * /etc/mongodb.conf, /etc/pam.d/* (links read through, with the stat data of the file they lead
 * to), vsftpd's config, lighttpd's *.conf (regular files only; conf-enabled's symlinks are
 * conf-available's files), the SASL applications' *.conf, the *.service of /etc/systemd/system,
 * /etc/systemd/user and each of `homes`' ~/.config/systemd/user and their drop-ins' *.conf
 * (NAME.service.d/), /etc/rsyncd.conf, OpenSMTPD's smtpd.conf, /etc/crypttab,
 * the files of /etc/kubernetes and its manifests/, k3s's and RKE2's config.yaml, with their stat data.
 */
type MachineConfig = { path: string; stat: NonNullable<Awaited<ReturnType<HostPort['lstat']>>>; read?: string }

async function machineConfigs(host: Pick<HostPort, 'lstat' | 'stat' | 'readdir' | 'readlink'>, startedAt: number, homes: readonly string[], cache?: ProviderCache): Promise<MachineConfig[]> {
  const candidates: Array<{ path: string; at: string }> = [...NAMING_CONFIG_PLACES.files, ...homeConfigFiles(homes)].map((path) => ({ path, at: path }))
  // Each folder by its own name (what the rules go by) and where it really is (a unit folder may be a link, session 33).
  const folders: Array<{ folder: string; at: string }> = [...NAMING_CONFIG_PLACES.folders, ...homeConfigFolders(homes)].map((folder) => ({ folder, at: folder }))
  // Session 41: PostgreSQL's clusters' postgresql.conf and conf.d.
  for (const cluster of await postgresFolders(host)) {
    candidates.push({ path: `${cluster}/postgresql.conf`, at: `${cluster}/postgresql.conf` })
    folders.push({ folder: `${cluster}/conf.d`, at: `${cluster}/conf.d` })
  }
  // Session 42: Red Hat's data folders' postgresql.conf and postgresql.auto.conf.
  for (const data of await pgsqlDataFolders(host)) for (const name of ['postgresql.conf', 'postgresql.auto.conf']) candidates.push({ path: `${data}/${name}`, at: `${data}/${name}` })
  const look = machineLooks(host)
  const linkedUnit = (folder: string, at: string) => linkedUnitAt(look, folder, at)
  const lists = cache === undefined ? undefined : await FolderLists.open(cache, startedAt)
  for (let i = 0; i < folders.length; i++) {
    const { folder } = folders[i] as { folder: string; at: string }
    let { at } = folders[i] as { folder: string; at: string }
    let st = await host.lstat(at).catch(() => undefined)
    // A user's unit folder, or a folder on its way, may be a link (stow folds ~/.config/systemd whole): where it
    // really is, within the same home (an lstat of each name on the way); a drop-in folder that is a link likewise.
    if (homeOfFolder(folder) !== undefined || (st?.type === 'symlink' && isDropInFolder(folder))) {
      const real = await linkedUnit(folder, at)
      st = real === undefined ? undefined : await host.lstat(real).catch(() => undefined)
      at = real ?? at
    }
    if (st?.type !== 'directory') continue
    const where = at
    const units = isUnitFolder(folder) || isDropInFolder(folder)
    const list = async (): Promise<string[]> => {
      const entries = await host.readdir(where).catch(() => [])
      const names = entries
        .filter((e) => e.type === 'file' || (e.type === 'symlink' && (FOLLOWED.has(folder) || units)))
        .map((e) => `${folder}/${e.name}`)
        .filter((p) => namingRuleOf(p) !== undefined)
        .sort()
      // systemd's drop-in folders (`NAME.service.d/`, listed in turn; a link to one too), written with their `/`.
      const dropIns = isUnitFolder(folder) ? entries.filter((e) => (e.type === 'directory' || e.type === 'symlink') && isDropInFolder(`${folder}/${e.name}`)).map((e) => `${folder}/${e.name}/`).sort() : []
      return [...names.slice(0, NAMING_CONFIG_PLACES.max), ...dropIns.slice(0, NAMING_CONFIG_PLACES.max)]
    }
    // A folder whose stat data did not move has the same names: not listed again (an unchanged machine lists no folder).
    // v2 (session 22): /etc/pam.d's links are listed too; a list cached before holds none.
    // v3 (session 33): unit folders' links (units, drop-in folders) are listed too; keyed by where the folder really is.
    // v4 (session 50): every folder's list in one record (FolderLists).
    const listed = lists === undefined ? await list() : await lists.listed(folder, at, st, list)
    for (const path of listed) {
      const name = path.slice(folder.length + 1)
      if (path.endsWith('/')) folders.push({ folder: path.slice(0, -1), at: `${at}/${name.slice(0, -1)}` })
      else candidates.push({ path, at: `${at}/${name}` })
    }
  }
  await lists?.save()
  const out: MachineConfig[] = []
  for (const { path, at } of candidates) {
    const stat = await host.lstat(at).catch(() => undefined)
    if (stat?.type === 'file' && stat.size > (namingRuleOf(path)?.maxBytes ?? Number.POSITIVE_INFINITY)) continue
    if (stat?.type === 'file') out.push(at === path ? { path, stat } : { path, stat, read: at })
    // A link where links are read through: the stat data of the file it leads to (a change there moves them).
    else if (stat?.type === 'symlink' && FOLLOWED.has(posix.dirname(path))) {
      const target = await host.stat(path).catch(() => undefined)
      if (target?.type === 'file') out.push({ path, stat: target })
    } else if (stat?.type === 'symlink' && namingRuleOf(path)?.rule === SYSTEMD_RULE) {
      // A unit or drop-in that is a link (session 33): the file it leads to, read where it is.
      const real = await linkedUnit(posix.dirname(path), at)
      const target = real === undefined ? undefined : await host.lstat(real).catch(() => undefined)
      if (real !== undefined && target?.type === 'file' && target.size <= MAX_LINKED_UNIT) out.push({ path, stat: target, read: real })
    }
  }
  return out
}

/**
 * The names listed in the folders machineConfigs looks into, each kept while its folder keeps its
 * path and stat data (size, mtime, ctime, inode, device), never from a folder changed too
 * recently to trust its times (isRacy), as cachedByFileStats keeps one value: all of them in one
 * record of the provider's cache, read once and written once when a list moved.
 * Speed (issue 22, session 50): until then one cache file a folder (`named-credential-folder-v3:`
 * and the folder: 12 on the minbase root), so a first snapshot created 12 files, and every
 * snapshot read 12; now one each. A record that cannot be read is none (it only costs a
 * listing).
 *
 * Session 51: the per-folder files a twin made before kept (`named-credential-folder-v3:` and the
 * folder, and the `named-credential-folder-v2:` and `named-credential-folder:` of the versions
 * before it) are removed when the record is first written (none was there to read), once.
 * Session 52 (retireKeys): those the cache holds, from one listing of its keys, a folder's since
 * gone from the machine too; a new twin's cache holds none (session 51 removed three keys a
 * folder looked into, each absent, on every first snapshot).
 */
class FolderLists {
  private readonly now = new Map<string, { signature: string; names: string[] }>()
  private moved = false

  private constructor(
    private readonly cache: ProviderCache,
    private readonly startedAt: number,
    private readonly kept: ReadonlyMap<string, { signature: string; names: string[] }>,
    private readonly first: boolean,
  ) {}

  static async open(cache: ProviderCache, startedAt: number): Promise<FolderLists> {
    const kept = new Map<string, { signature: string; names: string[] }>()
    const text = await cache.read(FOLDER_LISTS_KEY).catch(() => undefined)
    try {
      const record = JSON.parse(text ?? '{}') as unknown
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
        for (const [folder, entry] of Object.entries(record as Record<string, unknown>)) {
          const { signature, names } = (entry ?? {}) as { signature?: unknown; names?: unknown }
          if (typeof signature === 'string' && Array.isArray(names) && names.every((n) => typeof n === 'string')) kept.set(folder, { signature, names: names as string[] })
        }
      }
    } catch {} // a damaged record only costs the listings
    return new FolderLists(cache, startedAt, kept, text === undefined)
  }

  /** `folder`'s names, where it really is (`at`, its stat data `stat`): kept, or `list`ed. */
  async listed(folder: string, at: string, stat: NonNullable<Awaited<ReturnType<HostPort['lstat']>>>, list: () => Promise<string[]>): Promise<string[]> {
    const signature = JSON.stringify([at, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.dev])
    const racy = isRacy(stat, this.startedAt)
    const kept = this.kept.get(folder)
    if (!racy && kept?.signature === signature) {
      this.now.set(folder, kept)
      return kept.names
    }
    const names = await list()
    this.moved = true
    if (!racy) this.now.set(folder, { signature, names })
    return names
  }

  /** Written when a list moved, or a folder kept before was not looked into this time; the first time, the old per-folder files removed. */
  async save(): Promise<void> {
    if (!this.moved && this.now.size === this.kept.size) return
    await this.cache.write(FOLDER_LISTS_KEY, JSON.stringify(Object.fromEntries(this.now))).catch(() => undefined)
    if (this.first) await retireKeys(this.cache, (key) => OLD_FOLDER_KEYS.some((old) => key.startsWith(old)))
  }
}

/** The keys of the per-folder lists before the one record (v1 to v3), each followed by its folder. */
const OLD_FOLDER_KEYS = ['named-credential-folder:', 'named-credential-folder-v2:', 'named-credential-folder-v3:']

const FOLDER_LISTS_KEY = 'named-credential-folders-v4'

/** A config's text; through a link only where links are read through, and only the system's own (ReadOptions' root-owned); a linked unit's where it really is (`read`). */
const readConfig = (host: Pick<HostPort, 'readTextIfExists'>, path: string, read?: string): Promise<string | undefined> =>
  host.readTextIfExists(read ?? path, read === undefined && FOLLOWED.has(posix.dirname(path)) ? { follow: 'root-owned' } : undefined).catch(() => undefined)

/** The names in a folder (files, folders, links), for a named path's wildcard: the machine's readdir, or a twin's list and recorded links. */
export type ListNames = (folder: string) => Promise<readonly string[]>

/** The machine's folders, each listed once for one collect. */
export function machineNames(host: Pick<HostPort, 'readdir'>): ListNames {
  const lists = new Map<string, Promise<readonly string[]>>()
  return (folder) => {
    let names = lists.get(folder)
    if (names === undefined) {
      names = host.readdir(folder).then((entries) => entries.map((e) => e.name), () => [])
      lists.set(folder, names)
    }
    return names
  }
}

/** At most this many paths a named pattern's wildcards are taken to (a `%h` in /etc/systemd/user: each home). */
const MAX_WILD_PATHS = 256

/**
 * The paths a named pattern's wildcards (`*`, `?` within a component: a unit's specifiers, `%h`
 * for every home) stand for on the machine or in the twin: each wildcard component matched against
 * the names of the folder reached (`list`, the folder itself resolved through its links first).
 * At most MAX_WILD_PATHS; none for a `**` or a `[` (not what the naming rules write).
 */
export async function wildPaths(look: LookName, list: ListNames, pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter((n) => n !== '')
  if (parts.some((p) => p.includes('**') || p.includes('['))) return []
  let paths = ['']
  for (const part of parts) {
    if (!/[*?]/.test(part)) {
      paths = paths.map((p) => `${p}/${part}`)
      continue
    }
    const match = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
    const next: string[] = []
    for (const folder of paths) {
      const real = await throughLinks(look, folder === '' ? '/' : folder, '/')
      if (real === undefined) continue
      for (const name of await list(real)) {
        if (!match.test(name) || name === '.' || name === '..') continue
        next.push(`${folder}/${name}`)
        if (next.length >= MAX_WILD_PATHS) break
      }
      if (next.length >= MAX_WILD_PATHS) break
    }
    paths = next
    if (paths.length === 0) return []
  }
  return paths
}

/**
 * The files that named paths lead to when they are links or lie below a folder link (stow's
 * ~/.config/app/app.env -> ../../dotfiles/app/app.env): the walk mirrors the file where it really
 * is, so that path is named too (a folder's `/**` likewise). Anywhere inside the root. Session 34:
 * a pattern with wildcards too (a `%h` in a unit of /etc/systemd/user stands for every home), each
 * path its wildcards stand for (`list`: the folders' names) resolved so; without `list`, those
 * are passed over. Cost: an lstat of each name on the way of each such path, a listing of each
 * folder a wildcard is in (kept for the call).
 */
export async function namedThroughLinks(look: LookName, named: readonly string[], list?: ListNames): Promise<string[]> {
  const out: string[] = []
  for (const pattern of named) {
    const tail = pattern.endsWith('/**') ? '/**' : ''
    const path = pattern.slice(0, pattern.length - tail.length)
    const paths = !/[*?[\\]/.test(path) ? [path] : list === undefined || path.includes('\\') ? [] : await wildPaths(look, list, path)
    for (const one of paths) {
      const real = await throughLinks(look, one, '/')
      if (real !== undefined && real !== one) out.push(`${real}${tail}`)
    }
  }
  return out
}

/**
 * The path patterns, with their rule, that the machine's configs name (see NAMING_RULES). Configs
 * whose stat data did not move are not read again, nor folders whose stat data did not move listed
 * again (cachedByFileStats): on an unchanged machine, a stat of each folder and config.
 */
export async function namedCredentialFiles(
  host: Pick<HostPort, 'readTextIfExists' | 'lstat' | 'stat' | 'readdir' | 'readlink'>,
  cache?: ProviderCache,
  homes: readonly string[] = [],
  /** The machine's /etc/passwd when the caller has read it already (collect reads it for its accounts): not read twice. */
  passwd?: ReadonlyArray<{ name: string; home: string }>,
): Promise<string[]> {
  const startedAt = Date.now()
  const configs = await machineConfigs(host, startedAt, homes, cache)
  if (configs.length === 0) return []
  // Session 39: a user unit's specifiers stand for its home's account: the lists are kept while /etc/passwd and /etc/group stay too.
  const accountFiles: MachineConfig[] = []
  if (configs.some((c) => readsAccounts(c.path))) {
    for (const path of ['/etc/passwd', '/etc/group']) {
      const stat = await host.lstat(path).catch(() => undefined)
      if (stat !== undefined) accountFiles.push({ path, stat })
    }
  }
  const read = async (): Promise<{ named: string[]; follows: Follow[]; words: string[]; assigns: Array<[string, string]>; includes: Include[]; web: WebRoots[] }> => {
    const web: WebRoots[] = []
    const paths = new Set<string>()
    const follows = new Map<string, Follow>()
    const words = new Set<string>()
    const assigns: Array<[string, string]> = []
    const includes = new Map<string, Include>()
    const texts: Array<{ config: string; text: string }> = []
    const accounts = accountFiles.length === 0 ? undefined : unitAccounts(parsePasswd((await host.readTextIfExists('/etc/passwd').catch(() => undefined)) ?? ''), parseGroup((await host.readTextIfExists('/etc/group').catch(() => undefined)) ?? ''))
    const apply = (path: string, text: string) => {
      const rule = namingRuleOf(path)
      for (const p of rule?.named(path, text, accounts) ?? []) paths.add(p)
      for (const f of rule?.follows?.(path, text, accounts) ?? []) follows.set(followKey(f), f)
      const env = rule?.environment?.(path, text, accounts)
      for (const w of env?.words ?? []) words.add(w)
      assigns.push(...(env?.assigns ?? []))
      for (const i of rule === undefined ? [] : includesOf(rule, path, text)) includes.set(`${i.rule}\0${i.path}`, i)
      const roots = rule?.webRoots?.(path, text)
      if (roots !== undefined && roots.dirs.length + roots.docroots.length + roots.names.length > 0) web.push(roots)
    }
    for (const { path, read: at } of configs) {
      const text = await readConfig(host, path, at)
      if (text === undefined) continue
      apply(path, text)
      texts.push({ config: path, text })
    }
    // Session 39: a unit with its drop-ins, as systemd reads them.
    for (const { config, text } of unitsWithDropIns(texts)) apply(config, text)
    return { named: [...paths], follows: [...follows.values()], words: [...words], assigns, includes: [...includes.values()], web }
  }
  // Keyed by the rules' version: a config whose stat data did not move names more under newer rules (session 30: EnvironmentFile=).
  const found = cache === undefined ? await read() : await cachedByFileStats(cache, `named-credential-files-v${SECRET_RULES_VERSION}`, [...configs, ...accountFiles], startedAt, read)
  const look = machineLooks(host)
  const names = machineNames(host)
  // A crontab job's home (`~USER`, session 38) as the machine's /etc/passwd says, read when a pattern has one.
  const wantsHome = [...found.named, ...found.follows.flatMap((f) => [f.cwd ?? '', f.home ?? ''])].some((p) => p.startsWith('~'))
  const users = !wantsHome ? [] : (passwd ?? parsePasswd((await host.readTextIfExists('/etc/passwd').catch(() => undefined)) ?? ''))
  let accounts: ((user: string) => string | undefined) | undefined
  const homeOf = (user: string) => (accounts ??= homesOf(users))(user)
  const followed = await followedPasswordFiles(host, (pattern) => wildPaths(look, names, pattern), found.follows, startedAt, homeOf, cache)
  const words = resolvedWords([...found.words, ...followed.words], [...found.assigns, ...followed.assigns])
  // Session 40: the configs the web servers' and Samba's include (a cache of a version before has none).
  const included = (found.includes ?? []).length === 0 ? { paths: [], web: [] } : await includedMachineConfigs(host, look, (pattern) => wildPaths(look, names, pattern), found.includes, startedAt, cache)
  // Session 42: what the per-directory configs (`.htaccess`) under the folders Apache's configs let them configure name.
  const web = [...(found.web ?? []), ...included.web]
  const access = web.length === 0 ? [] : await accessFilesNamed(host, look, (pattern) => wildPaths(look, names, pattern), web, startedAt, cache)
  const named = [...new Set([...found.named, ...followed.paths, ...words, ...included.paths, ...access].flatMap((p) => atHome(p, homeOf) ?? []))]
  const linked = await namedThroughLinks(look, named, names)
  return linked.length === 0 ? named : [...new Set([...named, ...linked])]
}

/** A config a rule's config includes (session 40): the rule (its place in NAMING_RULES) and a path pattern. */
export interface Include {
  readonly rule: number
  readonly path: string
}

/** The configs a rule's config includes, as Includes of that rule. */
export function includesOf(rule: NamingRule, config: string, text: string): Include[] {
  const at = NAMING_RULES.indexOf(rule)
  return at < 0 || rule.includes === undefined ? [] : rule.includes(config, text).map((path) => ({ rule: at, path }))
}

/** What an included config says (includeHops): the paths it names, the configs it includes in turn. */
export interface IncludedRefs {
  readonly named: string[]
  readonly includes: Include[]
  /** Session 42: what it says of per-directory configs (Apache's: webRoots). */
  readonly web?: WebRoots
}

/** An included config's IncludedRefs, by its includer's rule. */
export function includedRefs(include: Include, text: string): IncludedRefs {
  const rule = NAMING_RULES[include.rule]
  if (rule === undefined) return { named: [], includes: [] }
  const web = rule.webRoots?.(include.path, text)
  return { named: rule.named(include.path, text), includes: includesOf(rule, include.path, text), ...(web === undefined ? {} : { web }) }
}

/**
 * The paths the configs that configs include name (session 40: a site's `Include
 * /etc/wiki/apache-auth.conf`, an nginx `include /etc/gss/*.conf;`, smb.conf's `include =`), each
 * read by its includer's rule (what they name by rule name, and the configs read): MAX_INCLUDE_HOPS deep, at most MAX_INCLUDED configs in all, each
 * once (a wildcard taken to its paths, `expand`; a link to where it leads, `resolve`, read where isIncludable);
 * `readRefs` reads a hop's configs (none for one not read). One walk for the machine
 * (includedMachineConfigs) and a pushed twin (secrets.ts). By rule name.
 */
export async function includeHops(starts: readonly Include[], expand: (pattern: string) => Promise<string[]>, resolve: (path: string) => Promise<string | undefined>, readRefs: (entries: Include[], hop: number) => Promise<Array<readonly [string, IncludedRefs]>>): Promise<{ named: Array<{ rule: string; paths: string[] }>; configs: string[]; web: WebRoots[] }> {
  const web: WebRoots[] = []
  const byRule = new Map<string, Set<string>>()
  const seen = new Set<string>()
  const configs = new Set<string>()
  let tries = 0
  let hop: readonly Include[] = starts
  for (let n = 1; n <= MAX_INCLUDE_HOPS && hop.length > 0; n++) {
    const entries: Include[] = []
    for (const start of hop) {
      if (seen.size >= MAX_INCLUDED || tries >= MAX_INCLUDE_TRIES) break
      // A wildcard's listing counts as a look-up too (a hostile config's `Include /etc/h/N/*.conf` lines).
      if (/[*?]/.test(start.path) && ++tries > MAX_INCLUDE_TRIES) break
      for (const path of /[*?]/.test(start.path) ? await expand(start.path) : [start.path]) {
        if (++tries > MAX_INCLUDE_TRIES) break
        const real = await resolve(path)
        const key = `${start.rule}\0${real}`
        if (real === undefined || !isIncludable(real) || seen.has(key) || seen.size >= MAX_INCLUDED) continue
        seen.add(key)
        entries.push({ rule: start.rule, path: real })
      }
    }
    const refs = new Map(entries.length === 0 ? [] : await readRefs(entries, n))
    const next: Include[] = []
    for (const entry of entries) {
      const r = refs.get(`${entry.rule}\0${entry.path}`)
      const name = NAMING_RULES[entry.rule]?.rule
      if (r === undefined || name === undefined) continue
      configs.add(entry.path)
      const set = byRule.get(name) ?? new Set<string>()
      for (const p of r.named) set.add(p)
      byRule.set(name, set)
      next.push(...r.includes)
      if (r.web !== undefined) web.push(r.web)
    }
    hop = next
  }
  return { named: [...byRule].map(([rule, paths]) => ({ rule, paths: [...paths] })), configs: [...configs], web }
}

/** includeHops over the machine: regular files of at most MAX_FOLLOWED_BYTES, a hop's not read again while their stat data stays. */
async function includedMachineConfigs(host: Pick<HostPort, 'readTextIfExists' | 'lstat'>, look: LookName, expand: (pattern: string) => Promise<string[]>, starts: readonly Include[], startedAt: number, cache?: ProviderCache): Promise<{ paths: string[]; web: WebRoots[] }> {
  const { named, web } = await includeHops(
    starts,
    expand,
    (path) => throughLinks(look, path, '/'),
    async (entries, hop) => {
      const files: Array<{ include: Include; path: string; stat: MachineConfig['stat'] }> = []
      for (const include of entries) {
        const stat = await host.lstat(include.path).catch(() => undefined)
        if (stat?.type === 'file' && stat.size <= MAX_FOLLOWED_BYTES) files.push({ include, path: `${include.rule}\0${include.path}`, stat })
      }
      if (files.length === 0) return []
      const read = async (): Promise<Array<[string, IncludedRefs]>> => {
        const refs: Array<[string, IncludedRefs]> = []
        for (const { include, path } of files) refs.push([path, includedRefs(include, (await host.readTextIfExists(include.path).catch(() => undefined)) ?? '')])
        return refs
      }
      return cache === undefined ? read() : cachedByFileStats(cache, `included-configs-v${SECRET_RULES_VERSION}:${hop}`, files, startedAt, read)
    },
  )
  return { paths: named.flatMap((n) => n.paths), web }
}

/**
 * The per-directory configs under the folders webWalkRoots gives (session 42), on the machine: each
 * folder (a wildcard's paths; a folder that is a link, where it leads, read where isIncludable)
 * walked down WEB_LIMITS.depth levels through real folders only (a link inside is never followed:
 * nothing outside the folder is read), at most WEB_LIMITS.folders folders listed in all and
 * WEB_LIMITS.files configs found, regular files of those names, the shallower first: level by
 * level, each level's folders taken from each walked folder in turn (session 43; before, one
 * walked folder after another, so a large site listed first took the whole bound). Each folder
 * as `lister` gives it: listed each look (plainLister), or, with the provider's cache, a folder
 * whose stamp did not move from what it held at the look before (keptLister, session 43).
 */
export async function accessFilesOnMachine(host: Pick<HostPort, 'readdir'>, look: LookName, expand: (pattern: string) => Promise<string[]>, roots: readonly string[], names: readonly string[], lister: FolderLister = plainLister(host, names)): Promise<string[]> {
  const reals = new Set<string>()
  for (const pattern of roots) {
    for (const root of /[*?]/.test(pattern) ? await expand(pattern) : [pattern]) {
      const real = await throughLinks(look, root, '/')
      if (real !== undefined && isIncludable(real)) reals.add(real)
    }
  }
  if (reals.size === 0) return []
  const found: string[] = []
  const listed = new Set<string>()
  // Session 43: the folders' levels together, each level's folders taken from each walked folder in
  // turn (before, one walked folder after another: a large site first in the list took the whole bound).
  let levels = [...reals].sort().map((real) => [real])
  for (let depth = 0; depth <= WEB_LIMITS.depth && levels.some((l) => l.length > 0); depth++) {
    const nexts = levels.map((): string[] => [])
    const widest = Math.max(...levels.map((l) => l.length))
    for (let i = 0; i < widest; i++) {
      for (let r = 0; r < levels.length; r++) {
        const folder = levels[r]?.[i]
        if (folder === undefined || listed.has(folder)) continue
        if (listed.size >= WEB_LIMITS.folders) return found
        listed.add(folder)
        const listing = await lister.list(folder)
        for (const name of listing?.dirs ?? []) nexts[r]?.push(`${folder}/${name}`)
        for (const name of listing?.files ?? []) {
          found.push(`${folder}/${name}`)
          if (found.length >= WEB_LIMITS.files) return found
        }
      }
    }
    levels = nexts.map((next) => next.sort())
  }
  return found
}

/** What the machine's per-directory configs name (accessFileNamed), each read while its stat data stays only once, at most MAX_FOLLOWED_BYTES. */
async function accessFilesNamed(host: Pick<HostPort, 'readTextIfExists' | 'lstat' | 'readdir'>, look: LookName, expand: (pattern: string) => Promise<string[]>, web: readonly WebRoots[], startedAt: number, cache?: ProviderCache): Promise<string[]> {
  const { roots, names } = webWalkRoots(web)
  if (roots.length === 0) return []
  const files: Array<{ path: string; stat: MachineConfig['stat'] }> = []
  const lister = cache === undefined ? plainLister(host, names) : await keptLister(host, cache, 'access-folders-v1', names, startedAt)
  const access = await accessFilesOnMachine(host, look, expand, roots, names, lister)
  await lister.keep()
  for (const path of access) {
    const stat = await host.lstat(path).catch(() => undefined)
    if (stat?.type === 'file' && stat.size <= MAX_FOLLOWED_BYTES) files.push({ path, stat })
  }
  if (files.length === 0) return []
  const read = async (): Promise<string[]> => {
    const out = new Set<string>()
    for (const { path } of files) for (const p of accessFileNamed((await host.readTextIfExists(path).catch(() => undefined)) ?? '')) out.add(p)
    return [...out]
  }
  return cache === undefined ? read() : cachedByFileStats(cache, `access-files-v${SECRET_RULES_VERSION}`, files, startedAt, read)
}

/** The hops followed from a config (session 36: a unit's script, then what that script sources or runs; session 38: a third, what that sources). */
export const MAX_HOPS = 3

/** What the followed files say (followedPasswordFiles, followHops). */
export interface Followed {
  paths: string[]
  words: string[]
  assigns: Array<[string, string]>
}

/**
 * The files the configs' rules follow, MAX_HOPS deep (session 36: the scripts and environment
 * files a unit's or crontab's script sources or runs): each hop's paths (a wildcard taken to the
 * paths it matches, `expand`), every file once, at most MAX_FOLLOWED of them in all; `readRefs`
 * reads a hop's files (none for one not read) and gives each one's passwordRefsIn. One walk for
 * the machine (followedPasswordFiles) and a pushed twin (secrets.ts). Session 38: each file with
 * the folder it is run from (Follow's `cwd`, a `~USER` one taken to the home `homeOf` says), where
 * its relative words and the relative files it runs are; a file followed from two folders is read
 * once and counted once.
 */
export async function followHops(starts: readonly Follow[], expand: (pattern: string) => Promise<string[]>, readRefs: (files: ReadonlyArray<{ path: string; home?: string }>, hop: number) => Promise<Array<readonly [string, PasswordRefs]>>, homeOf: (user: string) => string | undefined = () => undefined): Promise<Followed> {
  const out: Followed = { paths: [], words: [], assigns: [] }
  const seen = new Set<string>()
  const read = new Set<string>()
  const folder = (cwd: string | null | undefined): string | undefined => (typeof cwd !== 'string' ? undefined : atHome(cwd, homeOf))
  let hop: readonly Follow[] = starts
  for (let n = 1; n <= MAX_HOPS && hop.length > 0; n++) {
    const entries: Array<{ path: string; cwd: string | undefined; home: string | undefined }> = []
    for (const start of hop) {
      if (read.size >= MAX_FOLLOWED) break
      const cwd = folder(start.cwd)
      // Session 40: its HOME, a `~USER` taken to the account's home (passwordRefsIn's `home`).
      const home = folder(start.home)
      const at = start.path.startsWith('~') ? atHome(start.path, homeOf) : start.path.startsWith('/') ? start.path : cwd === undefined ? undefined : posix.resolve(cwd, start.path)
      if (at === undefined) continue
      for (const path of /[*?]/.test(at) ? await expand(at) : [posix.normalize(at)]) {
        const key = `${path}\0${cwd ?? ''}\0${home ?? ''}`
        if (seen.has(key) || (!read.has(path) && read.size >= MAX_FOLLOWED) || !followable(path) || /[*?]/.test(path)) continue
        seen.add(key)
        read.add(path)
        entries.push({ path, cwd, home })
      }
    }
    // Each file once for each HOME it runs with (its `cd $HOME`, `$HOME/pw` go by it).
    const files = [...new Map(entries.map((e) => [refsKey(e.path, e.home), e.home === undefined ? { path: e.path } : { path: e.path, home: e.home }])).values()]
    const refs = new Map(files.length === 0 ? [] : await readRefs(files, n))
    const next: Follow[] = []
    for (const { path, cwd, home } of entries) {
      const r = refs.get(refsKey(path, home))
      if (r === undefined) continue
      out.paths.push(...r.paths)
      if (cwd !== undefined) out.paths.push(...r.relative.map((w) => fromFolder(cwd, w)))
      // Session 39: a word left to the environment goes with this file's folder (a relative value of it).
      out.words.push(...(cwd === undefined ? r.words : r.words.map((w) => inFolderWord(cwd, w))))
      out.assigns.push(...r.assigns)
      // What it runs or sources runs with the same HOME.
      for (const f of r.next) next.push({ ...(f.cwd === undefined ? { path: f.path, cwd: cwd ?? null } : f), ...(home === undefined ? {} : { home }) })
    }
    hop = next
  }
  return out
}

/** A followed file's key in followHops' readRefs answer: its path, and the HOME it was read with (session 40). */
export const refsKey = (path: string, home?: string): string => (home === undefined ? path : `${path}\0${home}`)

/**
 * The password files (passwordRefsIn) the files the configs' rules follow point at (session 35: a
 * unit's environment file saying `RESTIC_PASSWORD_FILE=…`, the script a unit or crontab runs;
 * session 36: a second hop, what such a script sources or runs): regular files only (no link
 * followed), at most MAX_FOLLOWED in all, each at most MAX_FOLLOWED_BYTES; a hop's files not read
 * again while their stat data stays (cachedByFileStats).
 */
async function followedPasswordFiles(host: Pick<HostPort, 'readTextIfExists' | 'lstat'>, expand: (pattern: string) => Promise<string[]>, follows: readonly Follow[], startedAt: number, homeOf: (user: string) => string | undefined, cache?: ProviderCache): Promise<Followed> {
  return followHops(
    follows,
    expand,
    async (asked, hop) => {
      // Keyed by path and HOME (refsKey): the cache's signature moves with a HOME too.
      const files: Array<MachineConfig & { file: string; home?: string }> = []
      for (const { path: file, home } of asked) {
        const stat = await host.lstat(file).catch(() => undefined)
        if (stat?.type === 'file' && stat.size <= MAX_FOLLOWED_BYTES) files.push({ path: refsKey(file, home), stat, file, ...(home === undefined ? {} : { home }) })
      }
      if (files.length === 0) return []
      const read = async (): Promise<Array<[string, PasswordRefs]>> => {
        const refs: Array<[string, PasswordRefs]> = []
        for (const { path, file, home } of files) refs.push([path, passwordRefsIn((await host.readTextIfExists(file).catch(() => undefined)) ?? '', file, undefined, home)])
        return refs
      }
      return cache === undefined ? read() : cachedByFileStats(cache, `password-files-v${SECRET_RULES_VERSION}:${hop}`, files, startedAt, read)
    },
    homeOf,
  )
}
