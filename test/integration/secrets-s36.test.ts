import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s36-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s36-${seed}`, n, '0123456789abcdef')
const words = (seed: string): string => `${v(`${seed}1`, 6)} ${v(`${seed}2`, 7)} ${v(`${seed}3`, 5)} ${v(`${seed}4`, 8)}`.toLowerCase()

/** Files that must be held out (`secret: true`), each by the path rule (the files a config names). */
const HELD = ['/etc/nightly/db-access', '/etc/b2/offsite.key', '/srv/backup/rsync.secret', '/home/ops/.config/sync/token', '/opt/jobs/borg.key', '/opt/jobs/rsync.key', '/etc/zabbix/tls/web01']

/**
 * Session 36 on the server root. What session 35 left, each failing this test before its fix:
 * password files named through a script's variable, a variable its unit's environment file sets,
 * a path relative to the unit's WorkingDirectory=, an environment file under each home of a unit
 * every user's manager runs (`%h`), a second hop (a script cron runs sources an environment and
 * runs another script), Zabbix's TLSPSKFile= to a file of no telling name, each world-readable;
 * a Clash provider written as a flow mapping with a `/link/TOKEN` subscription. The units,
 * scripts and configs stay mirrored.
 */
describe('secrets on the server root, session 36: password files through variables, relative paths, %h, a second hop; Zabbix PSK; a flow-style Clash provider', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/sbin', '/opt/jobs', '/srv/backup', '/home/ops'] })
    const { secret, plant } = root

    // A script's own variable.
    const db = secret("a script's --password-file \"$PASSFILE\" (its own variable)", words('db'))
    await plant('/etc/nightly/db-access', `${db}\n`, 0o644)
    await plant('/usr/local/sbin/nightly-db', '#!/bin/sh\nset -e\nPASSFILE=/etc/nightly/db-access\nrestic -r /srv/restic --password-file "$PASSFILE" backup /var/backups/db\n', 0o755)
    // A unit: a variable its environment file sets, a relative path from its WorkingDirectory=.
    const b2 = secret("a unit's --password-file ${B2_PW} (its environment file's)", words('b2'))
    await plant('/etc/b2/offsite.key', `${b2}\n`, 0o644)
    await plant('/etc/b2/offsite.env', 'B2_ACCOUNT_ID=0012ab\nB2_PW=/etc/b2/offsite.key\n', 0o600)
    const rsync = secret("a unit's --password-file=rsync.secret (its WorkingDirectory=)", words('rsync'))
    await plant('/srv/backup/rsync.secret', `${rsync}\n`, 0o644)
    await plant(
      '/etc/systemd/system/b2-offsite.service',
      '[Unit]\nDescription=offsite backup\n\n[Service]\nType=oneshot\nEnvironmentFile=/etc/b2/offsite.env\nWorkingDirectory=/srv/backup\nExecStart=/usr/bin/restic -r b2:offsite:/web --password-file ${B2_PW} backup /srv\nExecStartPost=/usr/bin/rsync -a --password-file=rsync.secret /srv/backup/ nas::backup\n',
      0o644,
    )
    // A unit every user's manager runs: its environment file under each home.
    const token = secret("a user's token file, named by the environment file of /etc/systemd/user's unit (%h)", words('token'))
    await plant('/home/ops/.config/sync/token', `${token}\n`, 0o644)
    await plant('/home/ops/.config/sync/env', 'SYNC_TOKEN_FILE=/home/ops/.config/sync/token\n', 0o644)
    await plant('/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=-%h/.config/sync/env\nExecStart=/usr/bin/sync-client\n', 0o644)
    // A second hop: cron runs a script that sources an environment and runs another script.
    const borg = secret("borg's BORG_PASSCOMMAND in a file a cron script sources", words('borg'))
    await plant('/opt/jobs/borg.key', `${borg}\n`, 0o644)
    const up = secret("rsync's --password-file in a script a cron script runs", words('up'))
    await plant('/opt/jobs/rsync.key', `${up}\n`, 0o644)
    await plant('/etc/cron.d/jobs', '0 2 * * * root /opt/jobs/run.sh\n', 0o644)
    await plant('/opt/jobs/run.sh', '#!/bin/sh\n. /opt/jobs/env\nborg create /srv/borg::{now} /etc\n/opt/jobs/upload.sh\n', 0o755)
    await plant('/opt/jobs/env', 'export BORG_PASSCOMMAND="cat /opt/jobs/borg.key"\n', 0o644)
    await plant('/opt/jobs/upload.sh', '#!/bin/sh\nrsync -a --password-file=/opt/jobs/rsync.key /srv/borg/ nas::borg\n', 0o755)
    // Zabbix's agent: a PSK file of no telling name.
    const psk = secret("Zabbix's TLSPSKFile= (a file not named *.psk)", hex('psk', 64))
    await plant('/etc/zabbix/tls/web01', `${psk}\n`, 0o644)
    await plant('/etc/zabbix/zabbix_agentd.conf.d/tls.conf', 'TLSConnect=psk\nTLSAccept=psk\nTLSPSKIdentity=web01\nTLSPSKFile=/etc/zabbix/tls/web01\n', 0o644)
    // A Clash provider written as a flow mapping.
    const sub = secret("a flow-style Clash provider's /link/TOKEN", hex('sub', 32))
    await plant('/etc/mihomo/config.yaml', `mixed-port: 7890\nproxy-providers: {p1: {type: http, url: "https://panel.example.net/link/${sub}?clash=1", interval: 3600, health-check: {enable: true, url: https://www.gstatic.com/generate_204}}}\nproxy-groups:\n  - {name: PROXY, type: select, use: [p1]}\nrules:\n  - MATCH,PROXY\n`, 0o644)

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 8)
    const entryOf = await root.assertHeldOut(HELD)
    for (const path of ['/usr/local/sbin/nightly-db', '/etc/systemd/system/b2-offsite.service', '/etc/systemd/user/sync.service', '/etc/cron.d/jobs', '/opt/jobs/run.sh', '/opt/jobs/env', '/opt/jobs/upload.sh', '/etc/zabbix/zabbix_agentd.conf.d/tls.conf']) assert.equal(entryOf(path)?.content, 'mirrored', path)
    // The Clash config is held out for what it holds (its subscription), not by a path rule.
    assert.equal(entryOf('/etc/mihomo/config.yaml')?.secret, true)
    assert.notEqual(entryOf('/etc/mihomo/config.yaml')?.secretReason, 'path rule')
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
