import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s30-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s30-${seed}`, n, '0123456789abcdef')
const b64 = (seed: string, n: number): string => fakeChars(`s30-${seed}`, n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`

/**
 * Session 30's red team on the server root. What session 29's left leaking (each failed this test
 * before its fix): HexChat's saved server passwords (`P=` in servlist.conf), stunnel's PSK files
 * (what `PSKsecrets =` names: `identity:key` lines), minisign's and signify's secret key files,
 * Consul's ACL tokens (UUIDs under `acl { tokens { default = … } }` and its JSON form), a file a
 * unit's `EnvironmentFile=` names whose values have neutral names, Sentry DSNs (a key in the URL's
 * user part, no password) and a Kubernetes Secret written as JSON. Then the session's own pass,
 * over what admins keep on Debian servers: Jetty realm files (Rundeck's realm.properties), netplan's
 * WireGuard keys (`keys: private:`), s3fs's password file, dma's auth.conf and pgpool's pcp.conf.
 * The rest of that pass (chap-secrets, ipsec.secrets, swanctl, WireGuard and networkd keys,
 * NetworkManager, wpa_supplicant, davfs2, CIFS credentials, fstab, rclone, s3cmd, .my.cnf,
 * restic/borg in units, containers' auth.json, SNMP, keepalived, haproxy, htpasswd, OpenVPN's
 * static keys and auth-user-pass files, ddclient, msmtp, fetchmail, cron's curl -u and URLs, the
 * syslog's password=, Bearer and access_token=) held already: sdk/test/secrets.test.ts has
 * them at the detector, a few are planted here as a check.
 */
