import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s32-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s32-${seed}`, n, '0123456789abcdef')
const digits = (seed: string, n: number): string => fakeChars(`s32-${seed}`, n, '0123456789')
/** Mattermost's generated keys and salts: 32 characters of lower case and digits. */
const salt = (seed: string): string => fakeChars(`s32-${seed}`, 32, 'abcdefghijklmnopqrstuvwxyz0123456789')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`

/** Files that must be held out (`secret: true`), each with its reason where a path rule is what holds it. */
const HELD: Array<[string, 'path rule' | undefined]> = [
  ['/home/bob/.config/notes/notes.env', 'path rule'],
  ['/home/bob/.config/notes/state.env', 'path rule'],
  ['/home/bob/.config/notes/token', 'path rule'],
  ['/root/.config/sync/sync.env', 'path rule'],
  ['/home/bob/.config/sync/sync.env', 'path rule'],
  ['/opt/mattermost/config/config.json', undefined],
  ['/etc/asterisk/voicemail.conf', undefined],
  ['/etc/asterisk/sip.conf', undefined],
  ['/etc/asterisk/pjsip.conf', undefined],
  ['/etc/asterisk/iax.conf', undefined],
  ['/etc/asterisk/meetme.conf', undefined],
  ['/usr/local/etc/xray/config.json', undefined],
  ['/etc/v2ray/config.json', undefined],
]

/**
 * Session 32 on the server root. What session 31 left (each failed this test before its fix):
 * the files user units' `EnvironmentFile=` and `LoadCredential=` name (a user's own units in
 * ~/.config/systemd/user with a drop-in, and /etc/systemd/user's, which every user's manager runs),
 * their values of no shape the detector knows; Mattermost's config.json in /opt/mattermost/config
 * (included here as a person would: its keys and salts); Asterisk's voicemail PINs, a trunk's
 * registration password, `md5secret`/`md5_cred`, MeetMe's PINs and a weak `secret=`; Xray's and
 * V2Ray's user ids (VLESS, VMess, an outbound's user). The units and the configs that are no
 * secret are mirrored.
 */
