import { strict as assert } from 'node:assert'
import { lineDiff } from '../src/line-diff.js'

describe('lineDiff', () => {
  it('shows every line with +/- marks for changed ones', () => {
    assert.equal(lineDiff('/etc/rc.local', 'a\nb\nc\n', 'a\nB\nc\nd\n'), '--- a/etc/rc.local\n+++ b/etc/rc.local\n a\n+B\n-b\n c\n+d\n')
    assert.equal(lineDiff('/x', '', 'new\n'), '--- a/x\n+++ b/x\n+new\n')
  })
})
