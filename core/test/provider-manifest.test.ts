import { strict as assert } from 'node:assert'
import { MemoryTwin, PathClaims } from '@twinsync/sdk'
import { manifestEntries, missingProviders } from '../src/providers/provider-manifest.js'

// Session 45: the twin's providers.json is a mirror's to write; it was read without a look at its shape.
describe("the twin's provider manifest (system/twinsync/providers.json) is untrusted input", () => {
  const good = { name: 'nginx', source: '@acme/twinsync-nginx', version: '1.0.0', twinPaths: ['system/web/'] }

  it('a document no installed provider reads is PROVIDER_MISSING whatever shape the manifest has, never an internal error; only entries of the shape TwinSync writes name a plugin', async () => {
    const forged = ['{"providers":[{"name":"x"}]}', '{"providers":[null,1,"s"]}', '{"providers":"all"}', '{"providers":[{"name":"x","source":"y","version":"1","twinPaths":"system/"}]}', 'null', '[', '']
    for (const text of forged) {
      const twin = new MemoryTwin([{ path: 'system/twinsync/providers.json', content: text }, { path: 'system/web/site.json', content: '{}' }])
      const found = await missingProviders(twin, [], new PathClaims())
      assert.deepEqual(found.map((d) => [d.code, d.path, d.provider]), [['PROVIDER_MISSING', 'system/web/site.json', undefined]], text)
    }
    const named = new MemoryTwin([{ path: 'system/twinsync/providers.json', content: JSON.stringify({ providers: [{ name: 'x' }, good] }) }, { path: 'system/web/site.json', content: '{}' }])
    assert.deepEqual((await missingProviders(named, [], new PathClaims())).map((d) => [d.code, d.provider]), [['PROVIDER_MISSING', 'nginx']])
    assert.deepEqual(manifestEntries(JSON.stringify({ providers: [good, { ...good, twinPaths: [1] }, { ...good, version: 2 }] })), [good])
  })
})
