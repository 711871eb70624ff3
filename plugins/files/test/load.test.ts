import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin } from '@twinsync/sdk'
import { FilesProvider, type FilesState } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

describe('files provider: load of documents the manifest does not list', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  it('takes a new file in the include set as root-owned 0644; one outside it, ignored or secret by path is not applied, with a warning', async () => {
    const ctx = createTestContext(root.dir, { config: { ignore: ['/etc/noise/**'] } })
    const twin = new MemoryTwin((await provider.collect({ ctx })).documents)
    twin.set('filesystem/etc/app/new.conf', 'setting = 1\n')
    twin.set('filesystem/opt/outside.conf', 'x\n')
    twin.set('filesystem/etc/noise/log.conf', 'x\n')
    twin.set('filesystem/etc/wireguard/wg0.conf', 'x\n')
    const loaded = await provider.load({ ctx, twin })
    const added = (loaded.state as FilesState).entries.find((e) => e.path === '/etc/app/new.conf')
    assert.deepEqual(
      { ...added, sha256: undefined },
      { path: '/etc/app/new.conf', type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: 12, content: 'mirrored', sha256: undefined, text: 'setting = 1\n' },
    )
    assert.deepEqual(
      loaded.diagnostics.filter((d) => d.code === 'FILES_OUTSIDE_SCOPE').map((d) => d.path),
      ['/etc/noise/log.conf', '/etc/wireguard/wg0.conf', '/opt/outside.conf'],
    )
  })
})
