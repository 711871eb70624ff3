import { CHANGED_FILE, CHANGED_UNIT, type CompiledFile, type ConfigCheck } from './config-check.js'

/**
 * The one table of which service reads which files on a Debian server: the files each reads
 * when it starts or reloads, its own configuration checker, and the units that run it. Two rules
 * read it, so they never disagree:
 *
 * - apply (the files provider offers it as its ConfigChecker capability): it writes a group's
 *   files, runs the checker inside the target and reloads the units only after it passes (see
 *   docs/plan-format.md, "Configuration checks, reload and rollback"); a plugin adds a service
 *   of its own through the ConfigChecker capability;
 * - drift (the systemd provider): a running unit listed here runs an older configuration when
 *   one of these files is newer than its start or last reload. A unit not listed falls back to
 *   its package's own /etc tree. `paths: []` says the service re-reads its configuration by
 *   itself (cron notices a changed crontab, dbus-daemon watches its folders): only its
 *   EnvironmentFiles count.
 *
 * Where a checker reads one main file that includes the others (nginx, nftables, haproxy), it
 * checks that main file, so a changed fragment is judged as part of the whole configuration.
 */
const UNIT_TYPES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'target', 'slice', 'swap'] as const

/**
 * The system manager's unit path, highest priority first, as `systemd-analyze unit-paths` prints
 * it on Debian 12 (which keeps both /lib and /usr/lib): every folder it loads unit files and
 * drop-ins from. The one list the "systemd units" check, the systemd provider's reloads,
 * restarts and stops (plugins/systemd/src/unit-paths.ts) and its drift read. Session 27: a whole
 * unit file in set-property's `system.control` or portable services' `system.attached` was
 * written with no `systemd-analyze verify`, no daemon-reload and, when deleted, its unit was left
 * running; only /etc/systemd/system's were handled.
 */
export const SYSTEM_UNIT_PATH = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/etc/systemd/system.attached',
  '/run/systemd/system',
  '/run/systemd/system.attached',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/run/systemd/generator.late',
] as const

/**
 * The administrator's folders of SYSTEM_UNIT_PATH (those under /etc): set-property's
 * `system.control` (read first), `system`, and portable services' `system.attached`. Session 26:
 * a drop-in in system.control went live with no check (only /etc/systemd/system's were
 * verified), and the systemd provider neither reloaded the manager nor restarted the service
 * after it. Config drift walks these for a running service's drop-ins.
 */
export const ADMIN_DROP_IN_DIRS = SYSTEM_UNIT_PATH.filter((dir) => dir.startsWith('/etc/'))

const IN_UNIT_PATH = `(?:${SYSTEM_UNIT_PATH.map((dir) => dir.replaceAll('.', '\\.')).join('|')})`
/** A whole unit file: directly in a folder of SYSTEM_UNIT_PATH, with a unit type's suffix (the unit's name is group 1). */
export const SYSTEM_UNIT_FILE = new RegExp(`^${IN_UNIT_PATH}/([^/]+\\.(?:${UNIT_TYPES.join('|')}))$`)
/** A drop-in in a folder of SYSTEM_UNIT_PATH: NAME.d/*.conf, NAME (group 1) a unit, a template, a type (`service.d`) or a prefix (`a-.service.d`). */
export const SYSTEM_UNIT_DROP_IN = new RegExp(`^${IN_UNIT_PATH}/([^/]+)\\.d/[^/]+\\.conf$`)

/**
 * The postgresql checker, a fixed script (the changed file is its only argument, never part of
 * the script): the cluster of the file (`/etc/postgresql/VERSION/CLUSTER/...`, names checked
 * before use) is parsed by its own server binary as the postgres user (`postgres -C` reads
 * postgresql.conf and its includes and rejects an unknown parameter or a bad value, without the
 * data directory or a running server). pg_hba.conf and pg_ident.conf (the files postgresql.conf
 * names as hba_file and ident_file) are parsed by the server's own pg_hba_file_rules and
 * pg_ident_file_mappings views, which read the files on disk now and must show no error: asked of
 * the running cluster when it answers, else of a throwaway one (initdb in a temp folder, then
 * `postgres --single` given the cluster's hba_file and ident_file; about 2–3 s, and in the
 * checker's sandbox its writes are dropped). Before session 18 a cluster that did not answer
 * (stopped, or its live pg_hba.conf asking local postgres for a password) left them unchecked and
 * the check passed: a broken pg_hba.conf went live, and postgres refuses to start with one. A
 * file outside a cluster folder has nothing to check.
 */
