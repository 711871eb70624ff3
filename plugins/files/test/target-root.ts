// A small target root file system for unit tests: a few files a person can read, built in a
// temp directory, with its own /etc/passwd and /etc/group whose ids differ from the host's.
import { createHash } from 'node:crypto'
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export const PEM_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  '-----END OPENSSH PRIVATE KEY-----',
  '',
].join('\n')

export class TargetRoot {
  readonly dir = mkdtempSync(join(tmpdir(), 'twinsync-files-'))

  path(target: string): string {
    return join(this.dir, target)
  }

  file(target: string, content: string | Uint8Array, options: { mode?: number; uid?: number; gid?: number } = {}): this {
    mkdirSync(dirname(this.path(target)), { recursive: true })
    writeFileSync(this.path(target), content)
    if (options.uid !== undefined || options.gid !== undefined) lchownSync(this.path(target), options.uid ?? 0, options.gid ?? 0)
    chmodSync(this.path(target), options.mode ?? 0o644)
    return this
  }

  dirAt(target: string, mode = 0o755): this {
    mkdirSync(this.path(target), { recursive: true })
    chmodSync(this.path(target), mode)
    return this
  }

  link(target: string, linkTarget: string): this {
    mkdirSync(dirname(this.path(target)), { recursive: true })
    symlinkSync(linkTarget, this.path(target))
    return this
  }

  /** Move every timestamp into the past, so the stat cache trusts the files (git's racy-clean rule). */
  age(targets: readonly string[]): this {
    const past = new Date(Date.now() - 3600_000)
    for (const t of targets) utimesSync(this.path(t), past, past)
    return this
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
  'ghost:x:1001:1001:No home:/home/ghost:/bin/bash',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  '',
].join('\n')

export const GROUP = ['root:x:0:', 'shadow:x:42:', 'alice:x:1000:', 'webops:x:1234:alice', ''].join('\n')

/** A small Debian-like /etc with the cases the provider must tell apart. */
export function debianLikeRoot(): TargetRoot {
  const hosts = '127.0.0.1 localhost\n'
  const adduser = 'DSHELL=/bin/bash\n'
  const motd = 'Welcome, local edition\n'
  return new TargetRoot()
    .file('/etc/passwd', PASSWD)
    .file('/etc/group', GROUP)
    .file('/etc/shadow', 'root:$y$j9T$secrethash:19000:0:99999:7:::\n', { mode: 0o640, gid: 42 })
    .file('/etc/gshadow-', 'root:*::\n', { mode: 0o640, gid: 42 })
    .file('/etc/hosts', hosts)
    .file('/etc/adduser.conf', adduser)
    .file('/etc/motd', motd)
    .file('/etc/sudoers', 'root ALL=(ALL:ALL) ALL\n', { mode: 0o440 })
    .file('/etc/ssh/ssh_host_ed25519_key', 'not even read\n', { mode: 0o600 })
    .file('/etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAA host\n')
    .file('/etc/ssl/private/site.key', PEM_KEY, { mode: 0o600 })
    .file('/etc/app/app.conf', `[server]\nport = 8080\ntls_key = """\n${PEM_KEY}"""\n`)
    .file('/etc/app/tokens.env', 'GITHUB_TOKEN=ghp_' + 'a'.repeat(36) + '\n')
    .file('/etc/app/aws.env', 'AWS_ACCESS_KEY_ID=AKIA' + 'ABCDEFGHIJKLMNOP' + '\n')
    .file('/etc/app/slack.env', 'SLACK=xoxb-1234567890-abcdefghij\n')
    .file('/etc/app/logo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]))
    .file('/etc/app/owned', 'by alice and webops\n', { uid: 1000, gid: 1234, mode: 0o640 })
    .file('/etc/hosts.swp', 'editor noise')
    .file('/etc/ld.so.cache', 'generated')
    .file('/etc/motd.dpkg-dist', 'the new default\n')
    .file('/etc/xdg/autostart/app.desktop', '[Desktop Entry]\n')
    .file('/etc/node_modules/x/index.js', 'noise\n')
    .dirAt('/etc/empty.d', 0o750)
    .dirAt('/tmp', 0o1777)
    .link('/etc/localtime', '/usr/share/zoneinfo/Etc/UTC')
    .file('/usr/local/bin/tool', '#!/bin/sh\necho tool\n', { mode: 0o4755 })
    .file('/home/alice/.bashrc', 'alias ll="ls -l"\n', { uid: 1000, gid: 1000 })
    .file('/home/alice/.config/app/settings.ini', 'theme=dark\n', { uid: 1000, gid: 1000 })
    .file('/home/alice/.cache/big', 'cache noise\n', { uid: 1000, gid: 1000 })
    .file('/root/.profile', 'PATH=$PATH\n', { mode: 0o600 })
    .file(
      '/var/lib/dpkg/status',
      [
        'Package: adduser',
        'Status: install ok installed',
        'Version: 3.134',
        'Conffiles:',
        ` /etc/adduser.conf ${md5(adduser)}`,
        'Description: add users',
        '',
        'Package: base-files',
        'Status: install ok installed',
        'Conffiles:',
        ` /etc/motd ${md5('the package motd\n')}`,
        ` /etc/host.conf ${md5('multi on\n')} obsolete`,
        'Description: base',
        '',
      ].join('\n'),
    )
    .file('/var/lib/dpkg/info/netbase.md5sums', `${md5(hosts)}  etc/hosts\n${md5('x')}  usr/share/doc/netbase/copyright\n`)
    .file('/var/lib/dpkg/info/adduser.conffiles', '/etc/adduser.conf\n')
    .file('/var/lib/dpkg/diversions', '')
}
