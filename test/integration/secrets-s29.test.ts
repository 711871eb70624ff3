import { strict as assert } from 'node:assert'
import { readFile, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { PlantedRoot } from '../support/planted-root.js'

const v = (seed: string, n = 20): string => fakeChars(`s29-${seed}`, n)

/**
 * Session 29's red team on the services root: secrets where administrators put them that the
 * sessions before did not plant. Leaks found (each failed this test before its fix): a file a
 * unit's LoadCredential= names (systemd passes it to the service as a credential, whatever its
 * name and content), fish's `set -gx NAME value` (~/.config/fish is in the default include set),
 * composer's auth.json token maps keyed by host (~/.config/composer, composer's home), a
 * Kubernetes Secret's data and stringData under keys that say nothing (k3s's auto-deployed
 * manifests), and passwords handed to tools by flags no name says is one (`ssh-keygen -N`,
 * `sqlcmd -P`), a known tool's password flag after another of its flags (`redis-cli -p 6379 -a
 * …`), or piped into `gh auth login --with-token`; Elastic Beats' `cloud.auth: "elastic:…"`,
 * sendmail's authinfo, postfix's `inline:{…}` password map and WordPress's salts. The rest is planted as a check that
 * it stays held: a gzip'd and a UTF-16 file (binary: recorded, never copied), a secret in a
 * symlink's target and in a file name, an EnvironmentFile's URL, npm's global npmrc, pip's
 * index URL, an Azure connection string, a GCP service account's key in JSON.
 */
describe('secrets on the server root, session 29: credentials systemd loads, shells\' and tools\' configs under ~/.config, Kubernetes Secrets', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ include: ['/etc', '/usr/local/bin', '/usr/local/etc', '~/.config'] })
    const { secret, plant, rootfs } = root

    // systemd: a credential loaded from a file of the administrator's naming, root-only and world-readable,
    // in a unit and in a drop-in, and a folder of credentials.
    const cred = secret('unit LoadCredential= file (0600)', `correct-horse-${v('cred', 8).toLowerCase()}`)
    await plant('/etc/myapp/runtime/db.conf', `${cred}\n`, 0o600)
    const credDropIn = secret('drop-in LoadCredential= file (0644)', `battery staple ${v('dropin', 8).toLowerCase()}`)
    await plant('/etc/myapp/smtp.txt', `${credDropIn}\n`, 0o644)
    const credDir = secret('LoadCredential= folder, a file in it', `{"user":"ops","pw":"${v('creddir', 12)}"}`)
    await plant('/etc/myapp/creds/s3.json', `${credDir}\n`, 0o600)
    await plant(
      '/etc/systemd/system/myapp.service',
      '[Unit]\nDescription=My app\n\n[Service]\nLoadCredential=db:/etc/myapp/runtime/db.conf\nLoadCredential=s3:/etc/myapp/creds/\nExecStart=/usr/local/bin/myapp --db-password-file=${CREDENTIALS_DIRECTORY}/db\n\n[Install]\nWantedBy=multi-user.target\n',
    )
    await plant('/etc/systemd/system/myapp.service.d/smtp.conf', '[Service]\nLoadCredential=smtp:/etc/myapp/smtp.txt\n')
    await runOk(['systemctl', `--root=${rootfs.dir}`, 'enable', 'myapp.service'])
    const envUrl = secret('EnvironmentFile= DATABASE_URL user:password@', v('envurl', 16))
    await plant('/etc/myapp/env', `DATABASE_URL=postgres://app:${envUrl}@127.0.0.1/app\nLOG_LEVEL=info\n`, 0o640)

    // fish (its config is under ~/.config): exported variables set without `=`.
    const fishPw = secret('fish set -gx DB_PASSWORD', v('fishpw'))
    const fishTok = secret('fish set -Ux GITLAB_TOKEN', v('fishtok', 26))
    await plant('/root/.config/fish/config.fish', `if status is-interactive\n    set -gx EDITOR vim\nend\nset -gx DB_PASSWORD ${fishPw}\nset -Ux GITLAB_TOKEN '${fishTok}'\n`, 0o644)

    // composer's home on Linux is ~/.config/composer: tokens keyed by the host they are for.
    const glToken = secret('composer auth.json gitlab-token', v('composer-gl', 20))
    const bearer = secret('composer auth.json bearer', v('composer-bearer', 32))
    const ghOauth = secret('composer auth.json github-oauth', v('composer-gh', 40))
    await plant(
      '/root/.config/composer/auth.json',
      JSON.stringify({ 'gitlab-token': { 'gitlab.example.org': glToken }, bearer: { 'repo.example.org': bearer }, 'github-oauth': { 'github.com': ghOauth } }, null, 4) + '\n',
      0o644,
    )

    // k3s deploys every manifest in this folder: a Secret's values are secret whatever their keys.
    const k8sData = secret('Kubernetes Secret data (base64)', Buffer.from(`postgres://app:${v('k8sdata', 12)}@db/app`).toString('base64'))
    const k8sString = secret('Kubernetes Secret stringData', v('k8sstring', 24))
    await plant(
      '/etc/rancher/k3s/server/manifests/app-secret.yaml',
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: default\ntype: Opaque\ndata:\n  connection: ${k8sData}\nstringData:\n  signing: "${k8sString}"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: production\n`,
      0o600,
    )

    // Passwords handed to tools on a script's command lines.
    const keygen = secret('ssh-keygen -N passphrase', v('keygen', 16))
    const sqlcmd = secret('sqlcmd -P', v('sqlcmd', 16))
    const ghPipe = secret('echo … | gh auth login --with-token', v('ghpipe', 30))
    const redis = secret('redis-cli -p PORT -a (the password flag after the port\'s)', v('redis', 24))
    await plant(
      '/usr/local/bin/provision',
      `#!/bin/sh\nset -e\nssh-keygen -q -t ed25519 -N '${keygen}' -f /root/.ssh/deploy\n/opt/mssql-tools18/bin/sqlcmd -S localhost -U sa -P ${sqlcmd} -Q "CREATE DATABASE app"\necho ${ghPipe} | gh auth login --with-token\n`,
      0o755,
    )

    await plant('/etc/cron.d/redis-save', `0 4 * * * root redis-cli -h 127.0.0.1 -p 6379 -a ${redis} BGSAVE >/dev/null\n`, 0o644)

    // Round 2: Beats' Elastic Cloud login, sendmail's authinfo, a postfix inline password map, WordPress's salts.
    const beats = secret('filebeat.yml cloud.auth', v('beats', 16))
    await plant('/etc/filebeat/filebeat.yml', `filebeat.inputs:\n  - type: filestream\n    paths: [/var/log/*.log]\ncloud.id: "shop:ZXUtY2VudHJhbC0x"\ncloud.auth: "elastic:${beats}"\n`, 0o600)
    const authinfo = secret('sendmail authinfo "P:…"', v('authinfo', 16))
    await plant('/etc/mail/authinfo', `AuthInfo:smtp.example.org "U:relay@example.org" "P:${authinfo}" "M:PLAIN"\n`, 0o600)
    const inline = secret('postfix main.cf inline:{} password map', v('inline', 16))
    const mainCf = join(rootfs.dir, 'etc/postfix/main.cf')
    await plant('/etc/postfix/main.cf', `${await readFile(mainCf, 'utf8')}smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = inline:{ [smtp.example.org]:587=relay@example.org:${inline} }\n`, 0o644)
    const salt = secret('WordPress NONCE_SALT', v('wpsalt', 64))
    await plant('/etc/wordpress/config-shop.example.org.php', `<?php\ndefine('DB_NAME', 'shop');\ndefine('DB_USER', 'shop');\ndefine('NONCE_SALT', '${salt}');\n`, 0o640, [0, 33])

    // Held already (checked here, not fixed): binary encodings, names, links, URLs, known shapes.
    const gz = secret('gzip\'d password file', v('gzip'))
    await plant('/etc/myapp/old.conf.gz', gzipSync(Buffer.from(`[db]\nuser = app\npassword = ${gz}\n`)), 0o644)
    const utf16 = secret('UTF-16 password file', v('utf16'))
    await plant('/etc/myapp/legacy.ini', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`[db]\r\npassword=${utf16}\r\n`, 'utf16le')]), 0o644)
    secret('UTF-16 password file (as latin1)', Buffer.from(utf16, 'utf16le').toString('latin1'))
    const linkTok = secret('symlink target holding a token', `ghp_${v('link', 36)}`)
    await symlink(`/opt/releases/${linkTok}`, join(rootfs.dir, 'etc/myapp/current'))
    const nameTok = secret('file name holding a token', `glpat-${v('name', 20)}`)
    await plant(`/etc/myapp/${nameTok}.txt`, 'see the name\n', 0o644)
    const npmrc = secret('global npmrc _authToken', v('npmrc', 36))
    await plant('/etc/npmrc', `registry=https://npm.example.org/\n//npm.example.org/:_authToken=${npmrc}\nalways-auth=true\n`, 0o644)
    const pip = secret('pip.conf index-url user:password@', v('pip', 16))
    await plant('/etc/pip.conf', `[global]\nindex-url = https://ci:${pip}@pypi.example.org/simple\n`, 0o644)
    const azure = secret('Azure storage connection string', Buffer.from(v('azure', 48)).toString('base64'))
    await plant('/usr/local/etc/shop/appsettings.json', JSON.stringify({ ConnectionStrings: { Blobs: `DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=${azure};EndpointSuffix=core.windows.net` } }, null, 2) + '\n', 0o644)
    const gcpBody = fakeChars('s29-gcp', 64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
    secret('GCP service account private_key (JSON-escaped PEM)', gcpBody)
    await plant(
      '/usr/local/etc/shop/gcp.json',
      JSON.stringify({ type: 'service_account', project_id: 'shop', private_key: `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n${gcpBody}\n-----END PRIVATE KEY-----\n`, client_email: 'shop@shop.iam.gserviceaccount.com' }, null, 2) + '\n',
      0o644,
    )

    await root.snapshotInit()
  })
  after(async () => {
    await root?.cleanup()
  })

  it('keeps every planted value out of every object, ref and the config of the twin, and out of the output', async () => {
    const { cli, planted } = root
    assert.equal(planted.length, 28)
    // Each planted file was looked at: the files with a finding are recorded as secrets (kept out whole), the rest mirrored.
    const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as { entries: Array<{ path: string }> }
    const entryOf = (path: string) => JSON.stringify(manifest.entries.find((e) => e.path === path) ?? null, null, 1)
    for (const path of ['/etc/filebeat/filebeat.yml', '/etc/mail/authinfo', '/etc/postfix/main.cf', '/etc/wordpress/config-shop.example.org.php', '/root/.config/fish/config.fish', '/root/.config/composer/auth.json', '/etc/rancher/k3s/server/manifests/app-secret.yaml', '/usr/local/bin/provision', '/etc/myapp/smtp.txt', '/etc/myapp/runtime/db.conf', '/etc/myapp/creds/s3.json']) {
      assert.match(entryOf(path), /"secret": true/, path)
    }
    for (const path of ['/etc/myapp/old.conf.gz', '/etc/myapp/legacy.ini']) assert.match(entryOf(path), /"content": "binary"/, path)
    const tree = (await runOk(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', '--', 'filesystem/etc/myapp', 'filesystem/etc/systemd/system'])).stdout
    assert.match(tree, /filesystem\/etc\/systemd\/system\/myapp\.service\n/)
    assert.match(tree, /filesystem\/etc\/systemd\/system\/myapp\.service\.d\/smtp\.conf\n/)
    assert.doesNotMatch(tree, /runtime\/db\.conf|smtp\.txt|creds\/s3\.json|old\.conf\.gz|legacy\.ini/)
    await root.assertNoneLeaked()
  })

  it('finds in every planted file what it finds with every rule run on every whole text', async () => {
    const findings = await assertPrefiltersFindTheSame(root.plantedTexts)
    assert.ok(findings > 0)
  })

  it('holds a file a unit\'s LoadCredential= names out by its path (world-readable, of no shape the detector knows)', async () => {
    const { cli } = root
    const manifest = (await runOk(['git', '-C', cli.twinDir, 'grep', '-h', '-A12', '"path": "/etc/myapp/smtp.txt"', 'HEAD', '--', 'system/files/'])).stdout
    assert.match(manifest, /"secret": true/)
    assert.match(manifest, /"secretReason": "path rule"/)
  })
})
