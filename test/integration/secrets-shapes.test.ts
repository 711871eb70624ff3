import { strict as assert } from 'node:assert'
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, startGitRemote, type GitRemote, type Rootfs } from '../bed/index.js'
import { fakeChars, sessionEighteenFiles } from '../fixtures/secrets/samples.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

/** Every object of a repository (reachable or not), its refs and config, as one text (latin1). */
async function everything(gitDir: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const objects = await runOk(['git', '--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch', '--unordered'], env === undefined ? {} : { env })
  const refs = await runOk(['git', '--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname) %(contents)'], env === undefined ? {} : { env })
  const config = await readFile(join(gitDir, 'config'), 'latin1')
  return [objects.stdout, refs.stdout, config].join('\n')
}

/**
 * Session 18's attack on the realistic server root: 70 single-line shapes the detector let
 * through before (provider tokens by their prefix where no key names them, keys run together,
 * PHP constants, tools' positional passwords, SNMP communities, Squid, Monit, cntlm, vpnc,
 * doubled-dollar and base64 hashes), planted where administrators keep them — configs under /etc,
 * /opt, /var/www and root's dotfiles, units, cron files, scripts, and the syslog (the command
 * lines as cron lines, the log lines in /var/log/syslog). After a snapshot and a push to a mirror,
 * none may be in any object, ref or config of the twin or of the mirror, nor in anything printed.
 */
describe('secrets on the server root, session 18: single-line shapes in the twin and the pushed mirror', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let remote: GitRemote
  const TOKEN = `tok_${fakeChars('s18-remote-token', 24, '0123456789abcdef')}`
  const planted = sessionEighteenFiles()
  const outputs: string[] = []
  const plantedTexts: Array<[string, string]> = []
  const twinsync = async (args: string[], options: { input?: string } = {}) => {
    const r = await cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir], options)
    outputs.push(r.stdout, r.stderr)
    return r
  }
  const leaked = (text: string) => planted.filter((p) => text.includes(p.value)).map((p) => p.kind)

  before(async () => {
    rootfs = await freshRootfs('server')
    cli = await cliSandbox()
    remote = await startGitRemote({ token: TOKEN })
    await writeFile(cli.configFile, ['files:', '  include: [/etc, /usr/local/bin, /opt, /var/www, "~/.config", "~/.acme.sh"]', ''].join('\n'))
    const byPath = new Map<string, string[]>()
    for (const p of planted) {
      // A command line runs from root's crontab-like cron file; a log line is the syslog's.
      const path = p.path === 'cmdline' ? '/etc/cron.d/s18-commands' : p.path === 'journal' ? '/var/log/syslog' : p.path
      const text = p.path === 'cmdline' ? `*/10 * * * * root ${p.text}\n` : p.text
      byPath.set(path, [...(byPath.get(path) ?? []), text])
    }
    for (const [path, texts] of byPath) {
      const text = texts.join('')
      const mode = planted.find((p) => p.path === path)?.mode ?? (path === '/var/log/syslog' ? 0o640 : 0o644)
      plantedTexts.push([path, text])
      const target = join(rootfs.dir, path)
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, text)
      await chmod(target, mode)
      await chown(target, 0, 0)
    }
    const r = await twinsync(['snapshot', '--init', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const url = await remote.createBareRepo('twin')
    const set = await twinsync(['remote', 'set', url, '--token-stdin'], { input: `${TOKEN}\n` })
    assert.equal(set.code, 0, set.stdout + set.stderr)
    const pushed = await twinsync(['push', '--retry'])
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr)
  })
  after(async () => {
    await remote?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('keeps every planted secret out of every object, ref and config of the twin and of the mirror, and out of the output', async () => {
    assert.equal(planted.length, 70)
    assert.deepEqual(leaked(await everything(join(cli.twinDir, '.git'))), [])
    assert.deepEqual(leaked(await everything(remote.repoPath('twin'), remote.gitEnv(null))), [])
    assert.deepEqual(leaked(outputs.join('\n')), [])
  })

  it('looked at every planted file (a secret in the manifest) and kept the syslog readable, its values redacted', async () => {
    const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as { entries: Array<{ path: string; secret?: boolean }> }
    // The syslog is the logs provider's and rc.local the startup provider's (redacted in place in their documents).
    const notSecret = plantedTexts.map(([path]) => path).filter((path) => !['/var/log/syslog', '/etc/rc.local'].includes(path) && manifest.entries.find((e) => e.path === path)?.secret !== true)
    assert.deepEqual(notSecret, [])
    const rcLocal = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:filesystem/etc/rc.local'])).stdout
    assert.match(rcLocal, /wpa_passphrase Office '<redacted>'/)
    const syslog = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/logs/syslog.txt'])).stdout
    assert.match(syslog, /slackbot\[77\]: rotated, refresh <redacted>\n/)
    assert.match(syslog, /tailscale up failed for <redacted>: 401\n/)
  })

  it("finds in every planted file what it finds with every rule run on every whole text (the hand rules' prefilters skip nothing they keep)", async () => {
    const findings = await assertPrefiltersFindTheSame(plantedTexts)
    assert.ok(findings >= planted.length, `${findings} findings in ${plantedTexts.length} planted files`)
  })
})
