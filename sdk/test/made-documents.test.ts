import { strict as assert } from 'node:assert'
import { MadeDocuments, type TwinDocument } from '../src/index.js'

describe('MadeDocuments: the documents a collect just made', () => {
  it('knows a text only when it is exactly the document made at that path', () => {
    const made = new MadeDocuments()
    const documents: TwinDocument[] = [
      { path: 'system/a.json', content: '{"a":1}\n' },
      { path: 'system/b.bin', content: new Uint8Array([123, 125]) },
    ]
    assert.equal(made.made('system/a.json', '{"a":1}\n'), false, 'nothing remembered yet')
    assert.equal(made.remember(documents), documents, 'remember gives the same array back')
    assert.equal(made.made('system/a.json', '{"a":1}\n'), true)
    assert.equal(made.made('system/a.json', '{"a":1}'), false, 'one character less')
    assert.equal(made.made('system/a.json', '{"a":2}\n'), false)
    assert.equal(made.made('system/other.json', '{"a":1}\n'), false, 'another path')
    assert.equal(made.made('system/b.bin', '{}'), false, 'a document made as bytes is never taken as made')
    made.remember([{ path: 'system/c.json', content: '{}' }])
    assert.equal(made.made('system/a.json', '{"a":1}\n'), false, 'only the last collect counts')
    assert.equal(made.made('system/c.json', '{}'), true)
  })
})
