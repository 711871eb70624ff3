import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sinon from 'sinon'
import { DEFAULT_LIMITS, LocalHost, MemoryCache, RecordingHost } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { parseEnvFile } from '../src/facts/fact-provider.js'
import { parseCpuinfo, parseMeminfo } from '../src/facts/hardware-facts.js'
import { LogFacts, tail } from '../src/facts/log-facts.js'
import { OsFacts } from '../src/facts/os-facts.js'
import { parseDefaultRoute, parseResolvConf } from '../src/facts/network-facts.js'
import { parseParentPid, parsePasswdNames, parseProcess, ProcessFacts, withoutDescendants } from '../src/facts/process-facts.js'
import { toFigures } from '../src/facts/fact-provider.js'

describe('fact parsers', () => {
  it('reads os-release with and without quotes', () => {
    assert.deepEqual(parseEnvFile('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n# c\n'), {
      ID: 'debian',
      VERSION_ID: '12',
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
    })
  })

  it('reads cpuinfo and meminfo', () => {
    assert.deepEqual(parseCpuinfo('processor\t: 0\nmodel name\t: Xeon\n\nprocessor\t: 1\nmodel name\t: Xeon\n'), { model: 'Xeon', count: 2 })
    assert.deepEqual(parseMeminfo('MemTotal:       2048 kB\nHugePages_Total:       0\n'), { MemTotal: 2048 * 1024, HugePages_Total: 0 })
  })

  it('reads resolvers and the default route', () => {
    assert.deepEqual(parseResolvConf('# x\nnameserver 10.0.0.2\nsearch lan example.org\nnameserver ::1\n'), {
      nameservers: ['10.0.0.2', '::1'],
      search: ['lan', 'example.org'],
    })
    const route = 'Iface\tDestination\tGateway \tFlags\n eth0\t0000A8C0\t00000000\t0001\neth0\t00000000\t0100A8C0\t0003\n'
    assert.deepEqual(parseDefaultRoute(route), { interface: 'eth0', gateway: '192.168.0.1' })
    assert.equal(parseDefaultRoute('Iface\tDestination\n'), null)
  })

  it('reads a process whose name has spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, () => '0')
    fields[11] = '300' // utime (ticks), counted from after "(comm) "
    fields[12] = '100'
    fields[19] = '1000' // start time: 10 s after boot
    const stat = `42 (my (odd) name) ${fields.join(' ')}`
    const p = parseProcess(42, stat, 'Uid:\t1000\t1000\t1000\t1000\nVmRSS:\t  2048 kB\n', 'node\0server.js\0', 30, parsePasswdNames('ann:x:1000:1000::/home/ann:/bin/sh\n'))
    assert.deepEqual(p, { pid: 42, user: 'ann', command: 'node server.js', cpuPercent: 20, rssBytes: 2_100_000 }) // 2,097,152 to 3 figures
    assert.equal(parseParentPid(`42 (a) b) S 7 ${fields.slice(2).join(' ')}`), 7)
  })

  it('keeps volatile quantities to three significant figures', () => {
    assert.equal(toFigures(13_291_520, 3), 13_300_000)
    assert.equal(toFigures(77_343_485_952, 3), 77_300_000_000)
    assert.equal(toFigures(0, 3), 0)
    assert.equal(toFigures(999, 3), 999)
  })

  it('leaves out a process and everything below it, and survives a parent loop', () => {
    const s = (pid: number, ppid: number) => ({ sample: { pid, user: 'root', command: `c${pid}`, cpuPercent: 0, rssBytes: 0 }, ppid })
    const kept = withoutDescendants([s(1, 0), s(10, 1), s(11, 10), s(12, 11), s(20, 1), s(30, 31), s(31, 30)], 10)
    assert.deepEqual(kept.map((p) => p.pid), [1, 20, 30, 31])
  })

  it('bounds a log tail by lines and by bytes', () => {
    const log = Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n')
    assert.equal(tail(log, { limits: { ...DEFAULT_LIMITS, logLines: 3 } }), 'line 997\nline 998\nline 999\n')
    const bytes = tail(log, { limits: { ...DEFAULT_LIMITS, logLines: 1000, logBytes: 20 } })
    assert.ok(Buffer.byteLength(bytes) <= 20)
    assert.equal(bytes, 'line 998\nline 999\n')
    assert.equal(tail(log, { limits: { ...DEFAULT_LIMITS, logLines: 0 } }), '')
  })
})

