// Session 46 (session 45's review, M3, M4, M5), the twin is untrusted input: a pulled twin that
// reaches the twin itself (a link into it, a plans/ command that runs a twin file through a shell
// line), with the twin opened by `--repo` inside the target, and one that opens an administrator's
// .bashrc to another user by an ACL. Through the real binary, a real bare mirror and a pull, on a
// small hand-made root whose twin lies at /srv/twin (`--repo ROOT/srv/twin`).
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { FILES_ONLY, git } from '../support/in-process-twin.js'
import { pushToMirror } from '../support/mirror-commit.js'

/** setfacl's `u::rw-,u:1001:rw-,g::r--,m::rw-,o::r--` as getfattr -e base64 prints it (the manifest's form). */
const BOB_MAY_WRITE = '0sAgAAAAEABgD/////AgAGAOkDAAAEAAQA/////xAABgD/////IAAEAP////8='

describe('a pulled twin that reaches the twin in the target, or opens an admin\'s .bashrc by an ACL (real binary, bare mirror, --repo inside the root)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  let twinDir: string
  let mirror: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', twinDir])
  const said = (r: { code: number | null; stdout: string; stderr: string }) => `exited ${r.code}:\n${r.stdout}\n${r.stderr}`

  /** The attacker's commit on the mirror: `files` written, then `edit`. */
  const serve = (files: Record<string, string>, edit: (clone: string) => Promise<void> = async () => {}) => pushToMirror(mirror, join(cli.dir, `clone-${Date.now()}`), files, edit, 'forged')

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    twinDir = join(root, 'srv/twin')
    const files: Record<string, string> = {
      'etc/motd': 'Welcome\n',
      'etc/hostname': 'target\n',
      'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000:Ann:/home/ann:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/sh\n',
      'etc/group': 'root:x:0:\nsudo:x:27:ann\nann:x:1000:\nbob:x:1001:\n',
      'home/ann/.bashrc': 'alias ll="ls -l"\n',
    }
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true })
      await writeFile(join(root, path), text)
    }
    await chown(join(root, 'home/ann'), 1000, 1000)
    await chown(join(root, 'home/ann/.bashrc'), 1000, 1000)
    await writeFile(cli.configFile, FILES_ONLY)
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, said(first))
    mirror = join(cli.dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    const set = await twinsync('remote', 'set', mirror)
    assert.equal(set.code, 0, said(set))
    git(twinDir, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
  })
  after(() => cli.cleanup())

  it('a link into the twin and an ACL letting bob write ann\'s .bashrc (ann in group sudo) are high risk, each named with its reason; apply --yes refuses them', async () => {
    await serve({}, async (clone) => {
      const path = join(clone, 'system/files/manifest.json')
      const manifest = JSON.parse(await readFile(path, 'utf8')) as { entries: Array<Record<string, unknown>> }
      const motd = manifest.entries.find((e) => e.path === '/etc/motd') as Record<string, unknown>
      const bashrc = manifest.entries.find((e) => e.path === '/home/ann/.bashrc') as Record<string, unknown>
      // The mode's group bits are the ACL's mask (a mode the twin gives wins, as chmod would): rw-, or bob's entry is held back.
      bashrc.xattrs = { 'system.posix_acl_access': BOB_MAY_WRITE }
      bashrc.mode = '0664'
      // /etc/issue.net -> the twin's own copy of a file: what login shows is what the mirror pushes next.
      const { sha256: _sha, size: _size, content: _content, origin: _origin, ...owned } = motd
      manifest.entries.push({ ...owned, path: '/etc/issue.net', type: 'symlink', target: '/srv/twin/filesystem/etc/issue.net', mode: '0777' })
      manifest.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
      await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`)
    })
    // No terminal: pull fetches, shows the plan and asks for nothing (CONFIRMATION_REQUIRED).
    const pulled = await twinsync('pull')
    assert.match(pulled.stdout, /^Pulled 1 snapshot\(s\)/, said(pulled))
    const plan = await twinsync('plan')
    // Before: the link a low create, the ACL a medium "set system.posix_acl_access", neither with a reason.
    assert.match(plan.stdout, /\/etc\/issue\.net[^\n]*\[high risk\]\n(.*\n)*? +high risk: a link to a file in the twin's folder \/srv\/twin, TwinSync's own state \(a twin repository\): what a mirror pushes there/, said(plan))
    assert.match(plan.stdout, /\/home\/ann\/\.bashrc[^\n]*\[high risk\]\n(.*\n)*? +high risk: ann may become root \(in group sudo\): a startup file or folder of their home opened for writing by the user uid 1001 by an ACL/, said(plan))
    const applied = await twinsync('apply', '--yes')
    assert.equal(applied.code, 2, said(applied))
    assert.match(applied.stderr + applied.stdout, /HIGH_RISK_NOT_ACCEPTED/)
  })

  it('a plans/ command that runs a twin file through `cd /srv && sh twin/…`, `//` or a path relative to /: PLAN_INVALID naming the action, nothing run', async () => {
    for (const run of ['[sh, -c, "cd /srv && sh twin/scripts/x.sh"]', "[sh, -c, 'sh /srv//twin/scripts/x.sh']", '[sh, -c, "cd / && sh srv/twin/scripts/x.sh"]']) {
      await serve({ 'plans/x.yaml': `actions:\n  - run: ${run}\n`, 'scripts/x.sh': '#!/bin/sh\ntouch /pwned\n' })
      const pulled = await twinsync('pull')
      const plan = await twinsync('plan')
      assert.equal(plan.code, 2, `${run}: ${said(plan)}\npull: ${said(pulled)}`)
      assert.match(plan.stderr + plan.stdout, /PLAN_INVALID/, run)
      assert.match(plan.stderr + plan.stdout, /plans\/x\.yaml: "actions\[0\]": it names .*, a file of the twin repository \(\/srv\/twin\)/, run)
      await assert.rejects(readFile(join(root, 'pwned')), { code: 'ENOENT' })
    }
  })
})