describe("secrets on the server root, session 32: user units' environment files, Mattermost, Asterisk, Xray and V2Ray", function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/etc', '~/.config', '/opt/mattermost/config'] })
    const { secret, plant, rootfs } = root
    // A person with a home: the server root has none.
    await runOk(['useradd', '--root', rootfs.dir, '--create-home', '--uid', '1000', '--user-group', '--shell', '/bin/bash', 'bob'])
    const bob: [number, number] = [1000, 1000]

    // bob's own service, its environment and a credential beside its config; a drop-in adds a state file.
    const notes = secret('user unit EnvironmentFile=%h/… (bob)', v('notes', 24))
    await plant('/home/bob/.config/systemd/user/notes.service', '[Unit]\nDescription=Notes sync\n\n[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nLoadCredential=upstream:%h/.config/notes/token\nExecStart=/usr/bin/notes-sync --config %E/notes/settings.ini\n\n[Install]\nWantedBy=default.target\n', 0o644, bob)
    await plant('/home/bob/.config/systemd/user/notes.service.d/override.conf', '[Service]\nEnvironmentFile=-%E/notes/state.env\n', 0o644, bob)
    await plant('/home/bob/.config/notes/notes.env', `# notes-sync\nNOTES_REMOTE=https://notes.example.org\nNOTES_INTERVAL=300\nNOTES_UPSTREAM=${notes}\n`, 0o644, bob)
    const state = secret('user unit drop-in EnvironmentFile=%E/… (bob)', v('notes-state', 24))
    await plant('/home/bob/.config/notes/state.env', `NOTES_MODE=incremental\nNOTES_RESUME=${state}\nNOTES_LAST=2026-12-01\n`, 0o644, bob)
    const token = secret('user unit LoadCredential=…:%h/… (bob)', v('notes-token', 32))
    await plant('/home/bob/.config/notes/token', `${token}\n`, 0o644, bob)
    await plant('/home/bob/.config/notes/settings.ini', '[ui]\ntheme = dark\n', 0o644, bob)
    // A user unit every user's manager runs, its file in each home.
    await plant('/etc/systemd/user/sync.service', '[Service]\nEnvironmentFile=%h/.config/sync/sync.env\nExecStart=/usr/bin/sync-agent\n')
    const syncRoot = secret('/etc/systemd/user unit EnvironmentFile=%h/… (root)', v('sync-root', 24))
    await plant('/root/.config/sync/sync.env', `SYNC_UPSTREAM=${syncRoot}\n`, 0o644)
    const syncBob = secret('/etc/systemd/user unit EnvironmentFile=%h/… (bob)', v('sync-bob', 24))
    await plant('/home/bob/.config/sync/sync.env', `SYNC_UPSTREAM=${syncBob}\n`, 0o644, bob)

    // Mattermost, its config included by hand; its database reached over the local socket (peer
    // authentication, no password), no SMTP password: only its own keys and salts are secret.
    const mmKey = secret('Mattermost AtRestEncryptKey', salt('mm-key'))
    const mmLink = secret('Mattermost PublicLinkSalt', salt('mm-link'))
    const mmInvite = secret('Mattermost InviteSalt', salt('mm-invite'))
    const mmReset = secret('Mattermost PasswordResetSalt', salt('mm-reset'))
    const mmProxy = secret('Mattermost RemoteImageProxyOptions', salt('mm-proxy'))
    const mattermost = {
      ServiceSettings: { SiteURL: 'https://chat.example.org', ListenAddress: ':8065', GiphySdkKey: '' },
      SqlSettings: { DriverName: 'postgres', DataSource: 'postgres://mmuser@/mattermost?host=/run/postgresql&sslmode=disable&connect_timeout=10', DataSourceReplicas: [], DataSourceSearchReplicas: [], MaxIdleConns: 20, AtRestEncryptKey: mmKey, QueryTimeout: 30 },
      FileSettings: { DriverName: 'local', Directory: './data/', PublicLinkSalt: mmLink, AmazonS3SecretAccessKey: '' },
      EmailSettings: { SMTPUsername: '', SMTPPassword: '', SMTPServer: 'localhost', InviteSalt: mmInvite, PasswordResetSalt: mmReset },
      ImageProxySettings: { Enable: true, ImageProxyType: 'atmos/camo', RemoteImageProxyURL: 'https://camo.example.org', RemoteImageProxyOptions: mmProxy },
      LdapSettings: { BindPassword: '' },
    }
    await plant('/opt/mattermost/config/config.json', JSON.stringify(mattermost, null, 4) + '\n', 0o600, [0, 0])

    // Asterisk.
    const pin = secret('Asterisk voicemail PIN', digits('vm-pin', 9))
    const pin2 = secret('Asterisk voicemail PIN the user may not change', digits('vm-pin2', 9))
    await plant('/etc/asterisk/voicemail.conf', `[general]\nformat=wav49|gsm|wav\nserveremail=asterisk\nattach=yes\n\n[default]\n6001 => ${pin},Alice Office,alice@example.org\n6002 => -${pin2},Bob,bob@example.org,,attach=yes|tz=eastern\n`, 0o640, [0, 0])
    const trunk = secret('Asterisk sip.conf register => password', v('sip-trunk', 14))
    const md5 = secret('Asterisk sip.conf md5secret', hex('sip-md5', 32))
    const weak = secret('Asterisk sip.conf weak secret (digits)', digits('sip-weak', 9))
    await plant('/etc/asterisk/sip.conf', `[general]\ncontext=default\nregister => 2345:${trunk}@sip.provider.example/1000\n\n[6001]\ntype=friend\nhost=dynamic\nsecret=${weak}\ncontext=internal\n\n[6002]\ntype=friend\nmd5secret=${md5}\n`, 0o640, [0, 0])
    const md5cred = secret('Asterisk pjsip.conf md5_cred', hex('pjsip-md5', 32))
    const pjWeak = secret('Asterisk pjsip.conf weak password (digits)', digits('pjsip-weak', 9))
    await plant('/etc/asterisk/pjsip.conf', `[transport-udp]\ntype=transport\nprotocol=udp\nbind=0.0.0.0\n\n[6001]\ntype=auth\nauth_type=userpass\npassword=${pjWeak}\nusername=6001\n\n[trunk-auth]\ntype=auth\nauth_type=md5\nmd5_cred=${md5cred}\nusername=trunkuser\n`, 0o640, [0, 0])
    const iax = secret('Asterisk iax.conf register => password', v('iax-trunk', 14))
    await plant('/etc/asterisk/iax.conf', `[general]\nregister => myuser:${iax}@iax.provider.example\n`, 0o640, [0, 0])
    const meetme = secret('Asterisk MeetMe room PIN', digits('meetme', 9))
    await plant('/etc/asterisk/meetme.conf', `[general]\naudiobuffers=32\n\n[rooms]\nconf => 100,${meetme},${digits('meetme-admin', 9)}\n`, 0o640, [0, 0])
    secret('Asterisk MeetMe room admin PIN', digits('meetme-admin', 9))
    await plant('/etc/asterisk/extensions.conf', '[internal]\nexten => 100,1,Dial(PJSIP/6001)\nsame => n,Hangup()\n', 0o640, [0, 0])

    // Xray (its install script's place) and V2Ray (Debian's package's).
    const vless = secret('Xray VLESS client id', uuid('vless'))
    const vlessName = secret('Xray VLESS client id, any string', `alice-${v('vless-name', 12)}`)
    const vmessOut = secret('Xray VMess outbound user id', uuid('vmess-out'))
    const xray = {
      log: { loglevel: 'warning' },
      inbounds: [
        { port: 443, protocol: 'vless', settings: { clients: [{ id: vless, flow: 'xtls-rprx-vision', email: 'alice@example.org' }, { id: vlessName }], decryption: 'none' }, streamSettings: { network: 'tcp', security: 'tls' } },
      ],
      outbounds: [{ protocol: 'freedom' }, { protocol: 'vmess', tag: 'upstream', settings: { vnext: [{ address: 'up.example.org', port: 443, users: [{ id: vmessOut, alterId: 0 }] }] } }],
    }
    await plant('/usr/local/etc/xray/config.json', JSON.stringify(xray, null, 2) + '\n', 0o644)
    const vmess = secret('V2Ray VMess client id', uuid('vmess'))
    await plant('/etc/v2ray/config.json', `{\n  "inbounds": [{\n    "port": 10086,\n    "protocol": "vmess",\n    "settings": {\n      "clients": [\n        {\n          "id": "${vmess}",\n          "level": 1,\n          "alterId": 0\n        }\n      ]\n    }\n  }],\n  "outbounds": [{ "protocol": "freedom", "settings": {} }]\n}\n`, 0o644)

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 24)
    const entryOf = await root.assertHeldOut(HELD)
    // The units and what is no secret beside them are mirrored.
    for (const path of ['/home/bob/.config/systemd/user/notes.service', '/home/bob/.config/systemd/user/notes.service.d/override.conf', '/etc/systemd/user/sync.service', '/home/bob/.config/notes/settings.ini', '/etc/asterisk/extensions.conf']) {
      assert.equal(entryOf(path)?.content, 'mirrored', path)
    }
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
