import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { decodeText, sha256 } from '../src/content.js'

describe('files provider: content', () => {
  it('decodes UTF-8 text, and after bytes that are not UTF-8, the next text as before (one decoder for all)', () => {
    assert.equal(decodeText(Buffer.from('\ufeffgrüße\n')), '\ufeffgrüße\n')
    assert.equal(decodeText(new Uint8Array([0x66, 0xc3])), undefined, 'cut in the middle of a character')
    assert.equal(decodeText(new Uint8Array([0xff, 0x41])), undefined)
    assert.equal(decodeText(Buffer.from('ok\n')), 'ok\n')
    assert.equal(decodeText(new Uint8Array([0x61, 0, 0x62])), undefined, 'a NUL byte is binary')
    assert.equal(decodeText(new Uint8Array()), '')
  })

  it('hashes the empty content like any other', () => {
    for (const empty of [new Uint8Array(), '']) assert.equal(sha256(empty), createHash('sha256').update('').digest('hex'))
    assert.equal(sha256('x'), createHash('sha256').update('x').digest('hex'))
  })
})
