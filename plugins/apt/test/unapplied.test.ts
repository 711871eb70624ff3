import { strict as assert } from 'node:assert'
import { diffAptState } from '../src/diff.js'
import type { AptPackage, AptState } from '../src/state.js'
import { unappliedAptPlaces } from '../src/unapplied.js'

/**
 * The places of an edit of apt.json the plan turns into nothing: a version without a pin (apt
 * installs the archive's), an automatically installed package added or taken out, the recorded
 * architecture or dpkg status. Named so the edit stays pending instead of being written over by
 * the next snapshot; what the plan does apply (a pinned version, a manual package) never is.
 */
describe('apt: the edits its plan leaves out', () => {
  const pkg = (version: string, extra: Partial<AptPackage> = {}): AptPackage => ({ version, architecture: 'amd64', manual: true, hold: false, ...extra })
  const actual: AptState = { nativeArchitecture: 'amd64', packages: { vim: pkg('2:9.0.1378-2'), libfoo: pkg('1.0', { manual: false }), curl: pkg('7.88.1-10') } }
  const places = (desired: AptState) => {
    const found = unappliedAptPlaces(desired, actual, diffAptState(desired, actual).changes)
    return found.map((p) => `${p.at.join('/')}`)
  }

  it('a version edited without a pin is named, with the pin to write as the next step; a pinned one is planned, not named', () => {
    const desired: AptState = { ...actual, packages: { ...actual.packages, vim: pkg('2:9.0.0000-1') } }
    const found = unappliedAptPlaces(desired, actual, diffAptState(desired, actual).changes)
    assert.deepEqual(found.map((p) => [p.path, p.at]), [['system/packages/apt.json', ['packages', 'vim', 'version']]])
    assert.match(found[0]?.nextStep ?? '', /pin it in system\/packages\/apt-pins.json \(\{ "pins": \{ "vim": "2:9.0.0000-1" \} \}\)/)
    assert.deepEqual(places({ ...actual, packages: { ...actual.packages, vim: pkg('2:9.0.0000-1', { pinVersion: true }) } }), [])
  })

  it('an automatically installed package added or taken out, the architecture and the dpkg status: named', () => {
    const { libfoo: _gone, ...rest } = actual.packages
    const desired: AptState = { nativeArchitecture: 'arm64', packages: { ...rest, libbar: pkg('2.0', { manual: false }), curl: pkg('7.88.1-10', { architecture: 'i386', status: 'unpacked' }) } }
    assert.deepEqual(places(desired), ['nativeArchitecture', 'packages/curl/architecture', 'packages/curl/status', 'packages/libbar', 'packages/libfoo'])
  })

  it('what the plan applies (install, remove, marks, holds) is never named', () => {
    const { curl: _removed, ...rest } = actual.packages
    const bare: AptPackage = { architecture: 'amd64', manual: true, hold: false }
    assert.deepEqual(places({ ...actual, packages: { ...rest, vim: pkg('2:9.0.1378-2', { hold: true }), libfoo: pkg('1.0', { manual: true }), jq: bare, yq: pkg('4.0', { pinVersion: true }) } }), [])
  })

  it('a package added with a version and no pin: the install is planned, the version named (apt installs the archive\'s candidate)', () => {
    const desired: AptState = { ...actual, packages: { ...actual.packages, jq: pkg('1.6'), libbar: pkg('2.0', { manual: false }) } }
    const found = unappliedAptPlaces(desired, actual, diffAptState(desired, actual).changes)
    assert.deepEqual(found.map((p) => p.at.join('/')), ['packages/jq/version', 'packages/libbar'])
    assert.match(found[0]?.nextStep ?? '', /not the one apt.json records \(not installed yet\): to install exactly 1.6, pin it in system\/packages\/apt-pins.json \(\{ "pins": \{ "jq": "1.6" \} \}\)/)
    // Installed at the asked version afterwards: nothing named; at another: named as any version edit.
    const after = (version: string): AptState => ({ ...actual, packages: { ...actual.packages, jq: pkg(version) } })
    assert.deepEqual(unappliedAptPlaces(after('1.6'), after('1.6'), []), [])
    const later = unappliedAptPlaces(after('1.6'), after('1.7'), diffAptState(after('1.6'), after('1.7')).changes)
    assert.deepEqual(later.map((p) => p.at.join('/')), ['packages/jq/version'])
  })
})
