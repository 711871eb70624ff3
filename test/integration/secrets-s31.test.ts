import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s31-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s31-${seed}`, n, '0123456789abcdef')
const b64 = (seed: string, n: number): string => fakeChars(`s31-${seed}`, n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`
/** Mattermost's ids: 26 characters of its own base32 alphabet. */
const mattermostId = (seed: string): string => fakeChars(`s31-${seed}`, 26, 'ybndrfg8ejkmcpqxot1uwisza345h769')

/** Files that must be held out (`secret: true`), each with its reason where a path rule is what holds it. */
const HELD: Array<[string, 'path rule' | undefined]> = [
  ['/etc/systemd/system/vault-dev.service', undefined],
  ['/etc/cron.d/vault-dev', undefined],
  ['/etc/mediawiki/LocalSettings.php', undefined],
  ['/etc/network/interfaces.d/wlan0', undefined],
  ['/etc/network/interfaces', undefined],
  ['/etc/rabbitmq/definitions.json', undefined],
  ['/usr/local/bin/notify-deploy', undefined],
  ['/usr/local/bin/notify-chat', undefined],
  ['/etc/kubernetes/auth/tokens.csv', 'path rule'],
  ['/etc/rancher/k3s/static-tokens.csv', 'path rule'],
  ['/etc/couchdb/local.ini', undefined],
  ['/etc/php/8.2/fpm/pool.d/www.conf', undefined],
  ['/etc/grafana/grafana.ini', undefined],
  ['/etc/prometheus/alertmanager.yml', undefined],
  ['/root/.config/rclone/rclone.conf', undefined],
  ['/etc/matrix-synapse/homeserver.signing.key', undefined],
  ['/etc/turnserver.conf', undefined],
  ['/etc/trojan/config.json', undefined],
  ['/etc/pihole/pihole.toml', undefined],
  ['/root/.config/borg/keys/srv_backup', undefined],
  ['/root/.config/deluge/auth', 'path rule'],
  ['/root/.config/weechat/sec.conf', 'path rule'],
  ['/etc/rsync/users.secrets', 'path rule'],
  ['/etc/smtpd/relay-auth', 'path rule'],
  ['/etc/luks/data.key', 'path rule'],
  ['/etc/pve/priv/token.cfg', 'path rule'],
  ['/root/.config/tigervnc/passwd', 'path rule'],
  ['/etc/ceph/ceph.client.admin.keyring', 'path rule'],
  ['/etc/gitlab/gitlab-secrets.json', 'path rule'],
]

/**
 * Session 31's red team on the server root. What session 30 left leaking (each failed this test
 * before its fix): Vault's dev server root token on its command line (a unit's ExecStart=, a
 * cron job), MediaWiki's `$wgUpgradeKey` and `$wgDBadminpassword` (Debian keeps LocalSettings.php
 * in /etc/mediawiki), ifupdown's WEP `wireless-key`, RabbitMQ's `password_hash`, Mattermost's
 * webhooks, the token file kube-apiserver's `--token-auth-file=` names (a static pod's manifest,
 * k3s's config.yaml), CouchDB 1.x's `[admins]` in /etc/couchdb/local.ini. ZNC (/var/lib/znc, the
 * znc user's home) and CouchDB 3 (/opt/couchdb/etc) are not in the include set: planted, and
 * checked absent from the twin. Then the session's own pass: PHP's `mysqli.default_pw` in a pool,
 * Grafana's triple-quoted password, PagerDuty's keys in Alertmanager, rclone's crypt salt
 * (`password2`), Synapse's signing key, coturn's users, Trojan's list of passwords, Pi-hole 6's
 * Balloon hash, a Borg key file, Deluge's auth and WeeChat's sec.conf under ~/.config, rsync's
 * `secrets file`, OpenSMTPD's credential tables, a LUKS key file crypttab names, Proxmox's
 * private folder, TigerVNC's password file, a Ceph keyring, GitLab's gitlab-secrets.json. The
 * rest of that pass held already (sdk/test/secrets.test.ts has them at the detector; a few are
 * planted here as a check).
 */
