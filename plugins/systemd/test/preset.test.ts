import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePresetFile, presetOf } from '../src/preset.js'

describe('presetOf: the vendor preset systemctl --root gives each unit', () => {
  let root: string
  const units = ['abc', 'a1', 'b-x', 'x9', 'xyz', 'zz', 'q.q', '9lives', 'getty@', 'user@', 'Upper', 'sys-x']
  const preset = [
    'enable [a-b]*.service',
    'disable [!x]?.service',
    'enable [[:digit:]]*',
    'enable x[^y]*',
    'enable q?q.service',
    'disable [[:upper:]]*',
    'enable getty@.service tty1',
    'enable *@.service',
    'enable sys-*',
    'disable *',
  ].join('\n')

  before(function () {
    if (execFileSync('sh', ['-c', 'command -v systemctl || true']).toString().trim() === '') throw new Error('This test needs systemctl (apt-get install systemd).')
    root = mkdtempSync(join(tmpdir(), 'twinsync-preset-'))
    mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true })
    mkdirSync(join(root, 'usr/lib/systemd/system-preset'), { recursive: true })
    mkdirSync(join(root, 'etc'))
    for (const unit of units) writeFileSync(join(root, 'usr/lib/systemd/system', `${unit}.service`), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    writeFileSync(join(root, 'usr/lib/systemd/system-preset/90-test.preset'), preset + '\n')
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  it('matches rules by fnmatch(3) classes and wildcards exactly as systemd does', () => {
    const out = execFileSync('systemctl', [`--root=${root}`, 'list-unit-files', '--no-legend', '--no-pager']).toString()
    const real = new Map(out.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)).map(([name, , vendor]) => [name as string, vendor as string]))
    assert.equal(real.size, units.length)
    const rules = parsePresetFile(preset)
    for (const [name, vendor] of real) assert.equal(presetOf(name, rules), vendor, name)
  })
})
