import { strict as assert } from 'node:assert'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s38-${seed}`, n)
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`) by the path rule (the files a crontab, script, unit or /etc/default file names). */
const HELD = ['/srv/backup/.restic-repo', '/etc/db/dump.key', '/opt/app/conf/offsite', '/opt/three/repo.key', '/srv/rel/rsync.secret', '/etc/dump/offsite', '/usr/local/sbin/gpg.words', '/etc/gss/nfs.service-key', '/etc/web/http.kt']

/**
 * Session 38 on the server root, through the CLI: what session 37 left, each mirrored before (the
 * unit test's session 38 block fails on the old code). A user crontab's relative
 * `--password-file .restic-repo` (cron runs the job from the account's home, from the root's own
 * /etc/passwd), a HOME= line and a script run by a relative path from it, a crontab line's own
 * variable, a script's variable of variables and its own folder (`$(dirname "$0")`), a third hop,
 * a unit's script's relative word from its WorkingDirectory=, and Kerberos keytabs of any name by
 * `KRB5_KTNAME=` (in /etc/default and a unit's Environment=); files of names that say nothing of a
 * password (a name that does, holding words, is held by its name and words already). On the code
 * before session 38 five were mirrored and four held only for their names' words (`repo.pw`…, so
 * renamed). The crontabs, scripts and units stay mirrored.
 */
describe('secrets on the server root, session 38: password files from a job\'s home and a unit\'s folder, computed variables, a third hop, KRB5_KTNAME keytabs', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/sbin', '/opt', '/srv', '/var/spool/cron'] })
    const { secret, plant } = root
    // A service account whose home is under /srv, and its own crontab (as `crontab -u backup` writes it).
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'backup-svc:x:990:990::/srv/backup:/usr/sbin/nologin\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'backup-svc:x:990:\n')
    await plant('/srv/backup/.restic-repo', `${secret("a user crontab's relative --password-file (the account's home)", words('home'))}\n`, 0o644, [990, 990])
    await plant('/var/spool/cron/crontabs/backup-svc', '# m h dom mon dow command\n15 3 * * * restic -r /srv/restic --password-file .restic-repo backup /srv/data\n', 0o600, [990, 990])
    // A crontab line's own variable; a HOME= line and a script run relatively from it.
    await plant('/etc/db/dump.key', `${secret("a crontab line's own variable", words('line'))}\n`)
    await plant('/etc/cron.d/db', 'SHELL=/bin/sh\n0 1 * * * root F=/etc/db/dump.key; restic --password-file "$F" backup /var/backups\n')
    await plant('/opt/app/conf/offsite', `${secret("a script run relatively from a crontab's HOME=", words('app'))}\n`)
    await plant('/etc/cron.d/app', 'HOME=/opt/app\n30 1 * * * root ./nightly.sh\n')
    await plant('/opt/app/nightly.sh', '#!/bin/sh\nrestic --password-file conf/offsite check\n', 0o755)
    // A third hop.
    await plant('/opt/three/repo.key', `${secret('a file three hops from a crontab', words('three'))}\n`)
    await plant('/etc/cron.d/three', '0 5 * * * root /opt/three/run.sh\n')
    await plant('/opt/three/run.sh', '#!/bin/sh\n. /opt/three/lib.sh\nrestic backup /srv\n', 0o755)
    await plant('/opt/three/lib.sh', 'set -e\n. /opt/three/env\n')
    await plant('/opt/three/env', 'export RESTIC_PASSWORD_FILE=/opt/three/repo.key\n')
    // A unit's script, its relative word from the unit's WorkingDirectory=.
    await plant('/srv/rel/rsync.secret', `${secret("a unit's script's relative --password-file", words('rel'))}\n`)
    await plant('/etc/systemd/system/rel-sync.service', '[Unit]\nDescription=sync\n\n[Service]\nType=oneshot\nWorkingDirectory=/srv/rel\nExecStart=/opt/rel/run.sh\n')
    await plant('/opt/rel/run.sh', '#!/bin/sh\nrsync -a --password-file=rsync.secret /srv/rel/ nas::rel\n', 0o755)
    // A script's variable of variables and its own folder.
    await plant('/etc/dump/offsite', `${secret("a script's variable of variables", words('base'))}\n`)
    await plant('/usr/local/sbin/gpg.words', `${secret("a script's own folder ($(dirname \"$0\"))", words('here'))}\n`)
    await plant('/usr/local/sbin/dump', '#!/bin/sh\nBASE=/etc/dump\nPASSFILE="$BASE/offsite"\nrestic --password-file "$PASSFILE" backup /srv\nHERE=$(cd "$(dirname "$0")" && pwd)\ngpg --batch --passphrase-file "$HERE/gpg.words" -c /srv/x\n', 0o755)
    // Keytabs of any name (a keytab is binary: its version, a principal, a key).
    const keytab = (seed: string) => Buffer.concat([Buffer.from([5, 2, 0, 0, 0, 80, 0, 1, 0, 11]), Buffer.from('EXAMPLE.NET'), Buffer.from([0, 3]), Buffer.from('nfs'), Buffer.from([0, 18, 0, 32]), Buffer.from(secret(`a keytab of another name (${seed})`, v(`kt-${seed}`, 32)))])
    await plant('/etc/gss/nfs.service-key', keytab('gssproxy'), 0o644)
    await plant('/etc/default/gssproxy', '# KRB5_KTNAME=/etc/gss/old\nKRB5_KTNAME=/etc/gss/nfs.service-key\n')
    await plant('/etc/web/http.kt', keytab('web'), 0o644)
    await plant('/etc/systemd/system/web.service', '[Service]\nEnvironment=KRB5_KTNAME=FILE:/etc/web/http.kt\nExecStart=/usr/sbin/nginx\n')

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 9)
    const entryOf = await root.assertHeldOut(HELD)
    for (const path of ['/etc/cron.d/db', '/etc/cron.d/app', '/opt/app/nightly.sh', '/opt/three/run.sh', '/opt/three/lib.sh', '/opt/three/env', '/opt/rel/run.sh', '/usr/local/sbin/dump', '/etc/default/gssproxy', '/etc/systemd/system/web.service']) assert.equal(entryOf(path)?.content, 'mirrored', path)
    await root.assertNoneLeaked()
  })
})