const POSTGRESQL_CHECK = String.raw`rest=${'$'}{1#/etc/postgresql/}; v=${'$'}{rest%%/*}; rest=${'$'}{rest#*/}; c=${'$'}{rest%%/*}
case $v in ""|*[!0-9.]*) exit 0;; esac
case $c in ""|.|..|*[!A-Za-z0-9_.-]*) exit 0;; esac
dir=/etc/postgresql/$v/$c; bin=/usr/lib/postgresql/$v/bin
[ -f "$dir/postgresql.conf" ] && [ -x "$bin/postgres" ] || exit 0
runuser -u postgres -- "$bin/postgres" -D "$dir" -C data_directory >/dev/null || exit 1
port=$(runuser -u postgres -- "$bin/postgres" -D "$dir" -C port) || exit 1
hba=$(runuser -u postgres -- "$bin/postgres" -D "$dir" -C hba_file) || exit 1
ident=$(runuser -u postgres -- "$bin/postgres" -D "$dir" -C ident_file) || exit 1
q="select 'pg_hba.conf line ' || line_number || ': ' || error as e from pg_hba_file_rules where error is not null union all select 'pg_ident.conf line ' || line_number || ': ' || error from pg_ident_file_mappings where error is not null"
if out=$(runuser -u postgres -- psql -p "$port" -d postgres -XAtqw -c "$q" 2>/dev/null); then
  [ -z "$out" ] || { printf '%s\n' "$out"; exit 1; }
  exit 0
fi
# The cluster does not answer: a throwaway one reads the same files. Its rows come as
# '1:  = "..."' lines; the last row marks that the query ran at all.
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
chown postgres "$t" || exit 1
runuser -u postgres -- "$bin/initdb" -D "$t/d" -U postgres -A trust --no-locale -E UTF8 --no-sync --no-instructions >"$t/log" 2>&1 ||
  { echo "pg_hba.conf and pg_ident.conf could not be checked: initdb of a throwaway cluster failed"; tail -n 5 "$t/log"; exit 1; }
printf "%s union all select 'twinsync-end'\n" "$q" |
  runuser -u postgres -- "$bin/postgres" --single -D "$t/d" -c hba_file="$hba" -c ident_file="$ident" -c log_min_messages=error -c log_checkpoints=off postgres >"$t/out" 2>&1
rows=$(sed -n 's/^[[:space:]]*1: [^=]*= "\(.*\)"[[:space:]]*(typeid = .*$/\1/p' "$t/out")
case $rows in
  *twinsync-end) rows=${'$'}{rows%twinsync-end} ;;
  *) echo "pg_hba.conf and pg_ident.conf: the throwaway cluster (postgres --single) could not read them"
     grep -E '(ERROR|FATAL|PANIC): ' "$t/out" | sed 's/^.*\] //' | grep . || tail -n 5 "$t/out"; exit 1 ;;
esac
[ -z "$rows" ] || { printf '%s' "$rows"; exit 1; }`

/**
 * The PAM check, a fixed script (the files are its arguments, never part of it): PAM has no
 * checker of its own, and a service whose stack names a module PAM cannot load, or a type or
 * control it does not know, refuses everyone — a typo in common-auth locks sudo, su, ssh and the
 * console out at once. Each line of each file (default: every file of /etc/pam.d) must be a known
 * type (`-type`: a missing module is allowed, as PAM allows it) and control (a word or `[...]`,
 * case as PAM takes it), name a module that exists in a PAM module folder of the machine (or by
 * its absolute path), and include (`@include`, `include`, `substack`) a file /etc/pam.d has.
 * `--new` (one file's new content, before it is written): includes are not looked for, since the
 * file included may be written later in the same plan; the check of the whole folder after the
 * writes looks for them. Module arguments are not judged (each module parses its own). mawk and
 * dash, both in every Debian; files are read with awk's getline, never passed to a shell.
 */