describe('secrets on the server root, session 30: chat clients, PSK and signing keys, Consul ACLs, environment files, Sentry, JSON Secrets', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/etc', '~/.config', '~/.passwd-s3fs'] })
    const { secret, plant, rootfs } = root

    // HexChat keeps a network's server password as `P=` (and its NickServ/SASL password too) in servlist.conf.
    const hexchat = secret('HexChat servlist.conf P=', v('hexchat', 14))
    await plant('/root/.config/hexchat/servlist.conf', `v=2.16.1\n\nN=Libera.Chat\nL=6\nE=UTF-8 (Unicode)\nF=19\nD=0\nS=irc.libera.chat\nP=${hexchat}\n\nN=OFTC\nE=UTF-8 (Unicode)\nF=19\nD=0\nS=irc.oftc.net\n`, 0o600)

    // stunnel: PSKsecrets names a file of `identity:key` lines, world-readable here, two clients (no one-word token file).
    const psk1 = secret('stunnel PSKsecrets file, first identity', v('psk1', 32))
    const psk2 = secret('stunnel psksecrets file (lower case), second identity', v('psk2', 40))
    await plant('/etc/stunnel/redis.conf', `pid = /run/stunnel-redis.pid\n[redis]\naccept = 0.0.0.0:6380\nconnect = 127.0.0.1:6379\nciphers = PSK\nPSKsecrets = /etc/stunnel/psk.txt\n`)
    await plant('/etc/stunnel/psk.txt', `app1:${psk1}\n`, 0o644)
    await plant('/etc/stunnel/pg.conf', `[pg]\nclient = yes\naccept = 127.0.0.1:5433\nconnect = db.example.org:5434\npsksecrets = psk-pg.txt\n`)
    await plant('/etc/stunnel/psk-pg.txt', `pg-a:${psk1}\npg-b:${psk2}\n`, 0o644)

    // minisign's and signify's secret keys, as their tools write them.
    const minisign = secret('minisign encrypted secret key', `RWRTY0Iy${b64('minisign', 150)}`)
    await plant('/etc/minisign/minisign.key', `untrusted comment: minisign encrypted secret key\n${minisign}\n`, 0o600)
    const signify = secret('signify secret key', `RWRCSwAAAA${b64('signify', 90)}`)
    await plant('/etc/signify/release.sec', `untrusted comment: signify secret key\n${signify}\n`, 0o600)

    // Consul's ACL tokens (UUIDs) under keys that say nothing, HCL and JSON.
    const aclDefault = secret('Consul acl.tokens.default (HCL)', uuid('acl-default'))
    const aclAgent = secret('Consul acl.tokens.agent (HCL)', uuid('acl-agent'))
    await plant('/etc/consul.d/consul.hcl', `datacenter = "dc1"\ndata_dir = "/opt/consul"\nacl {\n  enabled = true\n  default_policy = "deny"\n  enable_token_persistence = true\n  tokens {\n    default = "${aclDefault}"\n    agent   = "${aclAgent}"\n  }\n}\n`, 0o640)
    const aclJson = secret('Consul acl.tokens.initial_management (JSON)', uuid('acl-json'))
    await plant('/etc/consul.d/acl.json', JSON.stringify({ acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: aclJson } } }, null, 2) + '\n', 0o640)

    // A unit's EnvironmentFile= (its `-` prefix, a second file on the line) and a drop-in's, values under neutral names.
    const envConn = secret('EnvironmentFile= value under a neutral name', v('envconn', 24))
    const envDrop = secret('drop-in EnvironmentFile= value under a neutral name', v('envdrop', 24))
    await plant('/etc/systemd/system/webapp.service', '[Unit]\nDescription=Web app\n\n[Service]\nEnvironmentFile=-/etc/default/webapp /etc/webapp/runtime.env\nExecStart=/usr/local/bin/webapp\n\n[Install]\nWantedBy=multi-user.target\n')
    await plant('/etc/webapp/runtime.env', `# webapp's settings\nLISTEN=127.0.0.1:8080\nWORKERS=4\nAPP_DB_CONN=${envConn}\n`, 0o644)
    await plant('/etc/systemd/system/cron.service.d/env.conf', '[Service]\nEnvironmentFile=/etc/cron.env\n')
    await plant('/etc/cron.env', `BACKUP_TARGET=s3://backups\nBACKUP_KEYRING=${envDrop}\nBACKUP_KEEP=14\n`, 0o640)
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'webapp.service'])

    // Sentry DSNs: the key is the URL's user, no password.
    const sentry = secret('Sentry DSN key (YAML)', hex('sentry', 32))
    await plant('/etc/webapp/settings.yml', `logging:\n  level: info\nsentry:\n  dsn: https://${sentry}@o123456.ingest.sentry.io/4507890\n`, 0o644)
    const sentryEnv = secret('Sentry DSN key (self-hosted, in an env file)', hex('sentry-env', 32))
    await plant('/etc/default/webapp', `SENTRY_DSN="https://${sentryEnv}@sentry.example.org/12"\n`, 0o644)

    // A Kubernetes Secret as JSON (k3s deploys .json manifests too).
    const k8sData = secret('Kubernetes Secret (JSON) data', Buffer.from(`postgres://app:${v('k8s-json', 12)}@db/app`).toString('base64'))
    const k8sString = secret('Kubernetes Secret (JSON) stringData', v('k8s-json-string', 24))
    await plant(
      '/etc/rancher/k3s/server/manifests/app-secret.json',
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: 'default' }, type: 'Opaque', data: { connection: k8sData }, stringData: { signing: k8sString } }, null, 2) + '\n',
      0o600,
    )

    // The session's own pass: Rundeck's Jetty realm, netplan's WireGuard keys, s3fs's and dma's password files, pgpool's pcp.conf.
    const realm = secret('Rundeck realm.properties password', v('realm', 14))
    await plant('/etc/rundeck/realm.properties', `# user: password, roles\nadmin:${realm},user,admin,architect,deploy,build\nops: ${realm}x,user,deploy\nci=${realm}y,user,build\n`, 0o644)
    const netplanKey = secret('netplan WireGuard keys.private', `${b64('netplan', 43)}=`)
    const netplanPsk = secret('netplan WireGuard peer keys.shared', `${b64('netplan-psk', 43)}=`)
    await plant('/etc/netplan/60-wg0.yaml', `network:\n  version: 2\n  tunnels:\n    wg0:\n      mode: wireguard\n      port: 51820\n      addresses: [10.10.0.1/24]\n      keys:\n        private: ${netplanKey}\n      peers:\n        - allowed-ips: [10.10.0.2/32]\n          keys:\n            public: ${b64('netplan-pub', 43)}=\n            shared: ${netplanPsk}\n`, 0o600)
    const s3fs = secret('s3fs password file', v('s3fs', 32))
    await plant('/etc/passwd-s3fs', `backups:minio-${v('s3fs-id', 8)}:${s3fs}\nlogs:minio-${v('s3fs-id2', 8)}:${s3fs}\nminio-${v('s3fs-id3', 8)}:${s3fs}\n`, 0o640)
    const s3fsHome = secret('~/.passwd-s3fs', v('s3fs-home', 32))
    await plant('/root/.passwd-s3fs', `AKID${v('s3fs-home-id', 12)}:${s3fsHome}\n`, 0o644)
    const dma = secret('dma auth.conf', v('dma', 16))
    await plant('/etc/dma/auth.conf', `# user|smarthost:password\nbob@example.org|smtp.example.org:${dma}\n`, 0o644)
    const pcp = secret('pgpool pcp.conf md5', hex('pcp', 32))
    await plant('/etc/pgpool2/pcp.conf', `# USERID:MD5PASSWD\npgpool:${pcp}\n`, 0o644)

    // Held already, planted as a check: a few of the pass's shapes.
    const chap = secret('ppp chap-secrets', v('chap'))
    await plant('/etc/ppp/chap-secrets', `# client\tserver\tsecret\tIP addresses\nalice\t*\t"${chap}"\t*\n`, 0o600)
    const netdev = secret('systemd-networkd .netdev PrivateKey=', `${b64('netdev', 43)}=`)
    await plant('/etc/systemd/network/50-wg0.netdev', `[NetDev]\nName=wg0\nKind=wireguard\n\n[WireGuard]\nPrivateKey=${netdev}\nListenPort=51820\n`, 0o640)
    const keepalived = secret('keepalived auth_pass', v('keepalived', 8))
    await plant('/etc/keepalived/keepalived.conf', `vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  authentication {\n    auth_type PASS\n    auth_pass ${keepalived}\n  }\n}\n`, 0o644)
    const curl = secret('cron curl -u user:password', v('curl', 16))
    await plant('/etc/cron.d/offsite', `15 3 * * * root curl -fsS -u backup:${curl} -T /var/backups/db.gz https://dav.example.org/db.gz\n`, 0o644)
    const syslog = secret('syslog access_token= in a URL', v('syslog', 32))
    await plant('/var/log/syslog', `2026-12-04T10:00:00.000000+00:00 srv webapp[812]: GET /api/export?format=csv&access_token=${syslog} 200\n`, 0o640)

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { cli, planted } = root
    assert.equal(planted.length, 26)
    const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as { entries: Array<{ path: string }> }
    const entryOf = (path: string) => JSON.stringify(manifest.entries.find((e) => e.path === path) ?? null, null, 1)
    const notHeld: string[] = []
    for (const path of [
      '/root/.config/hexchat/servlist.conf',
      '/etc/stunnel/psk.txt',
      '/etc/stunnel/psk-pg.txt',
      '/etc/minisign/minisign.key',
      '/etc/signify/release.sec',
      '/etc/consul.d/consul.hcl',
      '/etc/consul.d/acl.json',
      '/etc/webapp/runtime.env',
      '/etc/cron.env',
      '/etc/webapp/settings.yml',
      '/etc/default/webapp',
      '/etc/rancher/k3s/server/manifests/app-secret.json',
      '/etc/rundeck/realm.properties',
      '/etc/netplan/60-wg0.yaml',
      '/etc/passwd-s3fs',
      '/root/.passwd-s3fs',
      '/etc/dma/auth.conf',
      '/etc/pgpool2/pcp.conf',
    ]) {
      if (!/"secret": true/.test(entryOf(path))) notHeld.push(path)
    }
    assert.deepEqual(notHeld, [], 'not held out')
    // The configs that name them are mirrored: only the named files are held out.
    for (const path of ['/etc/stunnel/redis.conf', '/etc/stunnel/pg.conf', '/etc/systemd/system/webapp.service', '/etc/systemd/system/cron.service.d/env.conf']) {
      assert.match(entryOf(path), /"content": "mirrored"/, path)
    }
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })

  it('holds the files stunnel\'s PSKsecrets and a unit\'s EnvironmentFile= name out by their path', async () => {
    const { cli } = root
    for (const path of ['/etc/stunnel/psk.txt', '/etc/stunnel/psk-pg.txt', '/etc/webapp/runtime.env', '/etc/cron.env']) {
      const manifest = (await runOk(['git', '-C', cli.twinDir, 'grep', '-h', '-A12', `"path": "${path}"`, 'HEAD', '--', 'system/files/'])).stdout
      assert.match(manifest, /"secretReason": "path rule"/, path)
    }
  })
})
