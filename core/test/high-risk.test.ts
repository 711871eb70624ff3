import { strict as assert } from 'node:assert'
import type { Change } from '@twinsync/sdk'
import { highRiskChanges, highRiskLines, refuseUnacceptedHighRisk } from '../src/apply/high-risk.js'

const write = (path: string, text: string, extra: Partial<Change> = {}): Change => ({
  id: `files:create:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: `create ${path}`, risk: 'low',
  data: { action: 'write', path, text, mode: 0o644, uid: 0, gid: 0, sha256: '' }, ...extra,
})
const AGAIN = 'twinsync apply --yes --accept-high-risk'
const TARGET = { root: '/' }
const command: Change = { id: 'commands:run:x', provider: 'commands', category: 'commands', operation: 'run', resource: 'x', summary: 'run: touch /x', risk: 'high', data: {} }

// Session 20: high-risk changes were applied after a plain y/N or --yes like any other.
describe('high-risk approval: the changes accepted by name, one rule for the CLI and the TUI', () => {
  it('names trust changes and commands, not an ordinary high-risk change (a delete)', () => {
    const del: Change = { ...write('/etc/x', ''), id: 'files:delete:/etc/x', operation: 'delete', risk: 'high', data: { action: 'delete', path: '/etc/x' } }
    const high = highRiskChanges([write('/etc/cron.d/x', '* * * * * root id\n'), write('/etc/motd', 'hi\n'), del, command])
    assert.deepEqual(high.map((h) => [h.change.id, h.reason]), [
      ['files:create:/etc/cron.d/x', 'a system cron file: its jobs run as root (or whom they name) on schedule'],
      ['commands:run:x', "a command of the twin's plans/: runs as root"],
    ])
    assert.deepEqual(highRiskLines([write('/etc/cron.d/x', 'x\n')]), ['1 of these changes runs code as root or lets someone log in:', '  create /etc/cron.d/x: a system cron file: its jobs run as root (or whom they name) on schedule'])
  })

  it('refuses unless every one is accepted, by id or all; a plan file that dropped the reason is rated again from the change', () => {
    const forged = { changes: [write('/etc/profile.d/x.sh', 'id\n', { risk: 'low' }), write('/etc/motd', 'hi\n')] } // no riskReason: rated from the data
    const code = (f: () => void) => { try { f(); return 'no error' } catch (e) { return (e as { code: string; exitCode: number }).code + ' ' + (e as { exitCode: number }).exitCode } }
    assert.equal(code(() => refuseUnacceptedHighRisk(forged, undefined, AGAIN, TARGET)), 'HIGH_RISK_NOT_ACCEPTED 2')
    assert.equal(code(() => refuseUnacceptedHighRisk(forged, ['files:create:/etc/motd'], AGAIN, TARGET)), 'HIGH_RISK_NOT_ACCEPTED 2')
    assert.equal(code(() => refuseUnacceptedHighRisk(forged, ['files:create:/etc/profile.d/x.sh'], AGAIN, TARGET)), 'no error')
    assert.equal(code(() => refuseUnacceptedHighRisk(forged, true, AGAIN, TARGET)), 'no error')
    assert.equal(code(() => refuseUnacceptedHighRisk({ changes: [write('/etc/motd', 'hi\n')] }, undefined, AGAIN, TARGET)), 'no error')
  })
})