const PAM_CHECK = String.raw`new=0
if [ "$1" = --new ]; then new=1; shift; fi
[ $# -gt 0 ] || set -- /etc/pam.d/*
for f; do shift; [ -f "$f" ] && set -- "$@" "$f"; done
[ $# -gt 0 ] || exit 0
dirs=
for d in /usr/lib/*/security /lib/*/security /usr/lib/security /lib/security; do [ -d "$d" ] && dirs="$dirs $d"; done
exec awk -v dirs="$dirs" -v new="$new" '
function readable(p,   line, r) { r = (getline line < p); close(p); return r >= 0 }
function module(m,   n, i, parts) {
  if (m ~ /^\//) return readable(m)
  n = split(dirs, parts, " ")
  for (i = 1; i <= n; i++) if (readable(parts[i] "/" m)) return 1
  return 0
}
function included(f) { return new == 1 || (f !~ /\// && f != "" && readable("/etc/pam.d/" f)) }
function bad(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg; errors++ }
FNR == 1 { text = "" }
{
  line = text $0
  if (line ~ /\\$/) { text = substr(line, 1, length(line) - 1) " "; next }
  text = ""
  sub(/^[ \t]+/, "", line)
  if (line == "" || line ~ /^#/) next
  if (line ~ /^@include([ \t]|$)/) {
    split(line, w, /[ \t]+/)
    if (w[2] == "") bad("@include of no file")
    else if (!included(w[2])) bad("@include of a file /etc/pam.d does not have: " w[2])
    next
  }
  type = line; sub(/[ \t].*/, "", type); rest = substr(line, length(type) + 1); sub(/^[ \t]+/, "", rest)
  optional = sub(/^-/, "", type)
  if (tolower(type) !~ /^(auth|account|password|session)$/) { bad("unknown type " type); next }
  if (rest ~ /^\[/) {
    if (index(rest, "]") == 0) { bad("a control [ with no ]"); next }
    control = substr(rest, 1, index(rest, "]")); rest = substr(rest, index(rest, "]") + 1)
  } else {
    control = rest; sub(/[ \t].*/, "", control); rest = substr(rest, length(control) + 1)
    if (tolower(control) !~ /^(required|requisite|sufficient|optional|include|substack)$/) { bad("unknown control " control); next }
  }
  sub(/^[ \t]+/, "", rest)
  name = rest; sub(/[ \t].*/, "", name)
  if (name == "") { bad("no module"); next }
  if (tolower(control) == "include" || tolower(control) == "substack") { if (!included(name)) bad(control " of a file /etc/pam.d does not have: " name); next }
  if (!optional && !module(name)) bad("module not found: " name)
}
END { exit errors > 0 }
' "$@"`

/**
 * The system crontabs' check, a fixed script (the changed file is its only argument, never part
 * of it): cron has no checker of its own, and reads a system crontab (/etc/crontab, a file of
 * /etc/cron.d) only when it passes its own rules, else it ignores the whole file and says so only
 * in its log, once a minute: owned by root (a link too), a regular file, not writable by group or
 * other, one hard link, and a newline at its end (Debian's cron: `WRONG FILE OWNER`, `NOT A
 * REGULAR FILE`, `INSECURE MODE (group/other writable)`, `NUMBER OF HARD LINKS > 1`, `Missing
 * newline before EOF, this crontab file will be ignored`). A file of 0664 (a umask of 002) went
 * live and its jobs never ran. The lines themselves are checked when the plan is made (the cron
 * provider). A file of /etc/cron.d whose name cron skips (a dot in it: `job.disabled`, the way to
 * switch a file off) is not judged; a file removed has nothing to check.
 */
