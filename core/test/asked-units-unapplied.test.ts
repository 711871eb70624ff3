import assert from 'node:assert/strict'
import { stableStringify, type Change, type Provider } from '@twinsync/sdk'
import { adoptApplied, promotePath } from '../src/intent/asked-units.js'
import type { OwnedPlace } from '../src/intent/description-edits.js'

// Session 40: a package added to apt.json by hand with a version the install does not pin. The
// apt provider names the version (Provider.unapplied); the apply's promotion took the whole added
// element as the install's unit and undid it after the apply, so the snapshot recorded the
// archive's version and the asked one was gone without a word.
const APT = 'system/packages/apt.json'
const bytes = (v: unknown) => Buffer.from(stableStringify(v))
const vim = { architecture: 'amd64', hold: false, manual: true, version: '2:9.0.1378-2' }
const asked = { architecture: 'all', hold: false, manual: true, version: '0.9' }
const was = bytes({ nativeArchitecture: 'amd64', packages: { vim } })
const wants = bytes({ nativeArchitecture: 'amd64', packages: { demo: asked, vim } })
const install: Change = { id: 'apt:install:demo', provider: 'apt', category: 'packages', operation: 'install', resource: 'demo', summary: 'install demo (the candidate version)', risk: 'medium' }
const versionPlace: OwnedPlace = { path: APT, at: ['packages', 'demo', 'version'], nextStep: 'pin it', provider: { name: 'apt' } as Provider }

describe('promotion: an added element holding a place its provider never applies', () => {
  it('is the install\'s unit, and not undone after the apply: the asked version stays for the snapshot to keep', () => {
    const done = promotePath({ path: APT, was, wants, now: wants }, [install], [versionPlace], [])
    assert.deepEqual(done.units.map((u) => [u.at, u.changes]), [[['packages', 'demo'], ['apt:install:demo']]])
    assert.equal(adoptApplied(APT, wants, was, done.units), undefined, 'the working twin keeps the element with the asked version')
  })

  it('promoted from a plan\'s tree the working twin lacks, it stays there after the apply too', () => {
    const done = promotePath({ path: APT, was, wants, now: was }, [install], [versionPlace], [])
    assert.equal(done.changed, true)
    assert.equal(adoptApplied(APT, done.content, was, done.units), undefined)
  })

  it('without such a place (no version asked, or a pinned one) the element is undone as before: the snapshot records the machine\'s', () => {
    const done = promotePath({ path: APT, was, wants, now: wants }, [install], [], [])
    const back = adoptApplied(APT, wants, was, done.units)
    assert.deepEqual(back?.content === undefined ? undefined : JSON.parse(Buffer.from(back.content).toString('utf8')), { nativeArchitecture: 'amd64', packages: { vim } })
    // A place of another element, or of another document, does not keep this one.
    const other = promotePath({ path: APT, was, wants, now: wants }, [install], [{ ...versionPlace, at: ['packages', 'vim', 'version'] }, { ...versionPlace, path: 'system/packages/other.json' }], [])
    assert.notEqual(adoptApplied(APT, wants, was, other.units), undefined)
  })
})
