import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import type { Provider, TwinDocument } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk'
import { checkConformance, createTestContext, type ConformanceOptions } from '@twinsync/sdk/conformance'
import { builtinProviders } from '../../core/src/providers/builtin-providers.js'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, run, runOk, type Rootfs } from '../bed/index.js'

/**
 * The conformance kit that plugin authors run, run on every provider TwinSync ships, against a
 * real Debian root: read-only and deterministic collect, stable documents in lane, load/diff
 * round trip, and an empty root handled.
 */
describe('conformance kit on every built-in provider', function () {
  this.timeout(600_000)
  let rootfs: Rootfs
  let providers: Provider[]

  before(async () => {
    rootfs = await freshRootfs()
    providers = (await builtinProviders()).map((p) => p.provider)
  })
  after(() => rootfs?.cleanup())

  it('each provider the root has conforms; facts of a running system say "not detected" on a root that is not running', async () => {
    const report: Record<string, string[]> = {}
    const detected: string[] = []
    for (const provider of providers) {
      // The provider's own config defaults; every built-in's claims, as the host registers them.
      const ctx = createTestContext(rootfs.dir, { providers: [provider, ...providers.filter((p) => p !== provider)] })
      const problems = await checkConformance(provider, ctx)
      const absent = problems.find((p) => p.startsWith('detect() says the domain is absent'))
      if (absent === undefined) detected.push(provider.name)
      report[provider.name] = problems.filter((p) => p !== absent)
    }
    assert.deepEqual(report, Object.fromEntries(providers.map((p) => [p.name, []])))
    for (const name of ['files', 'apt', 'systemd', 'cron']) assert.ok(detected.includes(name), `${name} is detected on a Debian root: ${detected.join(', ')}`)
  })

  it('the files provider also plans, applies and re-applies an edited file through the kit (schema, apply then collect clean, twice unchanged, a forged hostile change refused)', async () => {
    const files = providers.find((p) => p.name === 'files') as Provider
    const ctx = createTestContext(rootfs.dir, { providers: [files, ...providers.filter((p) => p !== files)] })
    // A forged twin asking for root's authorized_keys (outside files.include): named by outOfScope, refused by apply.
    const key = 'ssh-ed25519 AAAA conformance-kit\n'
    const outsideEdit = (docs: readonly TwinDocument[]) => [
      ...editJson<{ entries: Array<Record<string, unknown>> }>(docs, 'system/files/manifest.json', (m) => {
        m.entries.push({ path: '/root/.ssh/authorized_keys', type: 'file', mode: '0600', owner: 'root', uid: 0, group: 'root', gid: 0, size: key.length, content: 'mirrored', sha256: createHash('sha256').update(key).digest('hex') })
        m.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
      }),
      { path: 'filesystem/root/.ssh/authorized_keys', content: key },
    ]
    const problems = await checkConformance(files, ctx, {
      edit: () => [{ path: 'filesystem/etc/motd', content: 'Edited by the conformance kit\n' }],
      apply: true,
      outsideEdit,
    })
    assert.deepEqual(problems, [])
  })

  /** A JSON document of `docs`, changed by `edit`, in stable form. */
  const editJson = <T>(docs: readonly TwinDocument[], path: string, edit: (doc: T) => void): TwinDocument[] => {
    const doc = JSON.parse(String(docs.find((d) => d.path === path)?.content)) as T
    edit(doc)
    return [{ path, content: stableStringify(doc) }]
  }
  type AptDoc = { nativeArchitecture: string; packages: Record<string, unknown> }
  type UnitsDoc = { units: Record<string, { state: string; preset?: string }> }
  // One real edit per domain, applied to the root by the kit: apply, collect again (diff empty),
  // apply again (every change unchanged, the root left as it is), ids stable and valid.
  const edits: Record<string, ConformanceOptions> = {
    apt: {
      edit: (docs) =>
        editJson<AptDoc>(docs, 'system/packages/apt.json', (d) => {
          d.packages['hello'] = { architecture: d.nativeArchitecture, manual: true, hold: true }
          ;(d.packages['cron'] as { manual: boolean }).manual = false
        }),
      hostileEdit: (docs, name) => editJson<AptDoc>(docs, 'system/packages/apt.json', (d) => void (d.packages[name] = { architecture: d.nativeArchitecture, manual: true, hold: false })),
    },
    systemd: {
      edit: (docs) =>
        editJson<UnitsDoc>(docs, 'system/services/units.json', (d) => {
          ;(d.units['cron.service'] as { state: string }).state = 'disabled'
          ;(d.units['console-getty.service'] as { state: string }).state = 'enabled'
          ;(d.units['e2scrub_reap.service'] as { state: string }).state = 'masked'
        }),
      hostileEdit: (docs, name) => editJson<UnitsDoc>(docs, 'system/services/units.json', (d) => void (d.units[name] = { state: 'enabled' })),
    },
    cron: {
      edit: () => [{ path: 'filesystem/var/spool/cron/crontabs/root', content: '# written by the conformance kit\n17 3 * * * /bin/true\n' }],
    },
    autostart: {
      edit: () => [
        { path: 'filesystem/etc/xdg/autostart/twinsync-kit.desktop', content: '[Desktop Entry]\nType=Application\nName=Conformance kit\nExec=/bin/true\n' },
        { path: 'filesystem/etc/rc.local', content: '#!/bin/sh -e\n/bin/true\nexit 0\n' },
        // rc.local is executable or not by rc-local.json (its one source of truth), not by the twin file's mode.
        { path: 'system/startup/rc-local.json', content: stableStringify({ path: '/etc/rc.local', exists: true, executable: true, serviceMasked: false, wouldRun: true }) },
      ],
    },
  }
  // What each edit did on the root, seen with the domain's own tools (so a kit that applied nothing fails).
  const applied: Record<string, (root: string) => Promise<void>> = {
    apt: async (root) => {
      assert.match((await runOk(['chroot', root, 'dpkg-query', '-W', '-f=${db:Status-Abbrev}', 'hello'])).stdout, /^hi/, 'hello installed and held')
      assert.match((await runOk(['chroot', root, 'apt-mark', 'showauto', 'cron'])).stdout, /^cron$/m)
    },
    systemd: async (root) => {
      const state = async (unit: string) => (await run(['systemctl', `--root=${root}`, 'is-enabled', unit])).stdout.trim()
      assert.deepEqual([await state('cron.service'), await state('console-getty.service'), await state('e2scrub_reap.service')], ['disabled', 'enabled', 'masked'])
    },
    cron: async (root) => assert.match((await runOk(['chroot', root, 'crontab', '-l', '-u', 'root'])).stdout, /^17 3 \* \* \* \/bin\/true$/m),
    autostart: async (root) => {
      assert.match(await readFile(join(root, 'etc/xdg/autostart/twinsync-kit.desktop'), 'utf8'), /Exec=\/bin\/true/)
      assert.equal((await stat(join(root, 'etc/rc.local'))).mode & 0o111, 0o111, 'rc.local is executable')
    },
  }
  for (const [name, options] of Object.entries(edits)) {
    it(`${name} plans, applies and re-applies a real edit through the kit (schema, stable valid ids, apply then collect clean, twice unchanged, hostile names refused)`, async () => {
      const provider = providers.find((p) => p.name === name) as Provider
      const ctx = createTestContext(rootfs.dir, { providers: [provider, ...providers.filter((p) => p !== provider)] })
      assert.deepEqual(await checkConformance(provider, ctx, { ...options, apply: true }), [])
      await applied[name]?.(rootfs.dir)
    })
  }
})
