import { strict as assert } from 'node:assert'
import type { Provider } from '@twinsync/sdk'
import { PathClaims } from '@twinsync/sdk'
import { onlyVolatile, snapshotDomainLines, snapshotMessage, summarizeChanges } from '../src/snapshot/snapshot-summary.js'

const provider = (name: string, category: Provider['category'], twinPaths: string[], claims: string[] = []): Provider => ({
  name,
  version: '1.0.0',
  category,
  description: name,
  twinPaths,
  claims,
  detect: async () => ({ detected: true, diagnostics: [] }),
  collect: async () => ({ state: {}, documents: [], diagnostics: [] }),
})

describe('snapshot summary', () => {
  const providers = [
    provider('files', 'files', ['system/files/']),
    provider('apt', 'packages', ['system/packages/apt.json']),
    provider('cron', 'startup', ['system/startup/cron.json'], ['/var/spool/cron/crontabs/*']),
    provider('processes', 'facts', ['system/processes/']),
  ]
  const claims = new PathClaims()
  claims.claim('cron', '/var/spool/cron/crontabs/*')

  it('groups changes by the domain of the provider that owns each path', () => {
    const summary = summarizeChanges(
      [
        { path: 'filesystem/etc/hosts', change: 'M' },
        { path: 'filesystem/etc/new.conf', change: 'A' },
        { path: 'filesystem/var/spool/cron/crontabs/root', change: 'A' },
        { path: 'system/packages/apt.json', change: 'M' },
        { path: 'system/files/manifest.json', change: 'D' },
        { path: 'plans/x.yaml', change: 'A' },
      ],
      providers,
      claims,
    )
    assert.deepEqual(summary.files, { added: 1, changed: 1, removed: 1, paths: ['filesystem/etc/hosts', 'filesystem/etc/new.conf', 'system/files/manifest.json'] })
    assert.deepEqual(summary.startup, { added: 1, changed: 0, removed: 0, paths: ['filesystem/var/spool/cron/crontabs/root'] })
    assert.equal(summary.packages?.changed, 1)
    assert.equal(summary.twin?.added, 1)
    assert.equal(summary.facts, undefined)
  })

  it("spells out a machine name's line break and escape in the domain lines the CLI and the TUI print (session 43: the line broke in two)", () => {
    const summary = '/etc/second\nline: in sync\x1b[2J.conf added'
    const lines = snapshotDomainLines({}, { files: [{ summary }] } as unknown as Parameters<typeof snapshotDomainLines>[1])
    assert.deepEqual(lines, ['files     1 file: /etc/second\\nline: in sync\\e[2J.conf added'])
  })

  it('tells volatile-only changes from real ones', () => {
    assert.equal(onlyVolatile([{ path: 'system/processes/top.json', change: 'M' }, { path: 'system/logs/journal.txt', change: 'M' }]), true)
    assert.equal(onlyVolatile([{ path: 'system/processes/top.json', change: 'M' }, { path: 'system/os.json', change: 'M' }]), false)
    assert.equal(onlyVolatile([]), false)
  })

  it('writes the commit message with an ISO-8601 UTC time', () => {
    assert.equal(snapshotMessage(new Date('2026-11-16T12:34:56.789Z')), 'TwinSync snapshot 2026-11-16T12:34:56Z')
    assert.equal(snapshotMessage(new Date('2026-11-16T12:34:56Z'), 'before-upgrade'), 'TwinSync snapshot 2026-11-16T12:34:56Z [before-upgrade]')
  })
})