describe('secrets on the server root, session 31: Vault dev tokens, MediaWiki, ifupdown, RabbitMQ, webhooks, Kubernetes token files, CouchDB, and the session\'s own pass', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/etc', '~/.config'] })
    const { secret, plant, rootfs } = root

    // Vault's dev server, run by a unit and by a cron job, its root token given on the command line.
    const vaultUnit = secret('vault -dev-root-token-id= in a unit', v('vault-unit', 24))
    const vaultEnv = secret('VAULT_DEV_ROOT_TOKEN_ID= in a unit', v('vault-env', 24))
    await plant('/etc/systemd/system/vault-dev.service', `[Unit]\nDescription=Vault (dev)\n\n[Service]\nEnvironment=VAULT_DEV_ROOT_TOKEN_ID=${vaultEnv}\nExecStart=/usr/bin/vault server -dev -dev-root-token-id=${vaultUnit} -dev-listen-address=127.0.0.1:8200\n\n[Install]\nWantedBy=multi-user.target\n`)
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'vault-dev.service'])
    const vaultCron = secret('vault -dev-root-token-id in a cron job', v('vault-cron', 24))
    await plant('/etc/cron.d/vault-dev', `@reboot root /usr/bin/vault server -dev -dev-root-token-id "${vaultCron}" >>/var/log/vault-dev.log 2>&1\n`)

    // MediaWiki as Debian's package keeps it.
    const wgSecret = secret('MediaWiki $wgSecretKey', hex('wg-secret', 64))
    const wgUpgrade = secret('MediaWiki $wgUpgradeKey', hex('wg-upgrade', 16))
    const wgDb = secret('MediaWiki $wgDBpassword', v('wg-db', 16))
    const wgAdmin = secret('MediaWiki $wgDBadminpassword', v('wg-admin', 16))
    await plant('/etc/mediawiki/LocalSettings.php', `<?php\nif ( !defined( 'MEDIAWIKI' ) ) { exit; }\n$wgSitename = "Wiki";\n$wgDBtype = "mysql";\n$wgDBserver = "localhost";\n$wgDBname = "wikidb";\n$wgDBuser = "wikiuser";\n$wgDBpassword = "${wgDb}";\n$wgDBadminuser = "wikiadmin";\n$wgDBadminpassword = "${wgAdmin}";\n$wgSecretKey = "${wgSecret}";\n$wgUpgradeKey = "${wgUpgrade}";\n`, 0o640, [0, 33])
    // Only the upgrade key and the admin password: what the rules before missed, in a file of its own.
    await plant('/etc/mediawiki/upgrade.php', `<?php\n$wgUpgradeKey = "${wgUpgrade}";\n$wgDBadminuser = "wikiadmin";\n$wgDBadminpassword = "${wgAdmin}";\n`, 0o640, [0, 33])
    HELD.push(['/etc/mediawiki/upgrade.php', undefined])

    // ifupdown: a WEP key and a WPA passphrase.
    const wep = secret('ifupdown wireless-key', `s:${v('wep', 13)}`)
    await plant('/etc/network/interfaces.d/wlan0', `allow-hotplug wlan0\niface wlan0 inet dhcp\n    wireless-essid Office\n    wireless-mode managed\n    wireless-key ${wep}\n`, 0o600)
    const wpa = secret('ifupdown wpa-psk', v('wpa', 24))
    await plant('/etc/network/interfaces', `source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug wlan1\niface wlan1 inet dhcp\n    wpa-ssid "Office 5G"\n    wpa-psk "${wpa}"\n`, 0o600)

    // RabbitMQ: definitions loaded at boot (a user's password hash), the default user's password.
    const rabbitHash = secret('RabbitMQ definitions.json password_hash', b64('rabbit-hash', 48))
    await plant('/etc/rabbitmq/definitions.json', JSON.stringify({ rabbit_version: '3.12.1', users: [{ name: 'app', password_hash: rabbitHash, hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['management'] }], vhosts: [{ name: '/' }] }, null, 2) + '\n', 0o640, [0, 0])
    const rabbitPass = secret('rabbitmq.conf default_pass', v('rabbit-pass', 16))
    await plant('/etc/rabbitmq/rabbitmq.conf', `listeners.tcp.default = 5672\ndefault_user = admin\ndefault_pass = ${rabbitPass}\nload_definitions = /etc/rabbitmq/definitions.json\n`, 0o640)

    // Chat webhooks in scripts: Mattermost's alone, Slack's and Discord's (held already).
    const mattermost = secret('Mattermost webhook', mattermostId('mattermost'))
    const slack = secret('Slack webhook', v('slack', 24))
    const discord = secret('Discord webhook', v('discord', 68))
    await plant('/usr/local/bin/notify-deploy', `#!/bin/sh\nset -e\nmsg="deployed $(hostname) at $(date)"\ncurl -fsS -H 'Content-Type: application/json' -d "{\\"text\\": \\"$msg\\"}" https://chat.example.org/hooks/${mattermost}\n`, 0o755)
    await plant('/usr/local/bin/notify-chat', `#!/bin/sh\nmsg="$1"\ncurl -fsS -d "{\\"text\\": \\"$msg\\"}" https://hooks.slack.com/services/T0${v('slack-t', 8).toUpperCase()}/B0${v('slack-b', 8).toUpperCase()}/${slack}\ncurl -fsS -d "{\\"content\\": \\"$msg\\"}" https://discord.com/api/webhooks/1234567890123456789/${discord}\n`, 0o755)

    // kube-apiserver's static token file, named by a kubeadm static pod and by k3s's config.yaml.
    const kubeToken = secret('kube-apiserver --token-auth-file= CSV', v('kube-token', 32))
    await plant('/etc/kubernetes/manifests/kube-apiserver.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --advertise-address=10.0.0.10\n    - --token-auth-file=/etc/kubernetes/auth/tokens.csv\n    image: registry.k8s.io/kube-apiserver:v1.29.0\n    name: kube-apiserver\n', 0o600)
    await plant('/etc/kubernetes/auth/tokens.csv', `${kubeToken},admin,admin,"system:masters"\n${v('kube-token2', 32)},deployer,1001,"deployers,viewers"\n${uuid('kube-token3')},monitor,1002\n`, 0o600)
    secret('kube-apiserver token CSV, second line', v('kube-token2', 32))
    secret('kube-apiserver token CSV, a UUID token', uuid('kube-token3'))
    const k3sToken = secret('k3s kube-apiserver-arg token-auth-file CSV', v('k3s-token', 32))
    await plant('/etc/rancher/k3s/config.yaml', 'write-kubeconfig-mode: "0644"\nkube-apiserver-arg:\n  - "token-auth-file=/etc/rancher/k3s/static-tokens.csv"\n', 0o600)
    await plant('/etc/rancher/k3s/static-tokens.csv', `${k3sToken},ci,2001,"system:masters"\n${v('k3s-token2', 32)},ops,2002\n${v('k3s-token3', 32)},view,2003\n`, 0o600)

    // CouchDB 1.x in /etc (collected); CouchDB 3 in /opt and ZNC in /var/lib/znc are not in the include set.
    const couch = secret('CouchDB [admins] password in /etc/couchdb/local.ini', v('couch', 16))
    await plant('/etc/couchdb/local.ini', `[couchdb]\nuuid = ${hex('couch-uuid', 32)}\n\n[httpd]\nbind_address = 127.0.0.1\n\n[admins]\n;admin = mysecretpassword\nadmin = ${couch}\n`, 0o640, [0, 0])
    const couchOpt = secret('CouchDB [admins] hash in /opt/couchdb/etc/local.ini', hex('couch-opt', 40))
    await plant('/opt/couchdb/etc/local.ini', `[admins]\nadmin = -pbkdf2-${couchOpt},${hex('couch-salt', 32)},10\n`, 0o640)
    const znc = secret('ZNC <Pass password> hash', hex('znc', 64))
    await plant('/var/lib/znc/configs/znc.conf', `Version = 1.8.2\n<User admin>\n\t<Pass password>\n\t\tMethod = sha256\n\t\tHash = ${znc}\n\t\tSalt = ${v('znc-salt', 20)}\n\t</Pass>\n\tAdmin = true\n</User>\n`, 0o600)

    // The session's own pass.
    const fpm = secret('php-fpm php_admin_value[mysqli.default_pw]', v('fpm', 16))
    await plant('/etc/php/8.2/fpm/pool.d/www.conf', `[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = dynamic\npm.max_children = 5\nphp_admin_value[mysqli.default_user] = app\nphp_admin_value[mysqli.default_pw] = ${fpm}\nphp_admin_value[error_log] = /var/log/fpm-php.www.log\n`)
    const grafana = secret('Grafana triple-quoted [database] password', `${v('grafana', 12)}#;${v('grafana2', 4)}`)
    await plant('/etc/grafana/grafana.ini', `[server]\nhttp_port = 3000\n\n[database]\ntype = postgres\nhost = 127.0.0.1:5432\nname = grafana\nuser = grafana\npassword = """${grafana}"""\n`, 0o640, [0, 0])
    const pagerduty = secret('Alertmanager pagerduty routing_key', hex('pagerduty', 32))
    await plant('/etc/prometheus/alertmanager.yml', `route:\n  receiver: oncall\nreceivers:\n  - name: oncall\n    pagerduty_configs:\n      - routing_key: ${pagerduty}\n        severity: critical\n`)
    const rcloneSalt = secret('rclone crypt password2 (the salt)', v('rclone-salt', 40))
    await plant('/root/.config/rclone/rclone.conf', `[b2]\ntype = b2\naccount = ${hex('b2-account', 12)}\n\n[offsite]\ntype = crypt\nremote = b2:backups/srv\nfilename_encryption = standard\npassword2 = ${rcloneSalt}\n`, 0o600)
    const synapse = secret('Synapse signing key', `${b64('synapse', 43)}`)
    await plant('/etc/matrix-synapse/homeserver.signing.key', `ed25519 a_${v('synapse-id', 4)} ${synapse}\n`, 0o640, [0, 111])
    const turn = secret('coturn user=NAME:PASSWORD', v('turn', 16))
    await plant('/etc/turnserver.conf', `listening-port=3478\nfingerprint\nlt-cred-mech\nrealm=turn.example.org\nuser=jitsi:${turn}\n`, 0o640, [0, 0])
    const trojan = secret('Trojan password list', v('trojan', 24))
    await plant('/etc/trojan/config.json', JSON.stringify({ run_type: 'server', local_addr: '0.0.0.0', local_port: 443, remote_addr: '127.0.0.1', remote_port: 80, password: [trojan, v('trojan2', 24)], ssl: { cert: '/etc/ssl/certs/trojan.crt' } }, null, 4) + '\n', 0o644)
    secret('Trojan password list, second', v('trojan2', 24))
    const pihole = secret('Pi-hole 6 pwhash', b64('pihole', 43))
    await plant('/etc/pihole/pihole.toml', `[webserver]\n  port = "80o,443os"\n  [webserver.api]\n    pwhash = "$BALLOON-SHA256$v=1$s=1024,t=32$${b64('pihole-salt', 22)}==$${pihole}="\n`, 0o640)
    const borg = secret('Borg key file', b64('borg', 76))
    await plant('/root/.config/borg/keys/srv_backup', `BORG_KEY ${hex('borg-id', 64)}\n${borg}\n${b64('borg2', 76)}\n${b64('borg3', 40)}\n`, 0o600)
    const deluge = secret('Deluge auth', v('deluge', 14))
    await plant('/root/.config/deluge/auth', `localclient:${hex('deluge-local', 40)}:10\nbob:${deluge}:10\nalice:${v('deluge2', 14)}:5\n`, 0o600)
    const weechat = secret('WeeChat sec.conf data', v('weechat', 18))
    await plant('/root/.config/weechat/sec.conf', `#\n# weechat -- sec.conf\n#\n\n[crypt]\ncipher = aes256\nhash_algo = sha256\npassphrase_command = ""\nsalt = on\n\n[data]\n__passphrase__ = off\nlibera = "${weechat}"\n`, 0o600)
    const rsync = secret('rsyncd secrets file', v('rsync', 14))
    await plant('/etc/rsyncd.conf', 'uid = nobody\ngid = nogroup\nuse chroot = yes\n\n[backup]\n  path = /srv/backup\n  read only = no\n  auth users = backup, ops, ci\n  secrets file = /etc/rsync/users.secrets\n')
    await plant('/etc/rsync/users.secrets', `backup:${rsync}\nops:${v('rsync2', 14)}\nci:${v('rsync3', 14)}\n`, 0o600)
    const smtpd = secret('OpenSMTPD relay credentials table', v('smtpd', 16))
    await plant('/etc/smtpd.conf', 'table aliases file:/etc/aliases\ntable secrets file:/etc/smtpd/relay-auth\n\nlisten on localhost\naction "local" mbox alias <aliases>\naction "relay" relay host smtp+tls://label@smtp.example.org:587 auth <secrets>\nmatch from local for local action "local"\nmatch from local for any action "relay"\n')
    await plant('/etc/smtpd/relay-auth', `label bob@example.org:${smtpd}\nbackup ops@example.org:${v('smtpd2', 16)}\n`, 0o640, [0, 0])
    const luks = secret('LUKS key file crypttab names', `battery horse ${v('luks', 10).toLowerCase()}`)
    await plant('/etc/crypttab', '# <target name> <source device> <key file> <options>\ndata_crypt UUID=5e6c3b1a-0d3c-4f1e-9a8b-2c7d6e5f4a3b /etc/luks/data.key luks,discard\nswap_crypt /dev/vdb2 /dev/urandom swap,cipher=aes-xts-plain64,size=256\n')
    await plant('/etc/luks/data.key', `${luks}\n`, 0o400)
    const pve = secret('Proxmox API token secret (priv/token.cfg)', uuid('pve'))
    await plant('/etc/pve/priv/token.cfg', `root@pam!monitoring ${pve}\n`, 0o600, [0, 33])
    const vnc = Buffer.from(hex('vnc', 16), 'hex')
    await plant('/root/.config/tigervnc/passwd', vnc, 0o600)
    const ceph = secret('Ceph keyring key', `AQ${b64('ceph', 36)}==`)
    await plant('/etc/ceph/ceph.client.admin.keyring', `[client.admin]\n\tkey = ${ceph}\n\tcaps mds = "allow *"\n\tcaps mon = "allow *"\n\tcaps osd = "allow *"\n`, 0o600)
    const gitlab = secret('GitLab gitlab-secrets.json list value', v('gitlab', 32))
    await plant('/etc/gitlab/gitlab-secrets.json', JSON.stringify({ gitlab_rails: { secret_key_base: hex('gl-skb', 128), active_record_encryption_primary_key: [gitlab], active_record_encryption_deterministic_key: [v('gitlab2', 32)] } }, null, 2) + '\n', 0o600)
    secret('GitLab gitlab-secrets.json list value, second', v('gitlab2', 32))

    // Held already, planted as a check.
    const requirepass = secret('redis requirepass', v('redis', 24))
    await plant('/etc/redis/redis.conf', `bind 127.0.0.1 -::1\nport 6379\nrequirepass ${requirepass}\n`, 0o640, [0, 0])
    const promAuth = secret('prometheus basic_auth password', v('prom', 16))
    await plant('/etc/prometheus/prometheus.yml', `scrape_configs:\n  - job_name: node\n    basic_auth:\n      username: prom\n      password: ${promAuth}\n    static_configs:\n      - targets: ['localhost:9100']\n`)
    const pgpass = secret('cron PGPASSWORD=', v('pgpass', 16))
    await plant('/etc/cron.d/pgdump', `15 2 * * * postgres PGPASSWORD=${pgpass} pg_dump -h db.example.org app | gzip > /var/backups/app.sql.gz\n`)
    const bearer = secret('syslog Authorization: Bearer', v('bearer', 32))
    await plant('/var/log/syslog', `2026-12-04T10:00:00.000000+00:00 srv webhook[812]: forwarding with headers {Authorization: Bearer ${bearer}}\n`, 0o640)

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 44)
    const entryOf = await root.assertHeldOut(HELD)
    // The configs that name them are mirrored: only the named files are held out.
    for (const path of ['/etc/kubernetes/manifests/kube-apiserver.yaml', '/etc/rancher/k3s/config.yaml', '/etc/rsyncd.conf', '/etc/smtpd.conf', '/etc/crypttab']) {
      assert.equal((entryOf(path) as { content?: string } | undefined)?.content, 'mirrored', path)
    }
    // ZNC's and CouchDB 3's configs are not in the include set: not in the twin at all.
    assert.equal(entryOf('/var/lib/znc/configs/znc.conf'), undefined)
    assert.equal(entryOf('/opt/couchdb/etc/local.ini'), undefined)
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
