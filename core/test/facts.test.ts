import { strict as assert } from 'node:assert'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sinon from 'sinon'
import { DEFAULT_LIMITS, LocalHost, MemoryCache, RecordingHost } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { parseEnvFile } from '../src/facts/fact-provider.js'
import { parseCpuinfo, parseMeminfo } from '../src/facts/hardware-facts.js'
import { LogFacts, tail } from '../src/facts/log-facts.js'
import { parseDefaultRoute, parseResolvConf } from '../src/facts/network-facts.js'
import { parsePasswdNames, parseProcess } from '../src/facts/process-facts.js'

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
    assert.deepEqual(p, { pid: 42, user: 'ann', command: 'node server.js', cpuPercent: 20, rssBytes: 2048 * 1024 })
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
})
