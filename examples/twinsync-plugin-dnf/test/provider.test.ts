import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { LocalHost, MemoryTwin, RecordingHost, stableStringify, type TwinDocument } from '@twinsync/sdk'
import { checkConformance, createTestContext } from '@twinsync/sdk/conformance'
import { diffDnfState } from '../src/diff.js'
import { DnfProvider } from '../src/provider.js'
import type { DnfState } from '../src/state.js'
import { dnfInstall, initRpmRoot, makeRepo } from './rpm-root.js'

const pkg = (version: string, userInstalled = true) => ({ version, arch: 'noarch', userInstalled })
const state = (packages: DnfState['packages']): DnfState => ({ packages })

describe('dnf provider: diff', () => {
  it('installs user packages missing live, erases user packages the twin lacks, leaves dependencies alone', () => {
    const { changes } = diffDnfState(state({ htop: pkg('3.2-1'), libdep: pkg('1-1', false) }), state({ nano: pkg('7.2-1'), libx: pkg('1-1', false) }))
    assert.deepEqual(
      changes.map((c) => [c.id, c.risk, c.removal ?? false, c.needs?.includes('/etc/yum.repos.d/') ?? false]),
      [
        ['dnf:install:htop', 'medium', false, true],
        ['dnf:erase:nano', 'high', true, false],
      ],
    )
  })

  it('reconciles user-installed marks and reports version differences without changing them', () => {
    const { changes, diagnostics } = diffDnfState(state({ a: pkg('2-1', true), b: pkg('1-1', false) }), state({ a: pkg('1-1', false), b: pkg('1-1', true) }))
    assert.deepEqual(changes.map((c) => c.id), ['dnf:mark-install:a', 'dnf:mark-remove:b'])
    assert.deepEqual(diagnostics.map((d) => d.code), ['DNF_VERSION_DIFFERS'])
  })

  it('refuses a hostile name from the twin as an error, not a change', () => {
    const { changes, diagnostics } = diffDnfState(state({ '-y; rm -rf /': pkg('1-1') }), state({}))
    assert.deepEqual(changes, [])
    assert.equal(diagnostics[0]?.code, 'NAME_INVALID')
  })
})

describe('dnf provider: load', () => {
  const load = (content: string) => new DnfProvider().load({ ctx: createTestContext(tmpdir()), twin: new MemoryTwin([{ path: 'system/packages/dnf.json', content }]) })

  it("a twin document that does not match its schema, or is no JSON, is TWIN_INVALID naming the document (not REPO_INVALID: the repository is sound)", async () => {
    const { state, diagnostics } = await load(stableStringify({ packages: { htop: { version: 3 } } }))
    assert.equal(state, undefined)
    assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.path]), [['error', 'TWIN_INVALID', 'system/packages/dnf.json']])
    await assert.rejects(load('{'), (e: Error & { code?: string }) => e.code === 'TWIN_INVALID' && /system\/packages\/dnf\.json is not valid JSON/.test(e.message))
  })
})

describe('dnf provider: detect reads the target only', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dnf-detect-'))
  })
  afterEach(() => rm(root, { recursive: true, force: true }))
  const file = async (path: string, content = '') => {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), content)
  }
  /** detect() through a port that records every program: none may run, the host's rpm answers for the host. */
  const detect = async () => {
    const host = new RecordingHost(new LocalHost(root), { which: (tool) => `/usr/bin/${tool}` })
    const result = await new DnfProvider().detect({ ctx: createTestContext(root, { host }) })
    assert.deepEqual([host.queries, host.actions], [[], []], 'no program ran')
    return [result.detected, result.reason]
  }

  it("follows the target's own %_dbpath, with the plain macros it names; the administrator's file wins", async () => {
    await file('/usr/lib/rpm/macros', '%_var\t\t/var\n%_dbpath\t\t%{_var}/lib/rpm\n%_multi\tline \\\n')
    await file('/etc/rpm/macros.dbpath', '%_dbpath %{_var}/lib/custom-rpm\n')
    assert.deepEqual(await detect(), [false, "no rpm database at /var/lib/custom-rpm, where the target's rpm macros put it"])
    await file('/var/lib/custom-rpm/rpmdb.sqlite')
    assert.deepEqual(await detect(), [true, 'rpm database at /var/lib/custom-rpm (its %_dbpath)'])
  })

  it('a %_dbpath worked out by a shell command, or none: the usual places, the first that holds a database', async () => {
    assert.deepEqual(await detect(), [false, 'no rpm database in the target (looked in /usr/lib/sysimage/rpm, /var/lib/rpm, /root/.rpmdb)'])
    await file('/usr/lib/rpm/macros', "%_dbpath\t\t%(bash -c 'echo ~/.rpmdb')\n")
    await file('/root/.rpmdb/rpmdb.sqlite')
    assert.deepEqual(await detect(), [true, 'rpm database at /root/.rpmdb'])
    await mkdir(join(root, 'usr/lib/sysimage/rpm'), { recursive: true })
    assert.deepEqual(await detect(), [true, 'rpm database at /root/.rpmdb'], 'an empty folder is no database')
    await file('/usr/lib/sysimage/rpm/Packages')
    assert.deepEqual(await detect(), [true, 'rpm database at /usr/lib/sysimage/rpm'])
  })
})

describe('dnf provider: conformance kit on a real rpm database', function () {
  this.timeout(300_000)
  let work: string
  let root: string

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'dnf-conformance-'))
    root = join(work, 'root')
    await makeRepo(join(work, 'repo'), join(work, 'rpmbuild'), [
      { name: 'tshello', version: '1.0' },
      { name: 'tsdep', version: '2.0' },
      { name: 'tsapp', version: '3.0', requires: 'tsdep' },
      { name: 'tsextra', version: '1.1' },
    ])
    await initRpmRoot(root, join(work, 'repo'))
    await dnfInstall(root, 'tshello', 'tsapp')
  })
  after(() => rm(work, { recursive: true, force: true }))

  it('conforms: read-only collect, stable documents, valid changes, apply then collect is clean, applying twice is unchanged, hostile names refused', async () => {
    const provider = new DnfProvider()
    const withPackages = (docs: readonly TwinDocument[], edit: (s: DnfState) => void): TwinDocument[] => {
      const s = JSON.parse(String(docs.find((d) => d.path === 'system/packages/dnf.json')?.content)) as DnfState
      edit(s)
      return [{ path: 'system/packages/dnf.json', content: stableStringify(s) }]
    }
    const problems = await checkConformance(provider, createTestContext(root, { providers: [provider] }), {
      edit: (docs) =>
        withPackages(docs, (s) => {
          s.packages.tsextra = pkg('1.1-1')
          delete s.packages.tshello
          s.packages.tsdep = pkg('2.0-1', true)
        }),
      apply: true,
      hostileEdit: (docs, name) => withPackages(docs, (s) => void (s.packages[name] = pkg('1-1'))),
    })
    assert.deepEqual(problems, [])
  })
})