const CRON_CHECK = String.raw`f=$1
case $f in /etc/cron.d/*) case ${'$'}{f##*/} in ""|*[!A-Za-z0-9_-]*) exit 0;; esac;; esac
if [ -L "$f" ]; then
  [ -e "$f" ] || { echo "$f: CAN'T OPEN SYMLINK: cron ignores this whole file"; exit 1; }
  [ "$(stat -c %u "$f")" = 0 ] || { echo "$f: WRONG SYMLINK OWNER (uid $(stat -c %u "$f"), not root): cron ignores this whole file"; exit 1; }
fi
[ -e "$f" ] || exit 0
bad=
uid=$(stat -L -c %u "$f") && mode=$(stat -L -c %a "$f") && links=$(stat -L -c %h "$f") || exit 1
[ "$uid" = 0 ] || bad="$bad; WRONG FILE OWNER (uid $uid, not root)"
[ -f "$f" ] || bad="$bad; NOT A REGULAR FILE"
[ $((0$mode & 022)) = 0 ] || bad="$bad; INSECURE MODE (group/other writable): mode $mode"
[ "$links" = 1 ] || bad="$bad; NUMBER OF HARD LINKS > 1 ($links)"
[ ! -f "$f" ] || [ ! -s "$f" ] || [ -z "$(tail -c 1 "$f")" ] || bad="$bad; Missing newline before EOF"
[ -z "$bad" ] || { echo "$f: cron ignores this whole file: ${'$'}{bad#; }"; exit 1; }`

/** postfix's indexed lookup tables and the compiled file each reads (dbm and sdbm, two files each, are not built). */
const POSTFIX_TABLE_SUFFIX: Readonly<Record<string, string>> = { hash: '.db', btree: '.db', lmdb: '.lmdb', cdb: '.cdb' }

/**
 * The indexed tables postfix's configuration names (`postconf -nx` of main.cf, `postconf -Px` of
 * master.cf's `-o` overrides: `NAME = VALUE` lines, `$name` expanded): each `TYPE:/PATH` of an
 * indexed type, built by `postmap TYPE:/PATH`, or `postalias` for an alias table (alias_maps,
 * alias_database: its `name: value` lines are no postmap input). postfix reads only the compiled
 * file: a changed /etc/postfix/virtual did nothing until someone ran postmap (session 19).
 */
export function postfixTables(output: string): CompiledFile[] {
  const out = new Map<string, CompiledFile>()
  for (const line of output.split('\n')) {
    const eq = line.indexOf(' = ')
    if (eq === -1) continue
    const name = line.slice(0, eq).trim().split('/').at(-1) as string
    const tool = name === 'alias_maps' || name === 'alias_database' ? 'postalias' : 'postmap'
    for (const token of line.slice(eq + 3).split(/[\s,]+/)) {
      const m = /^(?:proxy:)?(\w+):(\/[^\s,{}]+)$/.exec(token)
      const suffix = m === null ? undefined : POSTFIX_TABLE_SUFFIX[m[1] as string]
      if (m === null || suffix === undefined) continue
      const source = m[2] as string
      if (!out.has(source)) out.set(source, { source, built: `${source}${suffix}`, argv: [tool, `${m[1]}:${source}`] })
    }
  }
  return [...out.values()]
}

