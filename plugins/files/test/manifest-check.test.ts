import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { validatorOf, validatorsAsked } from '@twinsync/sdk'
import { checkManifest, checkManifestPart } from '../src/manifest-check.js'
import { manifestBytes, parseManifest, parsePart } from '../src/manifest.js'
import { Manifest, ManifestPart, type FilesState } from '../src/state.js'
import { MANIFEST_CHECK_FILE, manifestCheckSource } from './manifest-check-source.js'

const accounts = { users: { root: 0 }, groups: { root: 0 } }

const file = { content: 'mirrored', gid: 0, mode: '0644', owner: 'root', path: '/etc/a.conf', sha256: 'a'.repeat(64), size: 3, type: 'file', uid: 0 }
const full = { ...file, capabilities: 'cap_net_raw=ep', divertedFrom: '/etc/b', empty: true, group: 'root', origin: 'package-modified', package: 'x', secret: true, secretHash: `hmac-sha256:${'b'.repeat(64)}`, secretReason: 'key', target: 'z', xattrs: { 'user.a': 'x' } }

/** Entries the schema takes and entries it refuses, one thing wrong each. */
const entries: unknown[] = [
  file,
  full,
  { gid: 0, mode: '0755', path: '/etc/d', type: 'directory', uid: 0, empty: true },
  { gid: 0, mode: '0777', path: '/etc/l', target: '../ü', type: 'symlink', uid: 0 },
  { ...file, xattrs: { 'user.a\nb': 1 } },
  { ...file, extra: 1 },
  { ...file, path: 'etc/a' },
  { ...file, mode: '644' },
  { ...file, mode: 420 },
  { ...file, type: 'fifo' },
  { ...file, uid: -1 },
  { ...file, uid: 1.5 },
  { ...file, gid: '0' },
  { ...file, size: -1 },
  { ...file, content: 'other' },
  { ...file, sha256: 'A'.repeat(64) },
  { ...file, secret: false },
  { ...file, secretHash: 'sha256:00' },
  { ...file, origin: 'elsewhere' },
  { ...file, empty: 'yes' },
  { ...file, xattrs: { 'user.a': 1 } },
  { ...file, xattrs: [] },
  { ...file, owner: 0 },
  { ...file, owner: undefined },
  (({ uid: _uid, ...rest }) => rest)(file),
  null,
  [],
  'x',
]

/** Manifests and parts, valid and not: each entry above in both, and the documents' own keys wrong. */
function documents(): Array<{ manifest: unknown; part: unknown }> {
  const out: Array<{ manifest: unknown; part: unknown }> = entries.map((e) => ({ manifest: { version: 1, entries: [file, e], leftovers: [] }, part: { entries: [e, file] } }))
  out.push(
    { manifest: { version: 2, entries: [], leftovers: ['/etc/a.dpkg-old'] }, part: { entries: [] } },
    { manifest: { version: 3, entries: [], leftovers: [] }, part: { entries: [], version: 2 } },
    { manifest: { version: 1, entries: [], leftovers: [1] }, part: { entries: {} } },
    { manifest: { version: 1, entries: [] }, part: {} },
    { manifest: { version: 1, entries: [], leftovers: [], extra: 1 }, part: null },
    { manifest: [], part: [] },
  )
  return out
}

describe('files provider: the manifest check built with the bundle (manifest-check.ts)', () => {
  it('is typebox\'s generated check of the schemas as state.ts has them now', () => {
    // Fails after a schema change until the file is written again (see manifest-check-source.ts).
    assert.equal(readFileSync(MANIFEST_CHECK_FILE, 'utf8'), manifestCheckSource())
  })

  it('answers every manifest and part as typebox\'s compiled validator does', () => {
    const docs = documents()
    let refused = 0
    for (const [i, doc] of docs.entries()) {
      const expected = validatorOf(Manifest()).Check(doc.manifest)
      assert.equal(checkManifest(doc.manifest), expected, `manifest ${i}: ${JSON.stringify(doc.manifest)}`)
      assert.equal(checkManifestPart(doc.part), validatorOf(ManifestPart()).Check(doc.part), `part ${i}: ${JSON.stringify(doc.part)}`)
      if (!expected) refused++
    }
    // Both answers are exercised: most documents have one thing wrong.
    assert.ok(refused > 20 && refused < docs.length - 4, `${refused} of ${docs.length} refused`)
  })

  it('reads a twin\'s valid manifest and part with no typebox validator asked for; a bad one is said as typebox says it', () => {
    // Made by this process, then another: the first text is a twin's text like HEAD's, checked against the schema.
    const state: FilesState = { entries: [{ ...file, type: 'file', content: 'mirrored' } as FilesState['entries'][number]], leftovers: [], accounts }
    const text = manifestBytes(state).toString('utf8')
    manifestBytes({ entries: [], leftovers: [], accounts })
    const part = JSON.stringify({ entries: [file] })
    const asked = validatorsAsked()
    assert.ok('manifest' in parseManifest(text))
    assert.ok('part' in parsePart('system/files/manifest/07.json', part))
    assert.equal(validatorsAsked(), asked, 'a valid text was checked through typebox\'s validator (compiled at run time)')
    const bad = text.replace('"mode": "0644"', '"mode": "06x4"')
    const error = [...validatorOf(Manifest()).Errors(JSON.parse(bad))][0]
    assert.deepEqual(parseManifest(bad), { problem: `${error?.instancePath} ${error?.message}` })
    assert.match((parseManifest(bad) as { problem: string }).problem, /^\/entries\/0\/mode /)
    const badPart = JSON.stringify({ entries: [{ ...file, uid: -1 }] })
    const partError = [...validatorOf(ManifestPart()).Errors(JSON.parse(badPart))][0]
    assert.deepEqual(parsePart('system/files/manifest/07.json', badPart), { problem: `${partError?.instancePath} ${partError?.message}` })
  })
})
