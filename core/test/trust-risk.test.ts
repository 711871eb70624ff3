import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, type Change } from '@twinsync/sdk'
import { readAdminUsers, type AdminUser } from '../src/plan/admin-users.js'
import { markTrustChanges, readTrustContext, trustReason } from '../src/plan/trust-risk.js'

const change = (path: string, data: Record<string, unknown>, risk: Change['risk'] = 'low'): Change => ({
  id: `files:x:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: path, risk, data: { path, ...data },
})
const write = (path: string, text: string, mode = 0o644) => change(path, { action: 'write', text, mode, uid: 0, gid: 0, sha256: '' })

// Session 19: what hands out root or changes whom the machine trusts is high risk, with the reason.
describe('trust risk: one rule for changes that are root or trust', () => {
  it('names apt hooks in any form, and leaves ordinary apt settings alone', () => {
    assert.match(trustReason(write('/etc/apt/apt.conf.d/99x', 'DPkg { Post-Invoke { "sh /x"; }; };\n')) ?? '', /apt hook/)
    assert.match(trustReason(write('/etc/apt/apt.conf', 'Dir::Bin::dpkg "/usr/local/bin/dpkg";\n')) ?? '', /apt hook/)
    assert.match(trustReason(write('/etc/apt/apt.conf.d/50x', 'APT::Get::AllowUnauthenticated "true";\n')) ?? '', /unsigned/)
    assert.equal(trustReason(write('/etc/apt/apt.conf.d/10proxy', 'Acquire::http::Proxy "http://p:3128";\n')), undefined)
    assert.match(trustReason(change('/etc/apt/apt.conf.d/99x', { action: 'symlink', target: '/srv/x' })) ?? '', /a link/)
  })

  it('names a setuid write and a mode change the provider rated high, not one that keeps or drops the bit', () => {
    assert.match(trustReason(write('/usr/local/bin/x', '#!/bin/sh\n', 0o4755)) ?? '', /^setuid/)
    assert.match(trustReason(write('/usr/local/bin/x', '#!/bin/sh\n', 0o2755)) ?? '', /^setgid/)
    assert.match(trustReason(change('/usr/local/bin/x', { action: 'chmod', mode: 0o4755 }, 'high')) ?? '', /^setuid/)
    assert.equal(trustReason({ ...change('/usr/local/bin/x', { action: 'chmod', mode: 0o4750 }, 'medium'), before: 'file 4755 root:root 9 bytes' }), undefined)
    assert.match(trustReason(change('/usr/local/bin/x', { action: 'attributes', mode: 0o755, uid: 0, gid: 0, capabilities: 'cap_setuid=ep' }, 'high')) ?? '', /capabilities/)
  })

  it('a keyring an apt source in the same plan names with signed-by is a signing key wherever it lies', () => {
    const changes = [write('/etc/apt/sources.list.d/v.list', 'deb [arch=amd64 signed-by=/opt/v/key.gpg] https://v.example/ stable main\n'), write('/opt/v/key.gpg', 'key'), write('/opt/v/other', 'x')]
    markTrustChanges(changes)
    assert.deepEqual(changes.map((c) => [c.resource, c.risk, c.riskReason]), [
      ['/etc/apt/sources.list.d/v.list', 'low', undefined],
      ['/opt/v/key.gpg', 'high', 'an apt signing key: packages it signs install as root'],
      ['/opt/v/other', 'low', undefined],
    ])
  })

  it('takes no reason for a delete (already high) or a path outside the rule', () => {
    assert.equal(trustReason(change('/etc/sudoers.d/x', { action: 'delete' }, 'high')), undefined)
    assert.equal(trustReason(write('/etc/motd', 'hi\n')), undefined)
    assert.match(trustReason(write('/home/ann/.ssh/authorized_keys', 'ssh-ed25519 AAAA x\n')) ?? '', /SSH authorized keys/)
    assert.match(trustReason(write('/etc/sudoers.d/ops', '%ops ALL=(ALL) ALL\n')) ?? '', /^sudo rules/)
  })

  // Session 20: the other ways to root: units, cron, login shells, boot, udev, modprobe, the kernel…
  it('names a unit, its enabling link and drop-in, a user unit; the systemd provider\'s enable of a unit (or template) the plan writes, and the debug shell', () => {
    assert.match(trustReason(change('/etc/systemd/system/multi-user.target.wants/x.service', { action: 'symlink', target: '/etc/systemd/system/x.service' })) ?? '', /systemd unit/)
    assert.match(trustReason(write('/usr/lib/systemd/user/x.service', '[Service]\nExecStart=/x\n')) ?? '', /user unit/)
    assert.equal(trustReason(write('/etc/systemd/system.conf', '[Manager]\nDefaultTimeoutStopSec=10s\n')), undefined)
    // Session 26: the manager's other unit folders (set-property's system.control is read first; a
    // pulled drop-in there was a low-risk create whose ExecStartPre= ran as root at the next reload).
    for (const path of ['/etc/systemd/system.control/cron.service.d/50-x.conf', '/etc/systemd/system.attached/cron.service.d/x.conf', '/etc/systemd/system.control/evil.service', '/run/systemd/transient/x.service']) {
      assert.match(trustReason(write(path, '[Service]\nExecStartPre=/bin/sh -c id\n')) ?? '', /systemd unit, drop-in/, path)
    }
    assert.match(trustReason(change('/etc/systemd/system.control', { action: 'symlink', target: '/home/ann/units' })) ?? '', /^a link in place of the folder \/etc\/systemd\/system.control: a systemd unit/)
    assert.equal(trustReason(write('/etc/systemd/journald.conf.d/x.conf', '[Journal]\nStorage=volatile\n')), undefined)
    // Session 26 (red team): what root's daemons and tools load by their own configuration; each was a low or medium change.
    assert.match(trustReason(write('/etc/ssl/openssl.cnf', 'openssl_conf = init\n[init]\nproviders = p\n[p]\nx = x_sect\n[x_sect]\nmodule = /home/ann/x.so\nactivate = 1\n')) ?? '', /^OpenSSL's configuration/)
    assert.match(trustReason(write('/etc/ssl/openssl.cnf', '.include /home/ann/more.cnf\n')) ?? '', /^OpenSSL's configuration/)
    assert.equal(trustReason(write('/etc/ssl/openssl.cnf', '[req]\ndefault_bits = 4096\n')), undefined)
    assert.match(trustReason(write('/etc/rsyslog.d/x.conf', 'module(load="omprog")\naction(type="omprog" binary="/tmp/x")\n')) ?? '', /rsyslogd runs it as root/)
    assert.match(trustReason(write('/etc/rsyslog.d/y.conf', 'module(load="/tmp/evil.so")\n')) ?? '', /rsyslogd runs it as root/)
    assert.equal(trustReason(write('/etc/rsyslog.d/z.conf', 'mail.* -/var/log/mail.log\n')), undefined)
    assert.match(trustReason(write('/etc/needrestart/conf.d/x.conf', '$nrconf{restart} = "a";\n')) ?? '', /^needrestart's configuration/)
    assert.match(trustReason(write('/etc/systemd/system.conf.d/x.conf', '[Manager]\nDefaultEnvironment=LD_PRELOAD=/x.so\n')) ?? '', /environment/)
    const unit = (operation: string, name: string): Change => ({ id: `systemd:${operation}:${name}`, provider: 'systemd', category: 'services', operation, resource: name, summary: name, risk: 'medium', data: { unit: name } })
    const changes = [write('/etc/systemd/system/getty@.service.d/autologin.conf', '[Service]\nExecStart=\n'), unit('enable', 'getty@tty1.service'), unit('enable', 'cron.service'), unit('disable', 'debug-shell.service'), unit('start', 'debug-shell.service')]
    markTrustChanges(changes)
    assert.deepEqual(changes.map((c) => [c.resource, c.risk, c.riskReason]), [
      ['/etc/systemd/system/getty@.service.d/autologin.conf', 'high', 'a systemd unit, drop-in or enabling link: the commands it names run as root'],
      ['getty@tty1.service', 'high', 'a unit this plan writes (/etc/systemd/system/getty@.service.d/autologin.conf): the commands it names run as root'],
      ['cron.service', 'medium', undefined],
      ['debug-shell.service', 'medium', undefined],
      ['debug-shell.service', 'high', 'debug-shell.service: a root shell on a console with no password'],
    ])
  })

  it('names by content where a folder holds ordinary files too, and an executable anywhere under /etc', () => {
    assert.equal(trustReason(write('/etc/environment', 'http_proxy=http://p:3128\n')), undefined)
    assert.match(trustReason(write('/etc/environment', 'PATH="/tmp/evil:/usr/bin"\n')) ?? '', /environment of every login/)
    assert.match(trustReason(write('/etc/security/pam_env.conf', 'LD_PRELOAD DEFAULT=/x.so\n')) ?? '', /^PAM's settings/)
    assert.equal(trustReason(write('/etc/security/limits.d/nofile.conf', '* soft nofile 4096\n')), undefined)
    assert.equal(trustReason(write('/etc/ssh/ssh_config.d/x.conf', 'Host *\n  ServerAliveInterval 30\n')), undefined)
    assert.match(trustReason(write('/etc/ssh/ssh_config.d/x.conf', 'Host *\n  ProxyCommand sh -c id\n')) ?? '', /ssh client/)
    assert.match(trustReason(write('/etc/dpkg/dpkg.cfg.d/x', 'post-invoke=sh -c id\n')) ?? '', /dpkg hook/)
    assert.match(trustReason(write('/etc/network/if-up.d/x', '#!/bin/sh\nid\n', 0o755)) ?? '', /executable under \/etc/)
    assert.equal(trustReason(write('/etc/network/if-up.d/x', '#!/bin/sh\nid\n', 0o644)), undefined)
    assert.match(trustReason(change('/etc/udev/rules.d/99-x.rules', { action: 'symlink', target: '/srv/x.rules' })) ?? '', /\(a link: what it points at decides\)$/)
    assert.match(trustReason(write('/root/.bashrc', 'alias ls=id\n')) ?? '', /login shell/)
  })

  // Session 21: a chmod alone that makes a hook executable is new code run as root.
  it('names a mode change that makes a file executable where that makes it run, not one that keeps or drops the bit', () => {
    const chmod = (path: string, mode: number, before: string, action = 'chmod') => ({ ...change(path, action === 'chmod' ? { action, mode } : { action, mode, uid: 0, gid: 0 }), operation: action, before })
    assert.match(trustReason(chmod('/etc/cron.daily/backup', 0o755, 'file 0644 root:root 20 bytes sha256:ab')) ?? '', /^made executable: run-parts runs it as root/)
    assert.match(trustReason(chmod('/etc/rc.local', 0o700, 'file 0644 root:root 20 bytes')) ?? '', /rc\.local as root at boot/)
    assert.match(trustReason(chmod('/etc/update-motd.d/99-x', 0o755, 'file 0600 root:root 9 bytes', 'attributes')) ?? '', /message-of-the-day/)
    assert.match(trustReason(chmod('/etc/NetworkManager/dispatcher.d/pre-up.d/x', 0o755, 'file 0644 root:root 9 bytes')) ?? '', /dispatcher/)
    assert.match(trustReason(chmod('/etc/kernel/postinst.d/x', 0o744, 'file 0644 root:root 9 bytes')) ?? '', /kernel is installed/)
    assert.match(trustReason(chmod('/etc/default/x', 0o755, 'file 0644 root:root 9 bytes')) ?? '', /^made executable under \/etc/)
    assert.match(trustReason(chmod('/etc/init.d/x', 0o755, '')) ?? '', /SysV/, 'an unknown former mode counts as not executable')
    assert.equal(trustReason(chmod('/etc/cron.daily/backup', 0o750, 'file 0755 root:root 20 bytes')), undefined)
    assert.equal(trustReason(chmod('/etc/cron.daily/backup', 0o644, 'file 0755 root:root 20 bytes')), undefined)
    assert.equal(trustReason(chmod('/srv/x', 0o755, 'file 0644 root:root 20 bytes')), undefined)
  })

  // Session 30 (red team): a retarget of /etc/alternatives/awk was a medium change.
  it("names an alternatives link made or pointed elsewhere (awk, editor, pager: what root's scripts run by name), and the folder given away or made a link", () => {
    assert.match(trustReason({ ...change('/etc/alternatives/awk', { action: 'symlink', target: '/usr/local/lib/x', uid: 0, gid: 0 }, 'medium'), operation: 'symlink-retarget' }) ?? '', /^an alternatives link: /)
    assert.match(trustReason(change('/etc/alternatives/editor', { action: 'symlink', target: '/opt/ed', uid: 0, gid: 0 })) ?? '', /^an alternatives link: /)
    assert.match(trustReason(write('/etc/alternatives/pager', '#!/bin/sh\nid\n', 0o755)) ?? '', /^an alternatives link: /, 'a file in its place runs the same way')
    assert.match(trustReason(change('/etc/alternatives', { action: 'symlink', target: '/home/ann/alt', uid: 0, gid: 0 })) ?? '', /^a link in place of the folder \/etc\/alternatives/)
    assert.match(trustReason(change('/etc/alternatives', { action: 'mkdir', mode: 0o755, uid: 1000, gid: 1000 })) ?? '', /^given to another user/)
    assert.equal(trustReason(change('/etc/alternatives/awk', { action: 'delete' }, 'high')), undefined, 'a delete is high already')
  })

  it("names less's and npm's system settings (a command in LESSOPEN, npm's script-shell), not another file beside them", () => {
    assert.match(trustReason(write('/etc/syslesskey', '#env\nLESSOPEN=|sh /tmp/x %s\n')) ?? '', /^less's settings/)
    assert.match(trustReason(write('/etc/npmrc', 'script-shell=/opt/x\n')) ?? '', /^npm's settings/)
    assert.match(trustReason(write('/usr/local/etc/npmrc', 'node-options=--require /opt/x.js\n')) ?? '', /^npm's settings/)
    assert.match(trustReason(change('/etc/npmrc', { action: 'symlink', target: '/home/ann/npmrc' })) ?? '', /^npm's settings/)
    assert.equal(trustReason(write('/etc/lesspipe.conf', 'x\n')), undefined)
    assert.equal(trustReason(write('/usr/local/etc/app.conf', 'x\n')), undefined)
  })

  // Session 30 (red team): a pulled bind mount of a user's folder over a folder of root's PATH was a medium fstab change.
  it("names a bind mount over root's programs or settings in /etc/fstab, not the ordinary entries", () => {
    const ordinary = 'UUID=1234 / ext4 errors=remount-ro 0 1\nUUID=5678 /boot ext4 defaults 0 2\n/swapfile none swap sw 0 0\n'
    assert.match(trustReason(write('/etc/fstab', `${ordinary}/home/ann/bin /usr/local/sbin none bind 0 0\n`)) ?? '', /^a bind mount over root's programs or settings/)
    assert.match(trustReason(write('/etc/fstab', `${ordinary}/srv/x\t/etc/sudoers.d\tnone\trw,rbind\t0 0\n`)) ?? '', /^a bind mount over root's programs or settings/)
    assert.equal(trustReason(write('/etc/fstab', ordinary)), undefined)
    assert.equal(trustReason(write('/etc/fstab', `${ordinary}/srv/data /home/ann/data none bind 0 0\n# /home/ann/bin /usr/local/sbin none bind 0 0\n`)), undefined)
  })

  // Session 23: /usr/local/bin is in files.include by default, and it comes before /usr/bin on
  // root's PATH: a pulled /usr/local/bin/ls (mode 0755) was a low-risk create, approved by --yes.
  it('names an executable or a link put on root\'s PATH (it shadows or adds a command root, cron and units run by name), and a mode change that makes one executable there', () => {
    for (const folder of ['/usr/local/bin', '/usr/local/sbin', '/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
      assert.match(trustReason(write(`${folder}/ls`, '#!/bin/sh\nid\n', 0o755)) ?? '', /^a program on root's PATH/, folder)
    }
    assert.match(trustReason(write('/usr/local/bin/tool', '#!/bin/sh\nid\n', 0o700)) ?? '', /^a program on root's PATH/)
    assert.match(trustReason(change('/usr/local/bin/apt', { action: 'symlink', target: '/srv/x' })) ?? '', /^a program on root's PATH: .*\(a link: what it points at decides\)$/)
    assert.match(trustReason({ ...change('/usr/local/bin/ls', { action: 'chmod', mode: 0o755 }), before: 'file 0644 root:root 20 bytes' }) ?? '', /^made executable: a program on root's PATH/)
    assert.equal(trustReason(write('/usr/local/bin/README', 'notes\n', 0o644)), undefined, 'not executable: runs nothing')
    assert.equal(trustReason(write('/usr/local/bin/sub/x', '#!/bin/sh\n', 0o755)), undefined, 'below the folder: not on the PATH')
    assert.equal(trustReason(write('/usr/local/lib/x', '#!/bin/sh\n', 0o755)), undefined)
    assert.equal(trustReason({ ...change('/usr/local/bin/ls', { action: 'chmod', mode: 0o750 }), before: 'file 0755 root:root 20 bytes' }), undefined, 'already executable')
  })

  // Session 23: a pulled manifest that only changed a mode or an owner: /etc/crontab 0646 and
  // /etc/shadow 0644 were low, /etc/sudoers given to postgres medium, /etc/cron.d 0777 "made executable".
  it('names a mode or owner change that opens a file root reads or runs to other users, or a secret file to every reader', () => {
    const meta = (path: string, data: Record<string, unknown>, before: string | undefined) => ({ ...change(path, data, 'low'), operation: String(data.action), before })
    assert.match(trustReason(meta('/etc/crontab', { action: 'chmod', mode: 0o646 }, 'file 0644 root:root 1042 bytes sha256:ab')) ?? '', /^opened for writing by every user/)
    assert.match(trustReason(meta('/etc/cron.d', { action: 'chmod', mode: 0o777 }, 'directory 0755 root:root')) ?? '', /^opened for writing by every user/)
    assert.match(trustReason(meta('/etc/ssh/sshd_config', { action: 'attributes', mode: 0o664, uid: 0, gid: 103 }, 'file 0644 root:root 3 bytes')) ?? '', /^opened for writing by its group/)
    assert.match(trustReason(meta('/etc/sudoers', { action: 'chown', uid: 100, gid: 0 }, 'file 0440 root:root 1 bytes')) ?? '', /^given to another user \(uid 100\)/)
    assert.match(trustReason(meta('/usr/local/bin/x', { action: 'chown', uid: 1000, gid: 1000 }, 'file 0755 root:root 1 bytes')) ?? '', /^given to another user/)
    assert.match(trustReason(meta('/etc/shadow', { action: 'chmod', mode: 0o644 }, 'file 0640 root:shadow 900 bytes secret')) ?? '', /^opened for reading by every user/)
    assert.match(trustReason(meta('/etc/ssh/ssh_host_ed25519_key', { action: 'chmod', mode: 0o604 }, 'file 0600 root:root 1 bytes secret')) ?? '', /^opened for reading by every user/)
    // Session 24: made that way, not changed: a pulled folder or file created (or replaced) with
    // group or other write (a new /etc/systemd/system-generators 0777 was low).
    const made = (path: string, action: string, mode: number, before?: string) => ({ ...change(path, { action, mode, uid: 0, gid: 0, ...(action === 'write' ? { text: 'X=1\n' } : {}) }, 'low'), before })
    assert.match(trustReason(made('/etc/systemd/system-generators', 'mkdir', 0o777)) ?? '', /^opened for writing by every user/)
    assert.match(trustReason(made('/etc/default/myapp', 'write', 0o664)) ?? '', /^opened for writing by its group/)
    assert.match(trustReason(made('/etc/default/myapp', 'write', 0o666, 'file 0644 root:root 4 bytes')) ?? '', /^opened for writing by every user/)
    assert.equal(trustReason(made('/etc/default/myapp', 'write', 0o666, 'file 0666 root:root 4 bytes')), undefined, 'already writable by all')
    assert.equal(trustReason(made('/etc/myapp', 'mkdir', 0o755)), undefined)
    // …or made another user's where the rules name the content (postgres' own /etc/postgresql files stay as they are).
    const owned = (path: string, action: string, uid: number) => change(path, { action, mode: action === 'mkdir' ? 0o755 : 0o644, uid, gid: uid, ...(action === 'write' ? { text: 'x\n' } : {}) })
    assert.match(trustReason(owned('/etc/systemd/system-generators', 'mkdir', 1000)) ?? '', /^given to another user \(uid 1000\)/)
    assert.match(trustReason(owned('/etc/sudoers.d', 'mkdir', 1000)) ?? '', /^given to another user/)
    assert.equal(trustReason(owned('/etc/postgresql/17/main/pg_hba.conf', 'write', 105)), undefined)
    assert.equal(trustReason(owned('/etc/postgresql/17', 'mkdir', 105)), undefined)
    // Session 30 (red team): a content change that also gives a root-owned file away was a medium
    // replace, and another group on a secret or group-writable file a low chown: --yes applied both.
    const replaced = (path: string, uid: number, gid: number, mode: number, before: string, after: string) => ({ ...change(path, { action: 'write', text: 'x\n', sha256: '', mode, uid, gid }, 'medium'), operation: 'replace', before, after })
    assert.match(trustReason(replaced('/etc/nginx/nginx.conf', 1000, 0, 0o644, 'file 0644 root:root 38 bytes sha256:ab', 'file 0644 ann:root 46 bytes sha256:cd')) ?? '', /^given to another user \(uid 1000\)/)
    assert.match(trustReason(replaced('/etc/default/myapp', 0, 1000, 0o664, 'file 0664 root:root 4 bytes', 'file 0664 root:ann 6 bytes')) ?? '', /^opened for writing by the group ann/)
    const regroup = (path: string, action: string, before: string, after: string, mode?: number) => ({ ...meta(path, { action, uid: 0, gid: 100, ...(mode === undefined ? {} : { mode }) }, before), after })
    assert.match(trustReason(regroup('/etc/shadow', 'chown', 'file 0640 root:shadow 27 bytes secret', 'file 0640 root:users 27 bytes secret')) ?? '', /^opened for reading by the group users: password hashes/)
    assert.match(trustReason(regroup('/etc/ssl/private/site.key', 'chown', 'file 0640 root:ssl-cert 1 bytes secret', 'file 0640 root:users 1 bytes secret')) ?? '', /^opened for reading by the group users/)
    assert.match(trustReason(regroup('/etc/cron.d', 'attributes', 'directory 0775 root:root', 'directory 0775 root:users', 0o775)) ?? '', /^opened for writing by the group users: .*\(add files to the folder\)/)
    assert.equal(trustReason(regroup('/etc/shadow', 'chown', 'file 0600 root:shadow 27 bytes secret', 'file 0600 root:users 27 bytes secret')), undefined, 'the group reads nothing')
    assert.equal(trustReason(regroup('/etc/motd', 'chown', 'file 0644 root:root 8 bytes', 'file 0644 root:users 8 bytes')), undefined, 'not a secret, not group-writable')
    assert.match(trustReason(regroup('/etc/shadow', 'chown', 'file 0640 root:users 27 bytes secret', 'file 0640 root:shadow 27 bytes secret')) ?? '', /group shadow/, 'any new group that reads the hashes is named (which group is right is the reviewer\'s call)')
    assert.equal(trustReason(replaced('/etc/postgresql/17/main/pg_hba.conf', 105, 106, 0o640, 'file 0640 postgres:postgres 1 bytes', 'file 0640 postgres:postgres 2 bytes')), undefined, "another user's own file stays theirs")
    assert.equal(trustReason(replaced('/etc/nginx/nginx.conf', 0, 0, 0o644, 'file 0644 root:root 38 bytes', 'file 0644 root:root 46 bytes')), undefined, 'a content change alone')
    // What keeps or narrows access, or is another user's own, is not named.
    assert.equal(trustReason(meta('/etc/crontab', { action: 'chmod', mode: 0o600 }, 'file 0644 root:root 1 bytes')), undefined)
    assert.equal(trustReason(meta('/etc/postgresql/17/main/pg_hba.conf', { action: 'chmod', mode: 0o640 }, 'file 0644 postgres:postgres 1 bytes')), undefined)
    assert.equal(trustReason(meta('/etc/postgresql/17/main/pg_hba.conf', { action: 'chown', uid: 0, gid: 0 }, 'file 0640 postgres:postgres 1 bytes')), undefined)
    assert.equal(trustReason(meta('/etc/motd', { action: 'chmod', mode: 0o664 }, 'file 0666 root:root 1 bytes')), undefined, 'already writable by all')
    assert.equal(trustReason(meta('/home/ann/notes', { action: 'chmod', mode: 0o666 }, 'file 0644 ann:ann 1 bytes')), undefined)
    assert.equal(trustReason(meta('/etc/hosts', { action: 'chmod', mode: 0o644 }, 'file 0600 root:root 1 bytes')), undefined, 'readable, not a secret file')
    assert.equal(trustReason(meta('/etc/ssl', { action: 'chmod', mode: 0o755 }, 'directory 0700 root:root')), undefined, 'a folder opened for reading is not made executable')
  })

  // Session 24: files in the default scope that root's own programs load as code or obey, each a
  // low or medium create when pulled (on the services root: /etc/perl/strict.pm stood in for perl's
  // own module in debconf's frontend, run as root by every apt run).
  it("names the code root's tools load from /etc and root's home: perl's and Python's startup, git's settings, root's dotfiles and user units, network and boot hooks", () => {
    const high: Array<[string, string, RegExp]> = [
      ['/etc/perl/strict.pm', 'package strict; system("id"); 1;\n', /^perl's first module folder/],
      ['/etc/perl/sitecustomize.pl', 'system("id");\n', /^perl's first module folder/],
      ['/etc/python3.13/sitecustomize.py', 'import os; os.system("id")\n', /^Python's startup/],
      ['/usr/local/lib/python3.13/dist-packages/x.pth', 'import os; os.system("id")\n', /^Python's startup/],
      ['/etc/gitconfig', '[core]\n\tfsmonitor = /tmp/x\n', /^git's settings/],
      ['/root/.gitconfig', '[core]\n\tpager = /tmp/x\n', /^git's settings/],
      ['/root/.config/git/config', '[core]\n\tfsmonitor = /tmp/x\n', /^git's settings/],
      ['/root/.config/systemd/user/x.service', '[Service]\nExecStart=/tmp/x\n', /^root's home/],
      ['/root/.config/environment.d/x.conf', 'LD_PRELOAD=/tmp/x.so\n', /^root's home/],
      ['/root/.vimrc', '!id\n', /^root's home/],
      ['/root/.tmux.conf', 'run-shell id\n', /^root's home/],
      ['/root/.selected_editor', 'SELECTED_EDITOR="/tmp/x"\n', /^root's home/],
      ['/root/.bash_aliases', 'alias ls=/tmp/x\n', /^root's home/],
      ['/etc/vim/vimrc.local', 'silent !id\n', /^an editor's or terminal's startup/],
      ['/etc/X11/Xsession.d/99x', 'id\n', /^a desktop session's startup/],
      ['/etc/network/interfaces.d/x', 'iface lo inet loopback\n  up /tmp/x\n', /^ifupdown/],
      ['/etc/network/interfaces', 'source /home/ann/x\n', /^ifupdown/],
      ['/etc/dhcp/dhclient-exit-hooks.d/x', 'id\n', /^dhclient/],
      ['/etc/dhcp/dhclient.conf', 'script "/tmp/x";\n', /^dhclient/],
      ['/etc/default/grub', 'GRUB_CMDLINE_LINUX="$(/tmp/x)"\n', /^update-grub/],
      ['/etc/default/grub.d/x.cfg', 'GRUB_TIMEOUT=1\n', /^update-grub/],
      ['/etc/default/ssh', 'SSHD_OPTS="-o AuthorizedKeysCommand=/tmp/x -o AuthorizedKeysCommandUser=root"\n', /^sshd's options/],
      ['/etc/default/myapp', 'X=1\n$(/tmp/x)\n', /^sourced as shell/],
      ['/etc/initramfs-tools/conf.d/x', '/tmp/x\n', /^mkinitramfs/],
      ['/etc/crypttab', 'x /dev/sdb1 none luks,keyscript=/tmp/x\n', /keyscript/],
      ['/etc/bash.bash_logout', 'id\n', /^a login shell's logout script/],
      ['/etc/csh.logout', 'id\n', /^a login shell's logout script/],
      ['/etc/login.defs', 'ENV_SUPATH PATH=/tmp:/usr/sbin:/usr/bin\n', /PATH of root after su/],
      ['/etc/environment', 'PAGER=/tmp/x\n', /environment of every login/],
      // TwinSync's own git keeps GIT_SSL_* (REMOTE_GIT_VARS): a login's environment without TLS checks sends the mirror's token to whoever answers.
      ['/etc/environment', 'GIT_SSL_NO_VERIFY=1\nhttps_proxy=http://p:3128\n', /environment of every login/],
      ['/etc/environment', 'SSL_CERT_FILE=/home/ann/ca.pem\n', /environment of every login/],
      ['/etc/environment', 'NODE_TLS_REJECT_UNAUTHORIZED=0\n', /environment of every login/],
      ['/etc/ssl/certs/abcdef12.0', '-----BEGIN CERTIFICATE-----\n', /certificate authority/],
      ['/usr/local/share/ca-certificates/x.crt', '-----BEGIN CERTIFICATE-----\n', /certificate authority/],
      ['/etc/nginx/modules-enabled/99-x.conf', 'load_module /usr/local/bin/x.so;\n', /into a server that runs as root/],
      ['/etc/apache2/conf-enabled/x.conf', 'ErrorLog "|/tmp/x"\n', /into a server that runs as root/],
      ['/etc/rsyncd.conf', '[all]\n  path = /\n  uid = root\n  read only = false\n', /^the rsync daemon/],
      ['/etc/exports', '/ *(rw,no_root_squash)\n', /^NFS exports/],
      ['/etc/exports.d/x.exports', '/ *(rw,no_root_squash)\n', /^NFS exports/],
      ['/etc/inetd.conf', 'x stream tcp nowait root /bin/sh sh -i\n', /^inetd/],
      ['/etc/xinetd.d/x', 'service x { user = root\n server = /bin/sh }\n', /^inetd/],
      ['/etc/samba/smb.conf', '[root]\n  path = /\n  force user = root\n', /^samba/],
    ]
    for (const [path, text, reason] of high) assert.match(trustReason(write(path, text)) ?? '', reason, path)
    assert.match(trustReason(change('/root/.config/systemd/user/default.target.wants/x.service', { action: 'symlink', target: '/tmp/x.service' })) ?? '', /^root's home/)
    // A link in place of such a folder (or a folder above it): what it points at is that folder's
    // content (on the services root, a pulled /etc/systemd/system-generators -> /home/ann/gen was low).
    const link = (path: string) => trustReason(change(path, { action: 'symlink', target: '/home/ann/x' })) ?? ''
    assert.match(link('/etc/systemd/system-generators'), /^a link in place of the folder \/etc\/systemd\/system-generators: a systemd generator/)
    assert.match(link('/etc/network/if-up.d'), /^a link in place of the folder \/etc\/network\/if-up\.d: an executable under \/etc/)
    assert.match(link('/etc/perl'), /^a link in place of the folder \/etc\/perl: perl's first module folders/)
    assert.match(link('/etc/ssl'), /^a link in place of the folder \/etc\/ssl\/certs: a trusted certificate authority/)
    assert.match(link('/usr/local'), /^a link in place of the folder \/usr\/local\/(s?bin|share)/)
    assert.equal(trustReason(change('/etc/nginx/sites-enabled/default', { action: 'symlink', target: '/etc/nginx/sites-available/default' })), undefined)
    assert.equal(trustReason(change('/etc/resolv.conf', { action: 'symlink', target: '/run/systemd/resolve/stub-resolv.conf' })), undefined)
    // Ordinary files of the same places keep their risk.
    const ordinary: Array<[string, string]> = [
      ['/etc/default/myapp', '# options\nMYAPP_PORT=8080\nMYAPP_NAME="a b"\n'],
      ['/etc/network/interfaces', 'auto eth0\niface eth0 inet dhcp\n'],
      ['/etc/dhcp/dhclient.conf', 'send host-name = gethostname();\n'],
      ['/etc/crypttab', 'x /dev/sdb1 none luks\n'],
      ['/etc/login.defs', 'UMASK 022\n'],
      ['/etc/environment', 'LANG=C.UTF-8\n'],
      ['/etc/nginx/sites-enabled/default', 'server { listen 80; }\n'],
      ['/etc/samba/smb.conf', '[global]\n  workgroup = WORKGROUP\n'],
      ['/etc/perl/Net/libnet.cfg', ''],
      ['/home/ann/.vimrc', 'set nu\n'],
      ['/usr/local/lib/node/x.js', 'x\n'],
    ]
    for (const [path, text] of ordinary) assert.equal(trustReason(write(path, text)), undefined, path)
  })

  it('reads the cron and autostart providers\' changes (content, a mode in octal text); a disabled entry or another user\'s crontab is not named', () => {
    const cron = (user: string): Change => ({ id: `cron:create:${user}`, provider: 'cron', category: 'startup', operation: 'create', resource: `/var/spool/cron/crontabs/${user}`, summary: '', risk: user === 'root' ? 'high' : 'medium', data: { user, path: `/var/spool/cron/crontabs/${user}`, content: '* * * * * id\n' } })
    assert.equal(trustReason(cron('root')), 'root\'s crontab: its jobs run as root')
    assert.equal(trustReason(cron('ann')), undefined)
    const entry = (operation: string, path: string, content: string | null, mode = '0644'): Change => ({ id: `autostart:${operation}:${path}`, provider: 'autostart', category: 'startup', operation, resource: path, summary: '', risk: 'medium', data: { path, content, mode, owner: 'root', group: 'root' } })
    assert.match(trustReason(entry('create', '/etc/xdg/autostart/x.desktop', '[Desktop Entry]\nExec=id\n')) ?? '', /every desktop login/)
    assert.equal(trustReason(entry('disable', '/etc/xdg/autostart/x.desktop', '[Desktop Entry]\nHidden=true\n')), undefined)
    assert.equal(trustReason(entry('delete', '/etc/xdg/autostart/x.desktop', null)), undefined)
    assert.match(trustReason(entry('chmod', '/etc/rc.local', '#!/bin/sh\nid\n', '0755')) ?? '', /boot script/)
  })

  // Session 25: a user who may become root (read from the machine by admin-users.ts) is one password away from it.
  it("names the startup files of a user who may sudo like root's: dot-files of the home, ~/bin programs, the crontab; not ~/.cache, documents, a delete, or another user", () => {
    const admins = [{ user: 'ann', home: '/home/ann', why: 'in group sudo' }]
    const named: Array<[string, string, number?]> = [
      ['/home/ann/.bashrc', 'alias sudo="/tmp/x; sudo"\n'],
      ['/home/ann/.profile', 'PATH=/tmp:$PATH\n'],
      ['/home/ann/.config/autostart/x.desktop', '[Desktop Entry]\nExec=/tmp/x\n'],
      ['/home/ann/.config/systemd/user/x.service', '[Service]\nExecStart=/tmp/x\n'],
      ['/home/ann/.gitconfig', '[core]\nfsmonitor = /tmp/x\n'],
      ['/home/ann/bin/sudo', '#!/bin/sh\n', 0o755],
      ['/home/ann/.local/bin/sudo', '#!/bin/sh\n', 0o755],
    ]
    for (const [path, text, mode] of named) assert.match(trustReason(write(path, text, mode), new Set(), admins) ?? '', /^ann may become root \(in group sudo\): .*next sudo/, path)
    const cron: Change = { id: 'cron:create:ann', provider: 'cron', category: 'startup', operation: 'create', resource: '/var/spool/cron/crontabs/ann', summary: '', risk: 'medium', data: { user: 'ann', path: '/var/spool/cron/crontabs/ann', content: '* * * * * id\n' } }
    assert.match(trustReason(cron, new Set(), admins) ?? '', /^ann may become root .*their crontab/)
    assert.match(trustReason(write('/home/ann/.ssh/authorized_keys', 'ssh-ed25519 AAAA x\n'), new Set(), admins) ?? '', /^SSH authorized keys/)
    for (const path of ['/home/ann/.cache/x', '/home/ann/notes.txt', '/home/ann/bin/readme', '/home/bob/.bashrc', '/home/annex/.bashrc']) assert.equal(trustReason(write(path, 'x\n'), new Set(), admins), undefined, path)
    assert.equal(trustReason(change('/home/ann/.bashrc', { action: 'delete' }, 'high'), new Set(), admins), undefined)
    assert.equal(trustReason(write('/home/ann/.bashrc', 'alias sudo=x\n')), undefined)
    const hidden: Change = { id: 'autostart:disable:x', provider: 'autostart', category: 'startup', operation: 'disable', resource: '/home/ann/.config/autostart/x.desktop', summary: '', risk: 'medium', data: { path: '/home/ann/.config/autostart/x.desktop', content: '[Desktop Entry]\nHidden=true\n', mode: '0644' } }
    assert.equal(trustReason(hidden, new Set(), admins), undefined)
  })

  // Session 45: what names the twin runs what a mirror pushes, with no plan showing it.
  it("names a file whose text names TwinSync's state folders (the twin): a cron line, a unit, an include; not a file that does not", () => {
    const reason = /^names (\/var\/lib\/twinsync|…\/\.local\/share\/twinsync), TwinSync's own state \(a twin repository\): what a mirror pushes there/
    assert.match(trustReason(write('/etc/nginx/conf.d/x.conf', 'include /var/lib/twinsync/twin/filesystem/etc/x.conf;\n')) ?? '', reason)
    assert.match(trustReason(write('/etc/cron.d/x', '* * * * * root sh /var/lib/twinsync/twin/scripts/x.sh\n')) ?? '', reason)
    assert.match(trustReason(write('/etc/systemd/system/x.service', '[Service]\nExecStart=/home/ann/.local/share/twinsync/twin/scripts/x\n')) ?? '', reason)
    const cron: Change = { id: 'cron:create:bob', provider: 'cron', category: 'startup', operation: 'create', resource: '/var/spool/cron/crontabs/bob', summary: '', risk: 'medium', data: { user: 'bob', path: '/var/spool/cron/crontabs/bob', content: '@reboot /var/lib/twinsync/twin/scripts/x\n' } }
    assert.match(trustReason(cron) ?? '', reason)
    // Session 46: slashes doubled or a `/./` no longer hide it; a cd to the state folder is named.
    assert.match(trustReason(write('/etc/nginx/conf.d/x.conf', 'include /var/lib//twinsync/./twin/filesystem/etc/x.conf;\n')) ?? '', reason)
    assert.match(trustReason(write('/etc/motd.sh', 'cd /var/lib/twinsync && . twin/scripts/env\n')) ?? '', reason)
    // Session 48: a quote or a backslash inside the name, which the shell reads past.
    assert.match(trustReason(write('/etc/profile.d/x.sh', '. /var/lib/"twinsync"/twin/scripts/env\n')) ?? '', reason)
    assert.match(trustReason(write('/etc/cron.d/x', "* * * * * root sh /var/lib/'twin'sync/twin/scripts/x.sh\n")) ?? '', reason)
    assert.match(trustReason(write('/etc/profile.d/x.sh', '. /var/lib/twin\\sync/twin/scripts/env\n')) ?? '', reason)
    assert.equal(trustReason(write('/etc/nginx/conf.d/x.conf', 'include /etc/nginx/snippets/x.conf;\n')), undefined)
    assert.equal(trustReason(write('/etc/nginx/conf.d/x.conf', 'include /var/lib/twinsyncd/x.conf;\n')), undefined, 'another folder')
  })

  // Session 46 (session 45's review, M3): a link into the twin, and a twin opened with --repo, were not named.
  it("names a link whose target leads into the twin (directly, through the plan's other links, or to a folder above it) and a text naming the run's own twin wherever it lies (--repo); not a neighbour", () => {
    const rated = (changes: Change[], twin: string[] = []) => {
      markTrustChanges(changes, { twin })
      return changes.map((c) => c.riskReason)
    }
    const link = (path: string, target: string) => change(path, { action: 'symlink', target, uid: 0, gid: 0 })
    const intoTwin = /^a link to (a file in )?(the twin's folder|TwinSync's state folder) .*, TwinSync's own state \(a twin repository\)/
    // Each was medium or low before, or high for its folder alone, with no word of the twin.
    assert.match(trustReason(link('/etc/nginx/sites-enabled/app', '/var/lib/twinsync/twin/filesystem/etc/nginx/sites-available/app')) ?? '', intoTwin)
    assert.match(trustReason(link('/usr/local/bin/x', '/var/lib/twinsync/twin/scripts/x')) ?? '', intoTwin)
    assert.match(trustReason(link('/etc/motd', '../var/lib//twinsync/twin/x')) ?? '', intoTwin)
    assert.match(trustReason(link('/srv/www/app', '/home/ann/.local/share/twinsync/twin/filesystem/srv')) ?? '', intoTwin)
    assert.match(trustReason(link('/etc/motd', '/proc/self/root/var/lib/twinsync/twin/x')) ?? '', /^a link to \/proc\/self\/root\/var\/lib\/twinsync\/twin\/x, a path naming \/var\/lib\/twinsync, TwinSync's own state/)
    // The run's own twin at /srv/twin (`--repo /srv/twin`): a link into it, a text naming it, a cd and its folder's name.
    const [inRepo, included, byName, neighbour, other] = rated([
      link('/etc/motd', '/srv/twin/filesystem/etc/motd'),
      write('/etc/nginx/conf.d/x.conf', 'include /srv/twin/filesystem/etc/x.conf;\n'),
      write('/etc/cron.d/x', '* * * * * root cd /srv && sh twin/scripts/x\n'),
      write('/etc/nginx/conf.d/y.conf', 'include /srv/twin-old/x.conf;\n'),
      link('/etc/motd.old', '/srv/twins/x'),
    ], ['/srv/twin'])
    assert.match(inRepo ?? '', /^a link to a file in the twin's folder \/srv\/twin, /)
    assert.match(included ?? '', /^names \/srv\/twin, TwinSync's own state/)
    assert.match(byName ?? '', /^names twin\/ \(the twin's folder \/srv\/twin\), TwinSync's own state/)
    assert.deepEqual([neighbour, other], [undefined, undefined])
    // Through another link of the plan (/srv/a -> /), and a link to a folder above the twin (/var/lib).
    const [root, via, above] = rated([link('/srv/a', '/'), link('/etc/motd', '/srv/a/var/lib/twinsync/twin/x'), link('/srv/b', '/var/lib')], ['/var/lib/twinsync/twin'])
    assert.equal(root, undefined, 'a link to / is no link into the twin')
    assert.match(via ?? '', /^a link to a file in the twin's folder \/var\/lib\/twinsync\/twin, /)
    assert.match(above ?? '', /^a link to \/var\/lib, a folder above the twin's \(\/var\/lib\/twinsync\/twin\), /)
    assert.equal(trustReason(link('/srv/b', '/var/lib')), undefined, 'with no twin of the run on the target, /var/lib is not above one')
  })

  // Session 45: an ACL naming another user or group was a medium "set system.posix_acl_access".
  it('names an ACL that lets another user or group write under root\'s folders, or read a secret file, through the mask; not one the mask holds back, nor the owner\'s own entries', () => {
    const acl = (...entries: Array<[number, number, number?]>) => `0s${Buffer.concat([Buffer.from([2, 0, 0, 0]), ...entries.map(([tag, perm, id = 0xffffffff]) => { const b = Buffer.alloc(8); b.writeUInt16LE(tag, 0); b.writeUInt16LE(perm, 2); b.writeUInt32LE(id, 4); return b })]).toString('base64')}`
    const attributes = (path: string, xattrs: Record<string, string>, action = 'attributes', mode = 0o640) => ({ ...change(path, { action, mode, uid: 0, gid: 42, xattrs }, 'medium'), ...(mode === 0o640 ? {} : { before: `file ${mode.toString(8).padStart(4, '0')} root:root 12 bytes` }) })
    const readShadow = acl([0x01, 6], [0x02, 4, 1000], [0x04, 4], [0x10, 4], [0x20, 0])
    assert.equal(trustReason(attributes('/etc/shadow', { 'system.posix_acl_access': readShadow })), 'opened for reading by the user uid 1000 by an ACL: password hashes or private keys')
    assert.match(trustReason(attributes('/etc/sudoers.d/x', { 'system.posix_acl_access': acl([0x01, 6], [0x08, 6, 27], [0x04, 4], [0x10, 6], [0x20, 0]) }, 'attributes', 0o660)) ?? '', /^opened for writing by the group gid 27 by an ACL: /)
    // Session 46 (review R1): apply chmods after it sets the ACL, and the chmod makes the mask the mode's group bits:
    // an ACL carrying mask::r-- on a 0660 file lets the entry write; one carrying mask::rw- on a 0640 file does not.
    assert.match(trustReason(attributes('/etc/cron.d/job', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1001], [0x04, 6], [0x10, 4], [0x20, 4]) }, 'attributes', 0o664)) ?? '', /^opened for writing by the user uid 1001 by an ACL: /)
    assert.equal(trustReason(attributes('/etc/cron.d/job', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1001], [0x04, 4], [0x10, 6], [0x20, 4]) }, 'attributes', 0o644)), undefined)
    // With no mode in the change, the one the file has now (its `before`) is the one apply's chmod sets again.
    const keepsMode = { ...change('/etc/cron.d/job', { action: 'attributes', uid: 0, gid: 0, xattrs: { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1001], [0x04, 6], [0x10, 4], [0x20, 4]) } }, 'medium'), before: 'file 0664 root:root 12 bytes' }
    assert.match(trustReason(keepsMode) ?? '', /^opened for writing by the user uid 1001 by an ACL: /)
    assert.match(trustReason(attributes('/etc/cron.d', { 'system.posix_acl_default': acl([0x01, 7], [0x02, 7, 1000], [0x04, 5], [0x10, 7], [0x20, 5]) }, 'mkdir')) ?? '', /^opened for writing by the user uid 1000 by an ACL \(the ACL new files of the folder get\)/)
    // The mask (the mode's group bits) holds a named entry's write back; root's own entries and a plain file elsewhere are no one else's.
    assert.equal(trustReason(attributes('/etc/sudoers.d/x', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1000], [0x04, 4], [0x10, 4], [0x20, 0]) })), undefined)
    assert.equal(trustReason(attributes('/etc/app.conf', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 4, 1000], [0x04, 4], [0x10, 4], [0x20, 0]) })), undefined, 'reading a file that is no secret')
    assert.equal(trustReason(attributes('/etc/app.conf', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 0], [0x04, 6], [0x10, 6], [0x20, 0]) })), undefined, "root's own named entry")
    assert.equal(trustReason(attributes('/srv/www/x', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1000], [0x04, 6], [0x10, 6], [0x20, 0]) })), undefined, 'not root\'s folders')
    assert.equal(trustReason(attributes('/etc/app.conf', { 'user.note': '"x"' })), undefined)
  })

  // Session 46 (session 45's review, M4): an ACL on an admin's startup file was a medium "set system.posix_acl_access".
  it("names a startup place of a user who may sudo opened to another user or group by an ACL (access, or a folder's default); not the user's own entries, nor one the mask holds back", () => {
    const admins = [{ user: 'ann', home: '/home/ann', why: 'in group sudo', uid: '1000', ownGroups: ['1000', 'ann'] }]
    const acl = (...entries: Array<[number, number, number?]>) => `0s${Buffer.concat([Buffer.from([2, 0, 0, 0]), ...entries.map(([tag, perm, id = 0xffffffff]) => { const b = Buffer.alloc(8); b.writeUInt16LE(tag, 0); b.writeUInt16LE(perm, 2); b.writeUInt32LE(id, 4); return b })]).toString('base64')}`
    const attributes = (path: string, xattrs: Record<string, string>, action = 'attributes', mode = 0o664) => ({ ...change(path, { action, mode, uid: 1000, gid: 1000, xattrs }, 'medium'), before: 'file 0644 ann:ann 12 bytes', after: `file ${mode.toString(8).padStart(4, '0')} ann:ann 12 bytes` })
    const bob = acl([0x01, 6], [0x02, 6, 1001], [0x04, 4], [0x10, 6], [0x20, 4])
    assert.match(trustReason(attributes('/home/ann/.bashrc', { 'system.posix_acl_access': bob }), new Set(), admins) ?? '', /^ann may become root \(in group sudo\): a startup file or folder of their home opened for writing by the user uid 1001 by an ACL, who can then run code as ann/)
    // Session 46 (review R1): the mask apply's chmod leaves is the mode's group bits, whatever the ACL carries.
    assert.match(trustReason(attributes('/home/ann/.bashrc', { 'system.posix_acl_access': acl([0x01, 6], [0x02, 6, 1001], [0x04, 4], [0x10, 4], [0x20, 4]) }), new Set(), admins) ?? '', /by the user uid 1001 by an ACL, who can then run code as ann/)
    assert.match(trustReason(attributes('/home/ann/.local/bin/x', { 'system.posix_acl_access': acl([0x01, 7], [0x08, 7, 27], [0x04, 5], [0x10, 7], [0x20, 5]) }, 'attributes', 0o775), new Set(), admins) ?? '', /a program folder of their PATH or a program in it opened for writing by the group gid 27 by an ACL/)
    assert.match(trustReason(attributes('/home/ann/.config', { 'system.posix_acl_default': acl([0x01, 7], [0x02, 7, 1001], [0x04, 5], [0x10, 7], [0x20, 5]) }, 'mkdir'), new Set(), admins) ?? '', /by the user uid 1001 by an ACL \(the ACL new files of the folder get\)/)
    for (const [why, entries] of [
      ["ann's own user entry", acl([0x01, 6], [0x02, 6, 1000], [0x04, 4], [0x10, 6], [0x20, 4])],
      ["ann's own group", acl([0x01, 6], [0x08, 6, 1000], [0x04, 4], [0x10, 6], [0x20, 4])],
      ["root's", acl([0x01, 6], [0x02, 6, 0], [0x04, 4], [0x10, 6], [0x20, 4])],
      ['read only', acl([0x01, 6], [0x02, 4, 1001], [0x04, 4], [0x10, 6], [0x20, 4])],
    ] as const) assert.equal(trustReason(attributes('/home/ann/.bashrc', { 'system.posix_acl_access': entries }), new Set(), admins), undefined, why)
    assert.equal(trustReason(attributes('/home/ann/.bashrc', { 'system.posix_acl_access': bob }, 'attributes', 0o644), new Set(), admins), undefined, 'the mode (0644) holds write back: the mask apply leaves is r--')
    assert.equal(trustReason(attributes('/home/ann/notes.txt', { 'system.posix_acl_access': bob }), new Set(), admins), undefined, 'not a startup place')
    assert.equal(trustReason(attributes('/home/bob/.bashrc', { 'system.posix_acl_access': bob }), new Set(), admins), undefined, 'not an admin\'s home')
  })

  // Session 45: a mode or owner change alone in those places was low risk: the rule asked only writes.
  it("names a startup place of a user who may sudo opened to other users by a mode or owner change alone: every user's write, another group's, another owner; not the user's own group, a tightened mode, or another user's home", () => {
    const admins = [{ user: 'ann', home: '/home/ann', why: 'in group sudo', ownGroups: ['1000', 'ann'] }]
    const meta = (path: string, data: Record<string, unknown>, before: string | undefined, after: string): Change => ({ ...change(path, data), before, after })
    const opened: Array<[Change, RegExp]> = [
      [meta('/home/ann/.bashrc', { action: 'chmod', mode: 0o666 }, 'file 0644 ann:ann 12 bytes', 'file 0666 ann:ann 12 bytes'), /^ann may become root \(in group sudo\): a startup file or folder of their home opened for writing by every user, .*next sudo/],
      [meta('/home/ann/.profile', { action: 'chown', uid: 1001, gid: 1000 }, 'file 0644 ann:ann 11 bytes', 'file 0644 bob:ann 11 bytes'), /: a startup file or folder of their home given to bob, /],
      [meta('/home/ann/.config', { action: 'chmod', mode: 0o777 }, 'directory 0755 ann:ann', 'directory 0777 ann:ann'), /opened for writing by every user/],
      [meta('/home/ann', { action: 'attributes', mode: 0o775, uid: 1000, gid: 100 }, 'directory 0755 ann:ann', 'directory 0775 ann:users'), /: their home folder opened for writing by the group users, /],
      [meta('/home/ann/.local/bin', { action: 'mkdir', mode: 0o755, uid: 4242, gid: 1000 }, undefined, 'directory 0755 4242:ann'), /: a program folder of their PATH or a program in it given to uid 4242, /],
      [{ ...meta('/home/ann/.config/autostart/x.desktop', {}, 'enabled, 0644 ann:ann', 'enabled, 0644 ann:ann'), provider: 'autostart', data: { path: '/home/ann/.config/autostart/x.desktop', action: 'chown', owner: 'bob', group: 'ann' } }, /given to bob/],
    ]
    for (const [c, reason] of opened) assert.match(trustReason(c, new Set(), admins) ?? '', reason, c.resource)
    const not: Change[] = [
      meta('/home/ann/.bashrc', { action: 'chmod', mode: 0o664 }, 'file 0644 ann:ann 12 bytes', 'file 0664 ann:ann 12 bytes'),
      meta('/home/ann/.bashrc', { action: 'chmod', mode: 0o600 }, 'file 0666 ann:ann 12 bytes', 'file 0600 ann:ann 12 bytes'),
      meta('/home/ann/.bashrc', { action: 'chown', uid: 0, gid: 0 }, 'file 0644 ann:ann 12 bytes', 'file 0644 root:root 12 bytes'),
      meta('/home/ann/.cache/x', { action: 'chmod', mode: 0o666 }, 'file 0644 ann:ann 1 bytes', 'file 0666 ann:ann 1 bytes'),
      meta('/home/ann/notes.txt', { action: 'chmod', mode: 0o666 }, 'file 0644 ann:ann 1 bytes', 'file 0666 ann:ann 1 bytes'),
      meta('/home/bob/.bashrc', { action: 'chmod', mode: 0o666 }, 'file 0644 bob:bob 1 bytes', 'file 0666 bob:bob 1 bytes'),
    ]
    for (const c of not) assert.equal(trustReason(c, new Set(), admins), undefined, `${c.resource} ${c.after}`)
    assert.equal(trustReason(opened[0]?.[0] as Change), undefined, 'no one may sudo: not named by this rule')
  })

  // Session 46's review (R5): an ACL entry the file has already was a new writer each time its attributes changed.
  it('names only the ACL entries that could not write (or read a secret file) before: the ACL the entry has now, through the mask its mode leaves', () => {
    const acl = (...entries: Array<[number, number, number?]>) => `0s${Buffer.concat([Buffer.from([2, 0, 0, 0]), ...entries.map(([tag, perm, id = 0xffffffff]) => { const b = Buffer.alloc(8); b.writeUInt16LE(tag, 0); b.writeUInt16LE(perm, 2); b.writeUInt32LE(id, 4); return b })]).toString('base64')}`
    const bobWrites = acl([0x01, 6], [0x02, 6, 1001], [0x04, 4], [0x10, 6], [0x20, 4])
    const bobReads = acl([0x01, 6], [0x02, 4, 1001], [0x04, 4], [0x10, 6], [0x20, 4])
    const rated = (path: string, owner: string, mode: number, wasMode: number, live: Record<string, string> | undefined, admins: AdminUser[] = []) => {
      const c: Change = { ...change(path, { action: 'attributes', mode, uid: 0, gid: 0, xattrs: { 'system.posix_acl_access': bobWrites, 'user.note': '0sYQ==' } }, 'medium'), before: `file ${wasMode.toString(8).padStart(4, '0')} ${owner}:${owner} 12 bytes`, after: `file ${mode.toString(8).padStart(4, '0')} ${owner}:${owner} 12 bytes` }
      const changes = [c]
      markTrustChanges(changes, { admins, live: new Map(live === undefined ? [] : [[path, live]]) })
      return changes[0]?.riskReason
    }
    const now = (value: string) => ({ 'system.posix_acl_access': value })
    assert.equal(rated('/etc/cron.d/job', 'root', 0o664, 0o664, now(bobWrites)), undefined, 'bob could write it already')
    assert.match(rated('/etc/cron.d/job', 'root', 0o664, 0o664, undefined) ?? '', /^opened for writing by the user uid 1001 by an ACL/, 'nothing known of now: new')
    assert.match(rated('/etc/cron.d/job', 'root', 0o664, 0o664, now(bobReads)) ?? '', /^opened for writing by the user uid 1001 by an ACL/, 'bob could only read')
    const admins = [{ user: 'ann', home: '/home/ann', why: 'in group sudo', uid: '1000', ownGroups: ['1000', 'ann'] }]
    assert.match(rated('/home/ann/.bashrc', 'ann', 0o664, 0o644, now(bobWrites), admins) ?? '', /^ann may become root .* by the user uid 1001 by an ACL/, 'the mode now (0644) holds bob\'s write back')
    assert.equal(rated('/home/ann/.bashrc', 'ann', 0o664, 0o664, now(bobWrites), admins), undefined, 'bob could write ann\'s .bashrc already')
    assert.match(rated('/home/ann/.bashrc', 'ann', 0o664, 0o664, {}, admins) ?? '', /^ann may become root .* by the user uid 1001 by an ACL/)
    const shadow: Change = { ...change('/etc/shadow', { action: 'attributes', mode: 0o640, uid: 0, gid: 42, xattrs: { 'system.posix_acl_access': acl([0x01, 6], [0x02, 4, 1000], [0x04, 4], [0x10, 4], [0x20, 0]) } }, 'medium'), before: 'file 0640 root:shadow 900 bytes' }
    for (const [live, reason] of [[{} as Record<string, string>, 'opened for reading by the user uid 1000 by an ACL: password hashes or private keys'], [{ 'system.posix_acl_access': acl([0x01, 6], [0x02, 4, 1000], [0x04, 4], [0x10, 4], [0x20, 0]) }, undefined]] as const) {
      const changes = [shadow]
      markTrustChanges(changes, { live: new Map([['/etc/shadow', live]]) })
      assert.equal(changes[0]?.riskReason, reason)
    }
  })

  it("reads the ACL an entry has now from the machine for each change that sets one (readTrustContext), and rates what stays as it is low", async () => {
    const root = await mkdtemp(join(tmpdir(), 'twinsync-live-acl-'))
    try {
      await mkdir(join(root, 'etc/cron.d'), { recursive: true })
      await writeFile(join(root, 'etc/cron.d/job'), '# job\n', { mode: 0o664 })
      execFileSync('setfacl', ['-m', 'u:1001:rw', join(root, 'etc/cron.d/job')])
      const host = new LocalHost(root)
      const now = (await host.readAttributes('/etc/cron.d/job'))?.xattrs ?? {}
      const c: Change = { ...change('/etc/cron.d/job', { action: 'attributes', mode: 0o664, uid: 0, gid: 0, xattrs: { ...now, 'user.note': '0sYQ==' } }, 'medium'), before: 'file 0664 root:root 6 bytes' }
      const context = await readTrustContext(host, join(root, 'srv/twin'), [c, change('/etc/motd', { action: 'write', text: '', mode: 0o644 })])
      assert.deepEqual([...(context.live ?? new Map()).keys()], ['/etc/cron.d/job'], 'only a change that sets an ACL is read')
      const changes = [c]
      markTrustChanges(changes, context)
      assert.equal(changes[0]?.riskReason, undefined)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  // Session 46's review (R4): the primary gid counted as the admin's own even when shared (`users`, USERGROUPS=no).
  it("counts an admin's group as their own only when no one else is in it (read from the machine's /etc/passwd and /etc/group)", async () => {
    const root = await mkdtemp(join(tmpdir(), 'twinsync-own-groups-'))
    try {
      await mkdir(join(root, 'etc'))
      await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:100::/home/ann:/bin/bash\nbob:x:1001:100::/home/bob:/bin/bash\ncid:x:1002:1002::/home/cid:/bin/bash\ndee:x:1003:1003::/home/dee:/bin/bash\n')
      await writeFile(join(root, 'etc/group'), 'root:x:0:\nsudo:x:27:ann,cid,dee\nusers:x:100:\ncid:x:1002:\ndee:x:1003:bob\n')
      const admins = await readAdminUsers(new LocalHost(root))
      assert.deepEqual(admins.map((a) => [a.user, a.ownGroups]), [['ann', []], ['cid', ['1002', 'cid']], ['dee', []]])
      const acl = (gid: number) => `0s${Buffer.concat([Buffer.from([2, 0, 0, 0]), ...[[0x01, 6, -1], [0x08, 6, gid], [0x04, 4, -1], [0x10, 6, -1], [0x20, 4, -1]].map(([tag, perm, id]) => { const b = Buffer.alloc(8); b.writeUInt16LE(tag as number, 0); b.writeUInt16LE(perm as number, 2); b.writeUInt32LE((id as number) >>> 0, 4); return b })]).toString('base64')}`
      const groupAcl = (user: string, gid: number) => ({ ...change(`/home/${user}/.bashrc`, { action: 'attributes', mode: 0o664, uid: 1000, gid, xattrs: { 'system.posix_acl_access': acl(gid) } }, 'medium'), before: `file 0664 ${user}:${gid} 12 bytes`, after: `file 0664 ${user}:${gid} 12 bytes` })
      assert.match(trustReason(groupAcl('ann', 100), new Set(), admins) ?? '', /^ann may become root \(in group sudo\): a startup file or folder of their home opened for writing by the group gid 100 by an ACL/, 'users (100) is bob\'s primary group too')
      assert.match(trustReason(groupAcl('dee', 1003), new Set(), admins) ?? '', /^dee may become root .* by the group gid 1003 by an ACL/, 'bob is a member of dee\'s group')
      assert.equal(trustReason(groupAcl('cid', 1002), new Set(), admins), undefined, 'cid\'s group is cid\'s alone')
      const chmod = (user: string, group: string) => ({ ...change(`/home/${user}/.profile`, { action: 'chmod', mode: 0o664 }), before: `file 0644 ${user}:${group} 12 bytes`, after: `file 0664 ${user}:${group} 12 bytes` })
      assert.match(trustReason(chmod('dee', 'dee'), new Set(), admins) ?? '', /: a startup file or folder of their home opened for writing by the group dee, /)
      assert.equal(trustReason(chmod('cid', 'cid'), new Set(), admins), undefined)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