export const DEBIAN_CONFIG_CHECKS: readonly ConfigCheck[] = [
  { service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] },
  { service: 'apache2', paths: ['/etc/apache2/**'], argv: ['apache2ctl', 'configtest'], units: ['apache2.service'] },
  // sshd -t also loads the host keys and moduli, which sshd reads at start.
  {
    service: 'sshd',
    paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**', '/etc/ssh/moduli', '/etc/ssh/ssh_host_*'],
    argv: ['sshd', '-t'],
    // A host key sshd cannot use (group- or world-readable, or a HostKey it cannot load) is only
    // warned about: sshd -t exits 0, and sshd starts without that key, so clients that know the
    // machine by it are told its identity changed (or, with no key left, sshd does not start).
    rejectsOutput: /^(?:This private key will be ignored\.|Unable to load host key: )/m,
    // Drop-ins under sshd_config.d are fragments; only the main file can be checked alone.
    newContent: { argv: ['sshd', '-t', '-f', CHANGED_FILE], paths: ['/etc/ssh/sshd_config'] },
    units: ['ssh.service'],
  },
  { service: 'sudo', paths: ['/etc/sudoers', '/etc/sudoers.d/*'], argv: ['visudo', '-c'], newContent: { argv: ['visudo', '-c', '-f', CHANGED_FILE] } },
  { service: 'postfix', paths: ['/etc/postfix/**'], argv: ['postfix', 'check'], units: ['postfix.service'], compiled: { listArgv: ['sh', '-c', 'postconf -nx && postconf -Px'], parse: postfixTables } },
  { service: 'haproxy', paths: ['/etc/haproxy/**'], argv: ['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg'], units: ['haproxy.service'] },
  { service: 'nftables', paths: ['/etc/nftables.conf', '/etc/nftables.d/**'], argv: ['nft', '-c', '-f', '/etc/nftables.conf'], units: ['nftables.service'] },
  {
    // Unit files and their drop-ins (a drop-in is verified as part of its unit). --man=no: a
    // unit's Documentation=man: page is not configuration, and a server without man-db would
    // fail every unit that names one, so the checker could judge nothing.
    service: 'systemd units',
    // Every folder of the unit path, as SYSTEM_UNIT_FILE and SYSTEM_UNIT_DROP_IN name them.
    paths: SYSTEM_UNIT_PATH.flatMap((dir) => UNIT_TYPES.flatMap((t) => [`${dir}/*.${t}`, `${dir}/*.${t}.d/*.conf`])),
    argv: ['systemd-analyze', 'verify', '--man=no', CHANGED_UNIT],
    // A bad line of a drop-in is only logged, and systemd starts the unit without it.
    rejectsOutput: /^\/[^\n:]+:\d+: /m,
    // On a booted machine systemd's tools log to the journal, not to us: the output was empty.
    env: { SYSTEMD_LOG_TARGET: 'console' },
  },
  // -z: the zones of type primary it names are loaded too, so a broken zone file is refused.
  { service: 'bind', paths: ['/etc/bind/**'], argv: ['named-checkconf', '-z'], units: ['named.service'] },
  { service: 'unbound', paths: ['/etc/unbound/**'], argv: ['unbound-checkconf'], units: ['unbound.service'] },
  { service: 'dovecot', paths: ['/etc/dovecot/**'], argv: ['doveconf', '-n'], units: ['dovecot.service'] },
  { service: 'rsyslog', paths: ['/etc/rsyslog.conf', '/etc/rsyslog.d/**'], argv: ['rsyslogd', '-N1'], units: ['rsyslog.service'] },
  { service: 'fail2ban', paths: ['/etc/fail2ban/**'], argv: ['fail2ban-client', '--test'], units: ['fail2ban.service'] },
  { service: 'samba', paths: ['/etc/samba/**'], argv: ['testparm', '-s'], units: ['smbd.service', 'nmbd.service'] },
  { service: 'squid', paths: ['/etc/squid/**'], argv: ['squid', '-k', 'parse'], units: ['squid.service'] },
  { service: 'keepalived', paths: ['/etc/keepalived/**'], argv: ['keepalived', '--config-test'], units: ['keepalived.service'] },
  // chronyd -p parses the configuration (and its conf.d) and prints it; a bad directive is fatal.
  { service: 'chrony', paths: ['/etc/chrony/**'], argv: ['chronyd', '-p'], units: ['chrony.service'] },
  // As Debian's dnsmasq.service checks before it starts (`systemd-helper checkconfig`), with the
  // conf-dir /etc/default/dnsmasq sets as shipped: dnsmasq.conf alone leaves /etc/dnsmasq.d out.
  // (Not a script that reads /etc/default/dnsmasq: its program would be sh, always there, and a
  // machine without dnsmasq would refuse the files instead of saying CONFIG_NOT_CHECKED.)
  {
    service: 'dnsmasq',
    paths: ['/etc/dnsmasq.conf', '/etc/dnsmasq.d/**', '/etc/default/dnsmasq'],
    argv: ['dnsmasq', '--test', '--conf-dir=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new'],
    units: ['dnsmasq.service'],
  },
  { service: 'prosody', paths: ['/etc/prosody/**'], argv: ['prosodyctl', 'check', 'config'], units: ['prosody.service'] },
  { service: 'apt', paths: ['/etc/apt/apt.conf', '/etc/apt/apt.conf.d/*'], argv: ['apt-config', 'dump'] },
  {
    service: 'postgresql',
    paths: ['/etc/postgresql/**'],
    argv: ['sh', '-c', POSTGRESQL_CHECK, 'sh', CHANGED_FILE],
    shown: 'postgres -C data_directory on the cluster of {file}, and its pg_hba_file_rules and pg_ident_file_mappings',
    // A removed pg_hba.conf, or a file postgresql.conf includes: the cluster is judged without it.
    checksRemoval: true,
    units: ['postgresql.service'],
  },
  { service: 'fstab', paths: ['/etc/fstab'], argv: ['findmnt', '--verify', '--tab-file', '/etc/fstab'] },
  // The account files lock everyone out when broken (a malformed root line: no su, no sudo, no
  // login), so a new /etc/passwd or /etc/group is checked before it is written, against the
  // shadow file as it is. -q leaves out what pwck only warns about (a home folder that does not
  // exist: several of Debian's own system users), which -r alone counts as an error; -r changes
  // nothing. A user added without its shadow line is refused too ("no matching password file
  // entry in /etc/shadow"): the twin never holds /etc/shadow's content, so such a user could
  // not log in; `useradd` makes both.
  {
    service: 'passwd',
    paths: ['/etc/passwd', '/etc/shadow'],
    argv: ['pwck', '-q', '-r'],
    newContent: { argv: ['pwck', '-q', '-r', CHANGED_FILE, '/etc/shadow'], paths: ['/etc/passwd'] },
  },
  {
    service: 'pam',
    paths: ['/etc/pam.d/*'],
    argv: ['sh', '-c', PAM_CHECK, 'sh'],
    shown: 'the PAM check of /etc/pam.d (types, controls, modules, includes)',
    newContent: { argv: ['sh', '-c', PAM_CHECK, 'sh', '--new', CHANGED_FILE] },
  },
  // glibc has no checker for nsswitch.conf either; a source mistyped as the only one of a database
  // (`passwd: filez`) makes every name of it unknown — no root for su, sudo or login. After the
  // write, root must still be found in each account database (a source that is down or missing
  // after one that answers does no harm, and is not refused).
  {
    service: 'nsswitch',
    paths: ['/etc/nsswitch.conf'],
    argv: ['sh', '-c', 'for db in passwd group shadow; do getent "$db" root >/dev/null || { echo "getent $db root: no root in the $db database with this nsswitch.conf"; exit 1; }; done'],
    shown: 'getent passwd, group and shadow root',
  },
  {
    service: 'group',
    paths: ['/etc/group', '/etc/gshadow'],
    argv: ['grpck', '-q', '-r'],
    newContent: { argv: ['grpck', '-q', '-r', CHANGED_FILE, '/etc/gshadow'], paths: ['/etc/group'] },
  },
  { service: 'logrotate', paths: ['/etc/logrotate.conf', '/etc/logrotate.d/*'], argv: ['logrotate', '--debug', '/etc/logrotate.conf'] },
  { service: 'mariadb', paths: ['/etc/mysql/**'], units: ['mariadb.service', 'mysql.service'] },
  // Checked, never reloaded: cron notices a changed file by itself (see CRON_CHECK).
  {
    service: 'cron',
    paths: ['/etc/crontab', '/etc/cron.d/*'],
    argv: ['sh', '-c', CRON_CHECK, 'sh', CHANGED_FILE],
    shown: "cron's own rules for {file} (root's, a regular file, not group- or other-writable, one link, a newline at the end)",
  },
  // They re-read their configuration by themselves: a change is never a reason to restart them
  // (so no paths here: the drift rule reads the entries with units).
  { service: 'cron', paths: [], units: ['cron.service'] },
  { service: 'dbus', paths: [], units: ['dbus.service'] },
]

/** The files a unit reads at start by the table (union over its entries), or undefined when the table does not list it. */
export function configReadBy(unit: string, checks: readonly ConfigCheck[] = DEBIAN_CONFIG_CHECKS): string[] | undefined {
  const entries = checks.filter((c) => c.units?.includes(unit) === true)
  return entries.length === 0 ? undefined : [...new Set(entries.flatMap((c) => c.paths))]
}
