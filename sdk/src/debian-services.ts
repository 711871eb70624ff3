import { CHANGED_FILE, type ConfigCheck } from './config-check.js'

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
export const DEBIAN_CONFIG_CHECKS: readonly ConfigCheck[] = [
  { service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] },
  { service: 'apache2', paths: ['/etc/apache2/**'], argv: ['apache2ctl', 'configtest'], units: ['apache2.service'] },
  // sshd -t also loads the host keys and moduli, which sshd reads at start.
  { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**', '/etc/ssh/moduli', '/etc/ssh/ssh_host_*'], argv: ['sshd', '-t'], units: ['ssh.service'] },
  { service: 'sudo', paths: ['/etc/sudoers', '/etc/sudoers.d/*'], argv: ['visudo', '-c'] },
  { service: 'postfix', paths: ['/etc/postfix/**'], argv: ['postfix', 'check'], units: ['postfix.service'] },
  { service: 'haproxy', paths: ['/etc/haproxy/**'], argv: ['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg'], units: ['haproxy.service'] },
  { service: 'nftables', paths: ['/etc/nftables.conf', '/etc/nftables.d/**'], argv: ['nft', '-c', '-f', '/etc/nftables.conf'], units: ['nftables.service'] },
  {
    service: 'systemd units',
    paths: ['/etc/systemd/system/*.service', '/etc/systemd/system/*.socket', '/etc/systemd/system/*.timer', '/etc/systemd/system/*.path', '/etc/systemd/system/*.mount'],
    argv: ['systemd-analyze', 'verify', CHANGED_FILE],
  },
  { service: 'bind', paths: ['/etc/bind/**'], argv: ['named-checkconf'], units: ['named.service'] },
  { service: 'unbound', paths: ['/etc/unbound/**'], argv: ['unbound-checkconf'], units: ['unbound.service'] },
  { service: 'dovecot', paths: ['/etc/dovecot/**'], argv: ['doveconf', '-n'], units: ['dovecot.service'] },
  { service: 'rsyslog', paths: ['/etc/rsyslog.conf', '/etc/rsyslog.d/**'], argv: ['rsyslogd', '-N1'], units: ['rsyslog.service'] },
  { service: 'fail2ban', paths: ['/etc/fail2ban/**'], argv: ['fail2ban-client', '--test'], units: ['fail2ban.service'] },
  { service: 'samba', paths: ['/etc/samba/**'], argv: ['testparm', '-s'], units: ['smbd.service', 'nmbd.service'] },
  { service: 'squid', paths: ['/etc/squid/**'], argv: ['squid', '-k', 'parse'], units: ['squid.service'] },
  { service: 'keepalived', paths: ['/etc/keepalived/**'], argv: ['keepalived', '--config-test'], units: ['keepalived.service'] },
  { service: 'apt', paths: ['/etc/apt/apt.conf', '/etc/apt/apt.conf.d/*'], argv: ['apt-config', 'dump'] },
  // No checker that runs without the cluster's data directory: grouped for reload and rollback.
  { service: 'postgresql', paths: ['/etc/postgresql/**'], units: ['postgresql.service'] },
  { service: 'mariadb', paths: ['/etc/mysql/**'], units: ['mariadb.service', 'mysql.service'] },
  // They re-read their configuration by themselves: a change is never a reason to restart them.
  { service: 'cron', paths: [], units: ['cron.service'] },
  { service: 'dbus', paths: [], units: ['dbus.service'] },
]

/** The files a unit reads at start by the table (union over its entries), or undefined when the table does not list it. */
export function configReadBy(unit: string, checks: readonly ConfigCheck[] = DEBIAN_CONFIG_CHECKS): string[] | undefined {
  const entries = checks.filter((c) => c.units?.includes(unit) === true)
  return entries.length === 0 ? undefined : [...new Set(entries.flatMap((c) => c.paths))]
}
