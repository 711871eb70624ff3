import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s39-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`) by the path rule: what a unit, its drop-in, its environment file name. */
const HELD = ['/srv/vault/repo.words', '/srv/offsite/keys/offsite', '/srv/backup/ops/repo.words', '/srv/svc/.config/sync/env', '/srv/svc/.sync.words', '/etc/krb/host.service-key', '/etc/sssd/ad.service-key', '/etc/gss/nfs.creds', '/home/ops/backup/repo.words', '/home/ops/b2/offsite']
/** The configs and scripts, mirrored. */
const MIRRORED = ['/etc/systemd/system/vault-sync.service', '/etc/systemd/system/vault-sync.service.d/override.conf', '/etc/systemd/system/offsite.service', '/etc/systemd/system/offsite.service.d/dir.conf', '/home/ops/.config/systemd/user/backup.service', '/opt/backup/run.sh', '/etc/systemd/user/sync.service', '/opt/sync/run.sh', '/etc/krb5.conf', '/etc/gssproxy/24-nfs-server.conf']

/**
 * Session 39 on the server root, through the CLI: what session 38 left, each mirrored before
 * (the unit test's session 39 block fails on the old code): a unit whose folder only a drop-in
 * sets (`WorkingDirectory=/srv/vault`, the unit's `--password-file repo.words`); a relative value
 * of a variable its environment file sets (`PW=keys/offsite`, `--password-file ${PW}`); a user
 * unit's `%u` (`WorkingDirectory=/srv/backup/%u`, its script's relative word) and a unit of
 * /etc/systemd/user run by a service account whose home is /srv/svc (its `%h` environment file,
 * its script's relative word from that home); binary Kerberos keytabs of other names than
 * `*.keytab` that krb5.conf, an SSSD domain and gssproxy name; a user crontab's `cd $HOME/backup`
 * and `cd ~/b2` before a relative word (the account's home, from the root's /etc/passwd).
 */
describe('secrets on the server root, session 39: a drop-in\'s folder, relative values of variables, user units\' specifiers, keytabs, a crontab\'s cd into the home', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/opt', '/srv', '/home', '/var/spool/cron'] })
    const { secret, plant } = root
    // 1. The folder in a drop-in, the relative word in the unit.
    await plant('/srv/vault/repo.words', `${secret("a unit's relative --password-file, its folder in a drop-in", words('dropin'))}\n`)
    await plant('/etc/systemd/system/vault-sync.service', '[Unit]\nDescription=vault sync\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/restic -r /srv/restic --password-file repo.words check\n')
    await plant('/etc/systemd/system/vault-sync.service.d/override.conf', '[Service]\nWorkingDirectory=/srv/vault\n')
    // 2. A relative value of a variable the unit's environment file sets.
    await plant('/srv/offsite/keys/offsite', `${secret('a relative value of a variable an environment file sets', words('envvar'))}\n`)
    await plant('/etc/systemd/system/offsite.service', '[Service]\nType=oneshot\nEnvironmentFile=/etc/offsite/env\nExecStart=/usr/bin/restic --password-file ${PW} backup /srv\n')
    await plant('/etc/systemd/system/offsite.service.d/dir.conf', '[Service]\nWorkingDirectory=/srv/offsite\n')
    await plant('/etc/offsite/env', 'PW=keys/offsite\n')
    // 3. A person's user unit (%u) and a service account's (its home under /srv) of /etc/systemd/user.
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\nsync-svc:x:991:991::/srv/svc:/usr/sbin/nologin\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'ops:x:1001:\nsync-svc:x:991:\n')
    await plant('/home/ops/.config/systemd/user/backup.service', '[Service]\nWorkingDirectory=/srv/backup/%u\nExecStart=/opt/backup/run.sh\n', 0o644, [1001, 1001])
    await plant('/opt/backup/run.sh', '#!/bin/sh\nrestic --password-file repo.words backup "$HOME"\n', 0o755)
    await plant('/srv/backup/ops/repo.words', `${secret("a user unit's script's relative word, its folder by %u", words('user'))}\n`, 0o644, [1001, 1001])
    await plant('/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=-%h/.config/sync/env\nExecStart=/opt/sync/run.sh\n')
    await plant('/opt/sync/run.sh', '#!/bin/sh\nrsync -a --password-file=.sync.words data/ nas::data\n', 0o755)
    await plant('/srv/svc/.config/sync/env', `SYNC_PHRASE=${secret("a shared user unit's environment file in a service account's home", words('svcenv')).replace(/ /g, '-')}\n`, 0o644, [991, 991])
    await plant('/srv/svc/.sync.words', `${secret("a shared user unit's script's relative word from a service account's home", words('svcrel'))}\n`, 0o644, [991, 991])
    // 4. Keytabs krb5.conf, SSSD and gssproxy name (a keytab is binary: its version, a principal, a key).
    const keytab = (seed: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 80, 0, 1, 0, 11]), Buffer.from('EXAMPLE.NET'), Buffer.from([0, 4]), Buffer.from('host'), Buffer.from([0, 18, 0, 32]), Buffer.from(secret(`a keytab ${seed} names`, v(`kt-${seed}`, 32)))])
    await plant('/etc/krb5.conf', '[libdefaults]\n\tdefault_realm = EXAMPLE.NET\n\tdefault_keytab_name = FILE:/etc/krb/host.service-key\n')
    await plant('/etc/krb/host.service-key', keytab('krb5.conf'), 0o644)
    await plant('/etc/sssd/conf.d/ad.conf', '[domain/ad.example.net]\nid_provider = ad\nkrb5_keytab = /etc/sssd/ad.service-key\n', 0o600)
    await plant('/etc/sssd/ad.service-key', keytab('sssd'), 0o644)
    await plant('/etc/gssproxy/24-nfs-server.conf', '[service/nfs-server]\n  mechs = krb5\n  cred_store = keytab:/etc/gss/nfs.creds\n  trusted = yes\n')
    await plant('/etc/gss/nfs.creds', keytab('gssproxy'), 0o644)
    // 5. A user crontab's `cd` into the home before a relative word.
    await plant('/var/spool/cron/crontabs/ops', '# m h dom mon dow command\n15 3 * * * cd $HOME/backup && restic --password-file repo.words backup /srv/data\n45 3 * * * cd ~/b2 && restic --password-file ./offsite check\n', 0o600, [1001, 1001])
    await plant('/home/ops/backup/repo.words', `${secret("a user crontab's relative word after cd $HOME/backup", words('cdhome'))}\n`, 0o600, [1001, 1001])
    await plant('/home/ops/b2/offsite', `${secret("a user crontab's relative word after cd ~/b2", words('cdtilde'))}\n`, 0o644, [1001, 1001])
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    await root.assertKeptOut(HELD, MIRRORED)
  })
})
