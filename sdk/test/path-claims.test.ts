import { strict as assert } from 'node:assert'
import { PathClaims } from '../src/path-claims.js'
import { pathPatternToRegExp } from '../src/glob.js'
import { isTwinSyncError } from '../src/errors.js'

describe('PathClaims', () => {
  it('gives every unclaimed path to the files provider', () => {
    const claims = new PathClaims()
    assert.equal(claims.ownerOf('/etc/hosts'), 'files')
  })

  it('gives a claimed path to exactly its claimant', () => {
    const claims = new PathClaims()
    claims.claim('cron', '/var/spool/cron/crontabs/*')
    claims.claim('autostart', '/etc/xdg/autostart/*.desktop')
    claims.claim('autostart', '/home/*/.config/autostart/*.desktop')
    assert.equal(claims.ownerOf('/var/spool/cron/crontabs/root'), 'cron')
    assert.equal(claims.ownerOf('/var/spool/cron/crontabs'), 'files')
    assert.equal(claims.ownerOf('/etc/xdg/autostart/x.desktop'), 'autostart')
    assert.equal(claims.ownerOf('/etc/xdg/autostart/x.desktop.bak'), 'files')
    assert.equal(claims.ownerOf('/home/ann/.config/autostart/a.desktop'), 'autostart')
    assert.equal(claims.ownerOf('/home/ann/x/.config/autostart/a.desktop'), 'files')
    assert.equal(claims.isClaimedByOther('files', '/var/spool/cron/crontabs/root'), true)
  })

  it('lets the more specific pattern win', () => {
    const claims = new PathClaims()
    claims.claim('broad', '/etc/**')
    claims.claim('narrow', '/etc/rc.local')
    assert.equal(claims.ownerOf('/etc/rc.local'), 'narrow')
    assert.equal(claims.ownerOf('/etc/a/b'), 'broad')
  })

  it('refuses the same pattern from two providers', () => {
    const claims = new PathClaims()
    claims.claim('a', '/etc/rc.local')
    claims.claim('a', '/etc/rc.local')
    assert.throws(() => claims.claim('b', '/etc/rc.local'), (e: unknown) => isTwinSyncError(e) && e.code === 'CLAIM_CONFLICT')
  })

  it('names a claim of another provider below a folder, never one of the provider asking, nor one at or above it', () => {
    const claims = new PathClaims()
    claims.claim('systemd', '/etc/rc?.d/*')
    claims.claim('autostart', '/home/*/.config/autostart/*.desktop')
    claims.claim('deep', '/srv/**')
    claims.claim('files', '/opt/*')
    assert.deepEqual(claims.claimBelow('/etc/rc2.d', 'files'), { provider: 'systemd', pattern: '/etc/rc?.d/*' })
    assert.equal(claims.claimBelow('/etc/rc2.d/S01x', 'files'), undefined, 'the claimed path itself is not below')
    assert.deepEqual(claims.claimBelow('/etc', 'files')?.provider, 'systemd')
    assert.equal(claims.claimBelow('/etc/rc2.d', 'systemd'), undefined, 'its own claims do not count')
    assert.deepEqual(claims.claimBelow('/home/ann/.config', 'files')?.provider, 'autostart')
    assert.equal(claims.claimBelow('/home/ann/.local', 'files'), undefined)
    assert.deepEqual(claims.claimBelow('/srv/a/b/c', 'files')?.provider, 'deep', 'a ** reaches any depth')
    assert.equal(claims.claimBelow('/opt', 'files'), undefined)
    assert.deepEqual(claims.claimBelow('/', 'files')?.provider, 'systemd')
  })

  it('treats regular expression characters literally', () => {
    assert.equal(pathPatternToRegExp('/etc/a+b.conf').test('/etc/a+b.conf'), true)
    assert.equal(pathPatternToRegExp('/etc/a+b.conf').test('/etc/aab.conf'), false)
  })
})