describe('os: dpkg\'s architecture read again only when its status file moved', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-os-'))
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true })
    writeFileSync(join(root, 'var/lib/dpkg/status'), 'Package: base-files\nArchitecture: all\n\nPackage: dpkg\nStatus: install ok installed\nArchitecture: arm64\n\n')
  })
  afterEach(() => {
    sinon.restore()
    rmSync(root, { recursive: true, force: true })
  })

  it('keeps the answer while the file keeps its stat data, never for a racily clean file, and follows a change', async () => {
    const host = new LocalHost(root)
    const read = sinon.spy(host, 'readTextIfExists')
    const statusReads = () => read.getCalls().filter((c) => c.args[0] === '/var/lib/dpkg/status').length
    const cache = new MemoryCache()
    const arch = async () => ((await new OsFacts().collect({ ctx: createTestContext(root, { host, cache }) })).state['system/os.json'] as { architecture: unknown }).architecture
    // Its times an hour ahead: too recent to trust however late each collect starts (under load
    // the second started more than RACY_MS after the write); then in the past, not on a whole second.
    const status = join(root, 'var/lib/dpkg/status')
    const ahead = new Date(Date.now() + 3_600_000)
    utimesSync(status, ahead, ahead)
    assert.equal(await arch(), 'arm64')
    assert.equal(await arch(), 'arm64')
    assert.equal(statusReads(), 2, 'written a moment ago: read every time')
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000 + 123)
    utimesSync(status, past, past)
    await new Promise((r) => setTimeout(r, 250)) // past the racily-clean window
    assert.equal(await arch(), 'arm64')
    assert.equal(await arch(), 'arm64')
    assert.equal(statusReads(), 3, 'unchanged since: read once, then kept')
    writeFileSync(join(root, 'var/lib/dpkg/status'), 'Package: dpkg\nArchitecture: riscv64\n\n')
    assert.equal(await arch(), 'riscv64')
    rmSync(join(root, 'var/lib/dpkg/status'))
    assert.equal(await arch(), null, 'an offline root without dpkg data has none')
  })
})

describe('logs: read again only when their files moved', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-logs-'))
    mkdirSync(join(root, 'var/log/journal/0123'), { recursive: true })
    writeFileSync(join(root, 'var/log/journal/0123/system.journal'), 'binary journal')
    writeFileSync(join(root, 'var/log/syslog'), 'boot ok password=hunter2hunter2\n')
  })
  afterEach(() => {
    sinon.restore()
    rmSync(root, { recursive: true, force: true })
  })
  const settle = () => new Promise((r) => setTimeout(r, 250)) // past the racily-clean window

  it('runs journalctl and reads syslog once while nothing changed, and gives the same redacted text', async () => {
    let entries = 1
    const host = new RecordingHost(new LocalHost(root), {
      which: (tool) => (tool === 'journalctl' ? '/usr/bin/journalctl' : undefined),
      query: () => ({ stdout: Array.from({ length: entries }, (_, i) => `2026-01-01T00:00:0${i} host app[1]: token=ghp_${'a'.repeat(36)} line ${i}\n`).join('') }),
    })
    const readFile = sinon.spy(host, 'readFile')
    const cache = new MemoryCache()
    const collect = async () => (await new LogFacts().collect({ ctx: createTestContext(root, { host, cache }) })).state
    await settle()
    const first = await collect()
    assert.equal(host.queries.length, 1)
    assert.doesNotMatch(JSON.stringify(first), /hunter2|ghp_a/, 'redacted')
    assert.deepEqual(await collect(), first)
    assert.equal(host.queries.length, 1, 'journalctl did not run again')
    assert.equal(readFile.callCount, 1, 'syslog was not read again')

    entries = 2
    appendFileSync(join(root, 'var/log/journal/0123/system.journal'), 'more')
    appendFileSync(join(root, 'var/log/syslog'), 'second line\n')
    await settle()
    const moved = await collect()
    assert.equal(host.queries.length, 2)
    assert.equal(readFile.callCount, 2)
    assert.match(String(moved['system/logs/journal.txt']), /line 1/)
    assert.match(String(moved['system/logs/syslog.txt']), /second line/)
  })

  it('gives an offline journal folder with no file below it the text the real journalctl gives, without running it; a file below it, journalctl', async () => {
    rmSync(join(root, 'var/log/journal/0123/system.journal'))
    const journalctl = execFileSync('sh', ['-c', 'command -v journalctl'], { encoding: 'utf8' }).trim()
    const host = new RecordingHost(new LocalHost(root), {
      which: (tool) => (tool === 'journalctl' ? journalctl : undefined),
      query: () => ({ stdout: 'journalctl ran\n' }),
    })
    const collect = async () => (await new LogFacts().collect({ ctx: createTestContext(root, { host, cache: new MemoryCache() }) })).state
    // What journalctl itself prints for this folder (and it exits 0, or execFileSync throws).
    const real = execFileSync(journalctl, ['--directory', join(root, 'var/log/journal'), '--no-pager', '--quiet', '-o', 'short-iso', '-n', String(DEFAULT_LIMITS.logLines)])
    const empty = await collect()
    assert.equal(host.queries.length, 0, 'no journalctl')
    assert.equal(empty['system/logs/journal.txt'], tail(real, { limits: DEFAULT_LIMITS }))
    writeFileSync(join(root, 'var/log/journal/0123/user-1000.journal'), 'binary journal')
    assert.equal((await collect())['system/logs/journal.txt'], 'journalctl ran\n')
    assert.equal(host.queries.length, 1)
  })
})

