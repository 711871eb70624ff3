import { strict as assert } from 'node:assert'
import { existsSync, realpathSync } from 'node:fs'
import { SAFE_PATH } from '@twinsync/sdk'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { requireRoot, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, startGitRemote, type GitRemote } from '../bed/index.js'
import { plantedCommandLines, plantedFiles, plantedLogLines, type PlantedSecret } from '../fixtures/secrets/samples.js'
import { json, TWINSYNC_BIN } from '../support/cli.js'
import { everything, PlantedRoot } from '../support/planted-root.js'

/**
 * The corpus: secrets planted the way real servers have them, in files, logs and command lines
 * of a Debian root. After a snapshot and a push, no object of the twin or of the mirror holds
 * any of them; a secret committed by hand is refused at push time and forgotten with `forget`.
 */
describe('secrets: nothing planted in a Debian root reaches a commit or a push', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const TOKEN = 'tok_' + 'f00dfeedc0ffee00112233'
  let root: PlantedRoot
  let remote: GitRemote
  const files = plantedFiles()
  const logs = plantedLogLines()
  const commands = plantedCommandLines()
  const all: PlantedSecret[] = [...files, ...logs, ...commands]
  /** Every object a git repository holds (reachable or not), its refs and config. */
  const everyObject = (gitDir: string) => everything(gitDir)
  // The helper's, under the names the tests below use.
  let twinsync: PlantedRoot['twinsync']
  let plant: PlantedRoot['plant']
  let leaked: PlantedRoot['leaked']
  let cli: PlantedRoot['cli']
  let rootfs: PlantedRoot['rootfs']
  let outputs: string[]

  before(async () => {
    // The users' own secret files are in scope too, so the snapshot has to keep them out itself.
    root = await PlantedRoot.create({
      image: 'base',
      include: ['/etc', '/usr/local/etc', '/usr/local/bin', '~/.config', '~/.netrc', '~/.pgpass', '~/.docker'],
    })
    ;({ twinsync, plant, leaked, cli, rootfs, outputs } = root)
    for (const s of all) root.secret(s.kind, s.value)
    for (const f of files) await plant(f.path, f.text, f.path.startsWith('/root/') ? 0o600 : 0o644)
    await plant('/var/log/syslog', logs.map((l) => `2026-11-30T05:00:00+00:00 server ${l.text}`).join('\n') + '\n', 0o640)
    const [service, crontab, rcLocal] = commands as [PlantedSecret, PlantedSecret, PlantedSecret]
    await plant('/etc/systemd/system/myapp.service', `[Unit]\nDescription=My app\n\n[Service]\nExecStart=${service.text}\n\n[Install]\nWantedBy=multi-user.target\n`)
    await plant('/var/spool/cron/crontabs/root', `# m h dom mon dow command\n*/5 * * * * ${crontab.text}\n`, 0o600)
    await plant('/etc/rc.local', `#!/bin/sh -e\n${rcLocal.text}\nexit 0\n`, 0o755)
    assert.ok(all.length >= 30, `${all.length} planted secrets`)
    const r = await twinsync(['snapshot', '--init', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  })
  after(async () => {
    await remote?.close()
    await root?.cleanup()
  })

  it(`keeps every planted secret out of every object of the twin`, async () => {
    assert.deepEqual(leaked(await everyObject(join(cli.twinDir, '.git'))), [])
    assert.deepEqual(leaked(outputs.join('\n')), [], 'no output names a secret either')
  })

  it('records a file with a finding as metadata and a keyed hash, and keeps facts readable with the value redacted', async () => {
    const manifest = JSON.parse(await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json']).then((r) => r.stdout)) as {
      entries: Array<{ path: string; secret?: boolean; secretHash?: string; sha256?: string }>
    }
    for (const path of ['/etc/app/deploy.env', '/etc/myapp/my.cnf', '/etc/postfix/sasl_passwd', '/etc/systemd/system/myapp.service', '/root/.netrc']) {
      const e = manifest.entries.find((x) => x.path === path)
      assert.equal(e?.secret, true, `${path} is secret`)
      assert.match(e?.secretHash ?? '', /^hmac-sha256:[0-9a-f]{64}$/)
      assert.equal(e?.sha256, undefined)
    }
    const syslog = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/logs/syslog.txt'])).stdout
    assert.match(syslog, /myapp\[311\]: login to db failed: user=app password=<redacted> retrying/)
    // cron and autostart mirror these themselves: the command line stays, the value is redacted.
    const crontab = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/var/spool/cron/crontabs/root'])).stdout
    assert.match(crontab, /^\*\/5 \* \* \* \* \/usr\/local\/bin\/agent --token <redacted> --interval 30$/m)
    const rcLocal = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/rc.local'])).stdout
    assert.match(rcLocal, /^mysqldump -u backup -p<redacted> --all-databases$/m)
  })

  it('pushes the twin with none of them, and the mirror holds none', async () => {
    remote = await startGitRemote({ token: TOKEN })
    const url = await remote.createBareRepo('twin')
    assert.equal((await twinsync(['remote', 'set', url, '--token-stdin'], { input: `${TOKEN}\n` })).code, 0)
    const pushed = await twinsync(['push', '--retry', '--json'])
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
    assert.deepEqual(leaked(await everyObject(remote.repoPath('twin'))), [])
  })

  it('refuses to push a secret committed by hand with its file and line, and forget takes it out of all history', async () => {
    const value = 'Hand5ecretValue77'
    const second = 'An0therHandS3cret42'
    await mkdir(join(cli.twinDir, 'filesystem/etc/legacy'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/legacy/app.conf'), `[db]\npassword = ${value}\n[api]\napi_key = ${second}\n`)
    await runOk(['git', '-C', cli.twinDir, 'add', '-A'])
    await runOk(['git', '-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '--quiet', '-m', 'an older snapshot'])
    const refused = await twinsync(['push', '--retry'])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /\[SECRET_IN_PUSH\] Not pushed: secrets in filesystem\/etc\/legacy\/app\.conf:2 \(credential-assignment\)/)
    assert.match(refused.stdout, /filesystem\/etc\/legacy\/app\.conf:4 \(credential-assignment\)/, 'every finding, not only the first of a file')
    assert.ok(!(refused.stdout + refused.stderr).includes(value))
    assert.ok(!(refused.stdout + refused.stderr).includes(second))

    const forget = await twinsync(['forget', '/etc/legacy/app.conf'])
    assert.equal(forget.code, 0, forget.stdout + forget.stderr)
    assert.match(forget.stdout, /Forgot filesystem\/etc\/legacy\/app\.conf/)
    assert.match(forget.stdout, /warning: history was rewritten .*needs a forced push/)
    assert.match(forget.stdout, /Next step: .*twinsync push --retry --force/)
    assert.ok(!(await everyObject(join(cli.twinDir, '.git'))).includes(value), 'forgotten from every object')
    const again = await twinsync(['push', '--retry', '--json'])
    assert.equal(again.code, 0, again.stdout + again.stderr)
    assert.ok(!(await everyObject(remote.repoPath('twin'))).includes(value))

    const nothing = await twinsync(['forget', '/etc/legacy/app.conf'])
    assert.equal(nothing.code, 2)
    assert.match(nothing.stderr, /\[FORGET_NOTHING\]/)
  })

  // Session 17: a forget killed after its refs moved and before the working twin followed left the
  // forgotten file there; the next (scheduled) snapshot took it for an edit and committed it back
  // (refs/twinsync/intended), and a rerun of forget was refused TWIN_DIRTY.
  it('a forget killed after its refs moved: every command refuses the twin until `forget` again finishes it, and nothing commits the file back', async () => {
    const value = 'K1lledForgetS3cret'
    await mkdir(join(cli.twinDir, 'filesystem/etc/legacy'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/legacy/old.conf'), `[db]\npassword = ${value}\n`)
    await runOk(['git', '-C', cli.twinDir, 'add', '-A'])
    await runOk(['git', '-C', cli.twinDir, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '--quiet', '-m', 'an older snapshot'])
    // Once forget's ref transaction is committed, twinsync is killed right there. TwinSync's git runs
    // no hooks and is the system's whatever PATH says (own-env.ts): in a private mount namespace, a
    // wrapper stands in for the system's git, runs it, and kills twinsync (its parent) after that update-ref.
    requireRoot('standing a wrapper in for git in a private mount namespace')
    const git = realpathSync(SAFE_PATH.split(':').map((d) => join(d, 'git')).find((f) => existsSync(f)) as string)
    const realGit = join(cli.dir, 'real-git')
    const wrapper = join(cli.dir, 'git-wrapper')
    await writeFile(realGit, '')
    await writeFile(wrapper, `#!/bin/sh\n${realGit} "$@"\nrc=$?\ncase " $* " in *" update-ref -m twinsync forget "*) [ $rc -eq 0 ] && kill -9 $PPID;; esac\nexit $rc\n`, { mode: 0o755 })
    const script = `/usr/bin/mount --bind ${git} ${realGit} && /usr/bin/mount --bind ${wrapper} ${git} && exec node "$@"`
    const killed = await run(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', TWINSYNC_BIN, 'forget', '/etc/legacy/old.conf', '--root', rootfs.dir, '--repo', cli.twinDir], {
      env: cli.env({ TWINSYNC_CREDENTIALS: join(cli.dir, 'credentials') }),
      timeoutMs: 120_000,
    })
    assert.equal(killed.signal, 'SIGKILL', `killed where the wrapper says: ${killed.stdout}${killed.stderr}`)
    const refs = async () => (await runOk(['git', '-C', cli.twinDir, 'for-each-ref', '--format=%(refname) %(objectname)'])).stdout
    const refsBefore = await refs()
    const snapshot = await twinsync(['snapshot'])
    assert.equal(snapshot.code, 2, snapshot.stdout + snapshot.stderr)
    assert.match(snapshot.stderr, /\[FORGET_UNFINISHED\]/)
    assert.match(snapshot.stderr, /Next step: Run `twinsync forget [^`]*` again/)
    assert.equal(await refs(), refsBefore, 'nothing committed')
    const pull = await twinsync(['pull', '--no-apply'])
    assert.equal(pull.code, 2, pull.stdout + pull.stderr)
    assert.match(pull.stderr, /\[FORGET_UNFINISHED\]/)
    const finished = await twinsync(['forget', '/etc/legacy/old.conf'])
    assert.equal(finished.code, 0, finished.stdout + finished.stderr)
    assert.match(finished.stdout, /Forgot filesystem\/etc\/legacy\/old\.conf/)
    await assert.rejects(stat(join(cli.twinDir, 'filesystem/etc/legacy/old.conf')), { code: 'ENOENT' })
    assert.equal((await runOk(['git', '-C', cli.twinDir, 'status', '--porcelain'])).stdout, '')
    assert.ok(!(await everyObject(join(cli.twinDir, '.git'))).includes(value), 'forgotten from every object')
    assert.equal((await twinsync(['snapshot'])).code, 0)
    assert.ok(!(await everyObject(join(cli.twinDir, '.git'))).includes(value), 'not committed back')
  })

  // Session 25 (red team): forget took the document out and the files manifest kept its entry,
  // which the files provider reads as "deleted in the twin": plan (and `apply --yes`, a scheduled
  // `pull --yes`) deleted the machine's file. Out of history is not off the machine.
  it("forget takes a machine file out of the twin's history, never off the machine: no plan deletes it until a snapshot records it again", async () => {
    await plant('/etc/oldapp/app.conf', 'listen = 8080\n', 0o644)
    assert.equal((await twinsync(['snapshot'])).code, 0)
    const forget = await twinsync(['forget', '/etc/oldapp'])
    assert.equal(forget.code, 0, forget.stdout + forget.stderr)
    const planned = await twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stdout + planned.stderr)
    const plan = JSON.parse(planned.stdout) as { changes: Array<{ id: string }>; diagnostics: Array<{ code: string; path?: string }> }
    assert.deepEqual(plan.changes.filter((c) => c.id.includes('/etc/oldapp')).map((c) => c.id), [], 'no delete planned')
    assert.ok(plan.diagnostics.some((d) => d.code === 'FORGOTTEN_NOT_DELETED' && d.path === '/etc/oldapp/app.conf'), JSON.stringify(plan.diagnostics))
    const applied = await twinsync(['apply', '--yes'])
    assert.ok(applied.code === 0 || applied.code === 1, applied.stdout + applied.stderr)
    assert.ok(existsSync(join(rootfs.dir, 'etc/oldapp/app.conf')), 'the machine keeps its file')
    // A snapshot records the machine again (the path is not ignored): nothing left to hold back.
    assert.equal((await twinsync(['snapshot'])).code, 0)
    assert.ok(!existsSync(join(cli.twinDir, '.git/twinsync/forgotten.json')))
    const again = JSON.parse((await twinsync(['plan', '--json'])).stdout) as { changes: Array<{ id: string }> }
    assert.deepEqual(again.changes.filter((c) => c.id.includes('/etc/oldapp')), [])
  })

  it('shows that a secret changed, by its keyed hash, without its content', async () => {
    const path = '/etc/myapp/my.cnf'
    await plant(path, '[client]\nuser = app\npassword = An0therSecretPw\n')
    // The plan says it cannot put the secret back, before anyone approves it.
    const plan = await twinsync(['plan'])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    assert.match(plan.stdout, /No changes planned: the machine \(.*\) matches .*, but for a secret no plan can put back \(below\)\./)
    assert.match(plan.stdout, /Not put back: \/etc\/myapp\/my\.cnf differs from the twin, which holds only a keyed hash of it \(a secret\); this plan leaves it as it is\./)
    assert.equal((await twinsync(['snapshot'])).code, 0)
    const text = await twinsync(['show', 'HEAD'])
    assert.match(text.stdout, /\/etc\/myapp\/my\.cnf changed \(a secret; the twin holds only its keyed hash\)/)
    // And a revert to before the change says the same under its plan (nothing applied without a terminal).
    const revert = await twinsync(['revert', 'HEAD~1'])
    assert.match(revert.stdout, /Not put back: \/etc\/myapp\/my\.cnf differs from the twin/, revert.stdout + revert.stderr)
    assert.ok(!(await everyObject(join(cli.twinDir, '.git'))).includes('An0therSecretPw'))
  })

  it('shows a path that became ignored as no longer tracked, not as deleted', async () => {
    await writeFile(
      cli.configFile,
      ['files:', '  include: [/etc, /usr/local/etc, /usr/local/bin, "~/.config", "~/.netrc", "~/.pgpass", "~/.docker"]', '  ignore: [/etc/motd]', ''].join('\n'),
    )
    assert.equal((await twinsync(['snapshot'])).code, 0)
    const show = json<{ domains: { files?: Array<{ operation: string; resource: string; summary: string }> } }>(await twinsync(['show', 'HEAD', '--json']))
    const motd = (show.domains.files ?? []).filter((c) => c.resource === '/etc/motd')
    assert.deepEqual(motd.map((c) => [c.operation, c.summary]), [['untrack', '/etc/motd no longer tracked (still on the machine)']])
    const text = await twinsync(['show', 'HEAD'])
    assert.match(text.stdout, /\/etc\/motd no longer tracked \(still on the machine\)/)
    assert.doesNotMatch(text.stdout, /\/etc\/motd removed|delete \/etc\/motd/i)
  })
})
