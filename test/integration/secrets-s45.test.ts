import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s45-${seed}`, n)

/**
 * Session 45 on the server root, through the CLI: secrets in the places a machine keeps them that
 * no provider writes as a file's text alone: cron's environment lines (the cron provider's
 * cron.json writes each as `{"name": …, "value": …}`: `PGPASSWORD=` of a cron.d file and a user's
 * `API_TOKEN=` reached the twin before this session's rule), a cron job's `-p…`, `curl -u`,
 * `--password=`, a token in an @reboot URL, a unit's `Environment=` and drop-in, an
 * `EnvironmentFile=`, a user unit, Wi-Fi keys (NetworkManager, wpa_supplicant, netplan,
 * interfaces), apt's auth.conf.d and a sources line with user:password, ~/.config's rclone, gh,
 * git credentials, pip, docker's auths, /etc/environment, a proxy in profile.d, an autostart
 * entry's `--token`, sudoers, postfix's sasl_passwd.
 */
describe('secrets on the server root, session 45: cron environment lines, units, network, apt, ~/.config', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/opt', '/srv', '/home', '/root', '/usr/local', '/var/spool/cron'] })
    const { secret: s, plant } = root
    await appendFile(join(root.rootfs.dir, 'etc/passwd'), 'ops:x:1001:1001:Ops:/home/ops:/bin/bash\n')
    await appendFile(join(root.rootfs.dir, 'etc/group'), 'ops:x:1001:\n')
    const O: [number, number] = [1001, 1001]
    // cron
    await plant('/etc/cron.d/backup', `SHELL=/bin/sh\nPGPASSWORD=${s('cron PGPASSWORD env line', v('pgpw'))}\n15 2 * * * root mysqldump -uroot -p${s('cron mysqldump -p', v('mysqlp'))} app > /tmp/app.sql\n@reboot root curl -fsS https://hooks.example.net/start?token=${s('cron reboot token url', v('tok1', 32))}\n0 * * * * root curl -u deploy:${s('cron curl -u', v('curlu'))} https://ci.example.net/ping\n30 * * * * root PGPASSWORD=${s('cron inline PGPASSWORD', v('pgpw2'))} psql -h db -U app -c 'select 1'\n45 * * * * root /usr/local/bin/sync --password=${s('cron --password=', v('pwflag'))}\n`)
    await plant('/var/spool/cron/crontabs/ops', `API_TOKEN=${s('user crontab env token', v('apitok', 32))}\n*/5 * * * * curl -H "Authorization: Bearer ${s('user crontab bearer', v('bearer', 40))}" https://api.example.net/x\n`, 0o600, [1001, 105])
    // systemd
    await plant('/etc/systemd/system/app.service', `[Unit]\nDescription=app\n\n[Service]\nEnvironment=DB_PASSWORD=${s('unit Environment DB_PASSWORD', v('unitdb'))}\nEnvironment="AWS_SECRET_ACCESS_KEY=${s('unit AWS secret', v('aws', 40))}" "FOO=bar"\nEnvironmentFile=/etc/app/env\nExecStart=/usr/bin/app --db-url postgres://app:${s('unit ExecStart url', v('execurl'))}@db/app\n\n[Install]\nWantedBy=multi-user.target\n`)
    await plant('/etc/app/env', `TOKEN=${s('EnvironmentFile TOKEN', v('envtok', 32))}\n`, 0o644)
    await plant('/etc/systemd/system/nginx.service.d/override.conf', `[Service]\nEnvironment=HTTP_PROXY=http://proxy:${s('dropin proxy pass', v('proxypw'))}@proxy.example.net:3128\nExecStartPre=/usr/bin/mysql -p${s('dropin -p', v('dropinp'))} -e 'select 1'\n`)
    await plant('/home/ops/.config/systemd/user/sync.service', `[Service]\nEnvironment=RCLONE_CONFIG_PASS=${s('user unit rclone pass', v('rcpass'))}\nExecStart=/usr/bin/rclone sync a: b:\n`, 0o644, O)
    // network
    await plant('/etc/NetworkManager/system-connections/Home.nmconnection', `[connection]\nid=Home\ntype=wifi\n\n[wifi]\nssid=Home\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=${s('NM psk', v('nmpsk', 16))}\n`, 0o600)
    await plant('/etc/wpa_supplicant/wpa_supplicant.conf', `network={\n  ssid="Office"\n  psk="${s('wpa psk', v('wpapsk', 16))}"\n}\n`, 0o600)
    await plant('/etc/netplan/50-wifi.yaml', `network:\n  version: 2\n  wifis:\n    wlan0:\n      access-points:\n        "Cafe":\n          password: "${s('netplan password', v('netplan', 16))}"\n`, 0o600)
    await plant('/etc/network/interfaces.d/wlan0', `iface wlan0 inet dhcp\n  wpa-ssid Lab\n  wpa-psk ${s('interfaces wpa-psk', v('ifpsk', 16))}\n`)
    // apt
    await plant('/etc/apt/auth.conf.d/private.conf', `machine apt.example.net\nlogin deploy\npassword ${s('apt auth.conf', v('aptauth'))}\n`, 0o600)
    await plant('/etc/apt/sources.list.d/private.list', `deb https://deploy:${s('apt sources url pass', v('aptsrc'))}@apt.example.net/debian bookworm main\n`)
    await plant('/etc/apt/sources.list.d/priv2.sources', `Types: deb\nURIs: https://ci:${s('apt deb822 url pass', v('aptsrc2'))}@repo.example.net/debian\nSuites: bookworm\nComponents: main\n`)
    // ~/.config
    await plant('/home/ops/.config/rclone/rclone.conf', `[s3]\ntype = s3\naccess_key_id = AKIA${v('akid', 16).toUpperCase()}\nsecret_access_key = ${s('rclone secret', v('rcsec', 40))}\n`, 0o600, O)
    await plant('/home/ops/.config/gh/hosts.yml', `github.com:\n    oauth_token: gho_${s('gh oauth token', v('gho', 36))}\n    user: ops\n`, 0o600, O)
    await plant('/home/ops/.docker/config.json', `{"auths":{"registry.example.net":{"auth":"${s('docker auth', Buffer.from(`ops:${v('dock')}`).toString('base64'))}"}}}\n`, 0o600, O)
    await plant('/home/ops/.config/git/credentials', `https://ops:${s('git-credentials .config', v('gitcred'))}@git.example.net\n`, 0o600, O)
    await plant('/home/ops/.config/pip/pip.conf', `[global]\nindex-url = https://ops:${s('pip index-url', v('pipidx'))}@pypi.example.net/simple\n`, 0o644, O)
    await plant('/etc/pip.conf', `[global]\nextra-index-url = https://ci:${s('etc pip extra-index-url', v('pipidx2'))}@pypi2.example.net/simple\n`, 0o644)
    // misc
    await plant('/root/.my.cnf', `[client]\nuser=root\npassword=${s('my.cnf', v('mycnf'))}\n`, 0o600)
    await plant('/etc/postfix/sasl_passwd', `[smtp.example.net]:587 relay:${s('postfix sasl', v('sasl'))}\n`, 0o600)
    await plant('/etc/sudoers.d/deploy', `deploy ALL=(ALL) NOPASSWD: /usr/bin/curl -u deploy\\:${s('sudoers curl -u', v('sudo'))} https\\://x\n`, 0o440)
    await plant('/etc/xdg/autostart/agent.desktop', `[Desktop Entry]\nType=Application\nName=Agent\nExec=/usr/bin/agent --token ${s('autostart --token', v('xdgtok', 32))}\n`)
    await plant('/etc/nginx/conf.d/up.conf', `location / { proxy_set_header Authorization "Basic ${s('nginx basic header', Buffer.from(`u:${v('ngxb')}`).toString('base64'))}"; }\n`)
    await plant('/etc/profile.d/proxy.sh', `export https_proxy=http://u:${s('profile proxy', v('prof'))}@proxy:3128\n`)
    await plant('/etc/environment', `GITHUB_TOKEN=ghp_${s('etc environment gh token', v('ghp', 36))}\n`)
    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    await root.assertNoneLeaked()
  })
})