describe('processes: top.json without the snapshot itself, the same document from run to run', () => {
  let root: string
  // A fake /proc: init, two daemons, this process (the snapshot), a git it started and that git's child.
  const procs = [
    { pid: 1, ppid: 0, comm: 'systemd', cmd: '/sbin/init', rssKb: 12_000 },
    { pid: 300, ppid: 1, comm: 'nginx', cmd: 'nginx: master process', rssKb: 9_981 },
    { pid: 301, ppid: 1, comm: 'postgres', cmd: '/usr/lib/postgresql/17/bin/postgres', rssKb: 30_000 },
    { pid: process.pid, ppid: 1, comm: 'node', cmd: 'node twinsync snapshot', rssKb: 110_000 },
    { pid: 900_001, ppid: process.pid, comm: 'git', cmd: 'git status', rssKb: 5_000 },
    { pid: 900_002, ppid: 900_001, comm: 'git', cmd: 'git index-pack', rssKb: 4_000 },
  ]
  const write = (extraKb: number) => {
    for (const p of procs) {
      const fields = Array.from({ length: 50 }, () => '0')
      fields[0] = 'S'
      fields[1] = String(p.ppid)
      fields[11] = String(p.pid % 97) // utime
      fields[19] = '100' // started 1 s after boot
      mkdirSync(join(root, 'proc', String(p.pid)), { recursive: true })
      writeFileSync(join(root, 'proc', String(p.pid), 'stat'), `${p.pid} (${p.comm}) ${fields.join(' ')}`)
      writeFileSync(join(root, 'proc', String(p.pid), 'status'), `Uid:\t0\t0\t0\t0\nVmRSS:\t${p.rssKb + extraKb} kB\n`)
      writeFileSync(join(root, 'proc', String(p.pid), 'cmdline'), p.cmd.replaceAll(' ', '\0'))
    }
  }
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-proc-'))
    mkdirSync(join(root, 'etc'), { recursive: true })
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n')
    mkdirSync(join(root, 'proc'))
    writeFileSync(join(root, 'proc/uptime'), '3600.5 7000.0\n')
  })
  afterEach(() => {
    sinon.restore()
    rmSync(root, { recursive: true, force: true })
  })

  it('leaves out the snapshot and what it started; the order /proc lists them in and a few pages of RSS change nothing', async () => {
    write(0)
    const host = new RecordingHost(new LocalHost(root), { live: true })
    const collect = async () => String((await new ProcessFacts().collect({ ctx: createTestContext(root, { host }) })).documents[0]?.content)
    const first = await collect()
    const top = JSON.parse(first) as { byMemory: Array<{ pid: number; rssBytes: number }>; byCpu: Array<{ pid: number }>; count: number }
    assert.deepEqual(top.byMemory.map((p) => p.pid), [301, 1, 300])
    assert.deepEqual(new Set(top.byCpu.map((p) => p.pid)), new Set([1, 300, 301]))
    assert.equal(top.count, 3)
    assert.deepEqual(top.byMemory.map((p) => p.rssBytes), [30_700_000, 12_300_000, 10_200_000])

    const listed = await host.readdir('/proc')
    sinon.stub(host, 'readdir').resolves([...listed].reverse())
    write(8) // two pages more for every process
    assert.equal(await collect(), first, 'byte-identical')
  })
})
