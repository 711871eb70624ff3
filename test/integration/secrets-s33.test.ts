import { strict as assert } from 'node:assert'
import { mkdir, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s33-${seed}`, n)
const hex = (seed: string, n: number): string => fakeChars(`s33-${seed}`, n, '0123456789abcdef')
const b64url = (seed: string, n: number): string => fakeChars(`s33-${seed}`, n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
const salt = (seed: string): string => fakeChars(`s33-${seed}`, 32, 'abcdefghijklmnopqrstuvwxyz0123456789')
const uuid = (seed: string): string => `${hex(`${seed}a`, 8)}-${hex(`${seed}b`, 4)}-4${hex(`${seed}c`, 3)}-a${hex(`${seed}d`, 3)}-${hex(`${seed}e`, 12)}`

/** Files that must be held out (`secret: true`), each with its reason where a path rule is what holds it. */
const HELD: Array<[string, 'path rule' | undefined]> = [
  ['/home/bob/dotfiles/notes/.config/notes/notes.env', 'path rule'],
  ['/home/bob/dotfiles/notes/.config/notes/token', 'path rule'],
  ['/home/carol/dotfiles/mail/.config/mail/mail.env', 'path rule'],
  ['/usr/local/etc/xray/config.yaml', undefined],
  ['/usr/local/etc/xray/config.toml', undefined],
  ['/usr/local/etc/xray/reality.json', undefined],
  ['/opt/xray/config.json', undefined],
  ['/etc/mattermost-server/config.json', undefined],
  ['/etc/ntp/keys', undefined],
  ['/etc/chrony/my.keys', undefined],
  ['/etc/sudo-ldap.conf', undefined],
]

/**
 * Session 33 on the server root. What session 32 left and a fresh hunt found (each failed this
 * test before its fix): a user's units kept in a dotfiles folder and linked in by GNU stow (a unit
 * that is a link, and a ~/.config/systemd folded whole into a link), their environment files links
 * too; Xray's REALITY server keys and short ids (JSON, YAML), a TOML config's user ids, and an Xray config kept
 * in /opt; Mattermost's config.json in /etc/mattermost-server; an NTP key file and chrony keys
 * under names their configs give; sudo-ldap.conf's BINDPW. The units, the configs and what is no
 * secret are mirrored.
 */
describe("secrets on the server root, session 33: stow's linked user units, Xray REALITY in JSON, YAML and TOML, Mattermost anywhere, NTP keys, BINDPW", function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/etc', '/opt/xray', '~/.config', '~/dotfiles'] })
    const { secret, plant, rootfs } = root
    await runOk(['useradd', '--root', rootfs.dir, '--create-home', '--uid', '1000', '--user-group', '--shell', '/bin/bash', 'bob'])
    await runOk(['useradd', '--root', rootfs.dir, '--create-home', '--uid', '1001', '--user-group', '--shell', '/bin/bash', 'carol'])
    const bob: [number, number] = [1000, 1000]
    const carol: [number, number] = [1001, 1001]
    const link = async (path: string, target: string, owner: [number, number]) => {
      const at = join(rootfs.dir, path)
      await mkdir(dirname(at), { recursive: true })
      await symlink(target, at)
      await runOk(['chown', '-h', `${owner[0]}:${owner[1]}`, at])
    }

    // bob keeps his units and their settings in ~/dotfiles, one stow package each, and `stow`s them
    // into ~/.config: every file a link (folders bob made himself).
    const notes = secret('stowed user unit EnvironmentFile=%h/… (a link itself)', v('notes', 24))
    const token = secret('stowed user unit LoadCredential=…:%h/…', v('notes-token', 32))
    await plant('/home/bob/dotfiles/systemd/.config/systemd/user/notes.service', '[Unit]\nDescription=Notes sync\n\n[Service]\nEnvironmentFile=%h/.config/notes/notes.env\nLoadCredential=upstream:%h/.config/notes/token\nExecStart=/usr/bin/notes-sync\n\n[Install]\nWantedBy=default.target\n', 0o644, bob)
    await plant('/home/bob/dotfiles/notes/.config/notes/notes.env', `NOTES_REMOTE=https://notes.example.org\nNOTES_UPSTREAM=${notes}\n`, 0o644, bob)
    await plant('/home/bob/dotfiles/notes/.config/notes/token', `${token}\n`, 0o644, bob)
    await plant('/home/bob/dotfiles/notes/.config/notes/settings.ini', '[ui]\ntheme = dark\n', 0o644, bob)
    for (const dir of ['/home/bob/.config/systemd/user', '/home/bob/.config/notes']) await mkdir(join(rootfs.dir, dir), { recursive: true })
    await runOk(['chown', '-R', '1000:1000', join(rootfs.dir, '/home/bob/.config')])
    await link('/home/bob/.config/systemd/user/notes.service', '../../../dotfiles/systemd/.config/systemd/user/notes.service', bob)
    for (const name of ['notes.env', 'token', 'settings.ini']) await link(`/home/bob/.config/notes/${name}`, `../../dotfiles/notes/.config/notes/${name}`, bob)
    // A unit that leads out of bob's home (to carol's) is not read: what it names stays as it is.
    await plant('/home/carol/carol.service', '[Service]\nEnvironmentFile=/home/carol/public.txt\n', 0o644, carol)
    await plant('/home/carol/public.txt', 'nothing secret\n', 0o644, carol)
    await link('/home/bob/.config/systemd/user/carol.service', '/home/carol/carol.service', bob)
    // carol's ~/.config/systemd is one link (stow folds a folder no other package shares); her unit names a file in her dotfiles.
    const mail = secret('user unit in a folded ~/.config/systemd, its EnvironmentFile=', v('mail', 24))
    await plant('/home/carol/dotfiles/mail/.config/mail/mail.env', `MAIL_UPSTREAM=${mail}\n`, 0o644, carol)
    await plant('/home/carol/dotfiles/systemd/.config/systemd/user/mail.service', '[Service]\nEnvironmentFile=%h/dotfiles/mail/.config/mail/mail.env\nExecStart=/usr/bin/mail-sync\n', 0o644, carol)
    await mkdir(join(rootfs.dir, '/home/carol/.config'), { recursive: true })
    await runOk(['chown', '1001:1001', join(rootfs.dir, '/home/carol/.config')])
    await link('/home/carol/.config/systemd', '../dotfiles/systemd/.config/systemd', carol)

    // Xray with REALITY: the install script's place, its YAML and TOML forms beside the JSON one.
    const uuidY = secret('Xray YAML VLESS id', uuid('yaml'))
    const pkY = secret('Xray YAML REALITY privateKey', b64url('yaml-pk', 43))
    const sidY = secret('Xray YAML REALITY shortId', hex('yaml-sid', 16))
    await plant('/usr/local/etc/xray/config.yaml', `log:\n  loglevel: warning\ninbounds:\n  - port: 443\n    protocol: vless\n    settings:\n      clients:\n        - id: ${uuidY}\n          flow: xtls-rprx-vision\n      decryption: none\n    streamSettings:\n      network: tcp\n      security: reality\n      realitySettings:\n        dest: www.example.com:443\n        serverNames:\n          - www.example.com\n        privateKey: ${pkY}\n        shortIds:\n          - ""\n          - ${sidY}\noutbounds:\n  - protocol: freedom\n`, 0o644)
    // The TOML one serves VLESS over TLS: its users' ids are all its secrets.
    const uuidT = secret('Xray TOML VLESS id', uuid('toml'))
    const uuidT2 = secret('Xray TOML VLESS id, any string', `carol-${v('toml-name', 12)}`)
    await plant('/usr/local/etc/xray/config.toml', `[[inbounds]]\nport = 8443\nprotocol = "vless"\n\n[inbounds.settings]\ndecryption = "none"\n\n[[inbounds.settings.clients]]\nid = "${uuidT}"\nemail = "bob@example.org"\n\n[[inbounds.settings.clients]]\nid = '${uuidT2}'\n\n[inbounds.streamSettings]\nsecurity = "tls"\n\n[[inbounds.streamSettings.tlsSettings.certificates]]\ncertificateFile = "/etc/ssl/xray/fullchain.pem"\nkeyFile = "/etc/ssl/xray/privkey.pem"\n`, 0o644)
    // A JSON config whose clients all left: only the REALITY keys are secret.
    const sidJ = secret('Xray JSON REALITY shortIds', hex('json-sid', 16))
    await plant('/usr/local/etc/xray/reality.json', JSON.stringify({ inbounds: [{ port: 443, protocol: 'vless', settings: { clients: [], decryption: 'none' }, streamSettings: { security: 'reality', realitySettings: { dest: 'www.example.com:443', serverNames: ['www.example.com'], shortIds: ['', sidJ] } } }] }, null, 2) + '\n', 0o644)
    // Xray kept in /opt (a container's volume), known by its inbounds and protocol.
    const uuidO = secret('Xray config in /opt, VLESS id', uuid('opt'))
    await plant('/opt/xray/config.json', JSON.stringify({ inbounds: [{ port: 443, protocol: 'vless', settings: { clients: [{ id: uuidO }], decryption: 'none' } }], outbounds: [{ protocol: 'freedom' }] }, null, 2) + '\n', 0o644)

    // Mattermost from the Debian-style package: /etc/mattermost-server; its database over the socket.
    const mmKey = secret('Mattermost AtRestEncryptKey (/etc/mattermost-server)', salt('mm-key'))
    const mmLink = secret('Mattermost PublicLinkSalt (/etc/mattermost-server)', salt('mm-link'))
    const mattermost = {
      ServiceSettings: { SiteURL: 'https://chat.example.org', ListenAddress: ':8065' },
      TeamSettings: { SiteName: 'Chat' },
      SqlSettings: { DriverName: 'postgres', DataSource: 'postgres://mmuser@/mattermost?host=/run/postgresql', DataSourceReplicas: [], AtRestEncryptKey: mmKey },
      FileSettings: { DriverName: 'local', PublicLinkSalt: mmLink },
    }
    await plant('/etc/mattermost-server/config.json', JSON.stringify(mattermost, null, 4) + '\n', 0o640, [0, 0])

    // ntpd's keys under the name ntp.conf gives them; chrony's under another name than chrony.keys.
    const ntp = secret('NTP key (ntp.keys format, M)', v('ntp', 16))
    await plant('/etc/ntp.conf', 'driftfile /var/lib/ntp/ntp.drift\nkeys /etc/ntp/keys\ntrustedkey 1\nserver 0.pool.ntp.org iburst\n', 0o644)
    await plant('/etc/ntp/keys', `# ntp keys\n1 M ${ntp}\n`, 0o644)
    const chrony = secret('chrony key (HEX)', hex('chrony', 64))
    await plant('/etc/chrony/conf.d/auth.conf', 'keyfile /etc/chrony/my.keys\n', 0o644)
    await plant('/etc/chrony/my.keys', `10 SHA256 HEX:${chrony}\n`, 0o644)
    // sudo's LDAP bind password, as sudoers.ldap(5) writes it.
    const bindpw = secret('sudo-ldap.conf BINDPW', v('bindpw', 16))
    await plant('/etc/sudo-ldap.conf', `URI ldap://ldap.example.org\nBINDDN cn=sudo,dc=example,dc=org\nBINDPW ${bindpw}\nSUDOERS_BASE ou=SUDOers,dc=example,dc=org\n`, 0o644)

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { planted } = root
    assert.equal(planted.length, 15)
    const entryOf = await root.assertHeldOut(HELD)
    // The units, the links and what is no secret beside them are mirrored.
    for (const path of ['/home/bob/dotfiles/systemd/.config/systemd/user/notes.service', '/home/bob/dotfiles/notes/.config/notes/settings.ini', '/etc/ntp.conf', '/etc/chrony/conf.d/auth.conf']) {
      assert.equal(entryOf(path)?.content, 'mirrored', path)
    }
    assert.equal(entryOf('/home/bob/.config/systemd/user/notes.service')?.type, 'symlink')
    assert.equal(entryOf('/home/bob/.config/notes/notes.env')?.type, 'symlink')
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })
})
