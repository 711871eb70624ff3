import { strict as assert } from 'node:assert'
import { errorDiagnostic } from '@twinsync/sdk'
import { matchesShown, shownDiagnostic, terminalLines, terminalText } from '../src/terminal-text.js'

describe('terminal text: what a terminal shows of twin-derived text (terminal-text.ts)', () => {
  const HOSTILE = 'nginx\x1b]0;pwned\x07\u202egnp.exe\nfake line\r\x9b2J\u2066x\u2069\u200b\ufeff\u{e0041}\x7f'

  it('spells out C0 and C1 controls, ESC, DEL, bidi overrides and isolates, zero-width and tag characters, newlines', () => {
    assert.equal(terminalText(HOSTILE), 'nginx\\e]0;pwned\\x07\\u202egnp.exe\\nfake line\\r\\x9b2J\\u2066x\\u2069\\u200b\\ufeff\\u{e0041}\\x7f')
    // Nothing a terminal acts on, or hides, is left.
    assert.doesNotMatch(terminalText(HOSTILE), /[\p{Cc}\p{Cf}]/u)
    assert.equal(terminalText('tab\there \u2028'), 'tab\\there \\u2028')
  })

  it('keeps plain text, other scripts and a backslash as they are, and never escapes twice', () => {
    for (const plain of ['/etc/nginx/sites-enabled/default', 'café ☕ 東京 שלום', 'C:\\path\\e already', 'a\\nb']) assert.equal(terminalText(plain), plain)
    assert.equal(terminalText(terminalText(HOSTILE)), terminalText(HOSTILE))
    assert.equal(terminalLines(terminalLines(HOSTILE)), terminalLines(HOSTILE))
  })

  it('terminalLines keeps a block\'s newlines and tabs, and spells out the rest', () => {
    assert.equal(terminalLines('a\tb\nc\x1b[2K\r\u202ed\n'), 'a\tb\nc\\e[2K\\r\\u202ed\n')
  })

  it('a diagnostic: every field spelled out, the copy only (the diagnostic itself, for --json, unchanged)', () => {
    const d = errorDiagnostic('X\x1b', `unit ${HOSTILE} failed`, { detail: 'run \x1b[31mthis', path: '/etc/\u202eexe', provider: 'p\n', change: 'systemd:enable:\x07' })
    const before = structuredClone(d)
    const shown = shownDiagnostic(d)
    assert.deepEqual(d, before)
    for (const value of Object.values(shown)) assert.doesNotMatch(String(value), /[\p{Cc}\p{Cf}]/u)
    assert.deepEqual([shown.code, shown.detail, shown.path, shown.provider, shown.change], ['X\\e', 'run \\e[31mthis', '/etc/\\u202eexe', 'p\\n', 'systemd:enable:\\x07'])
  })

  it('an id copied from the terminal names the item it was printed for', () => {
    const id = 'files:mkdir:/etc/x\x1b]0;t\x07'
    assert.ok(matchesShown(id, id))
    assert.ok(matchesShown(id, terminalText(id)))
    assert.ok(!matchesShown(id, 'files:mkdir:/etc/x'))
  })
})
