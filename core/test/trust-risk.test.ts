import { strict as assert } from 'node:assert'
import type { Change } from '@twinsync/sdk'
import { markTrustChanges, trustReason } from '../src/plan/trust-risk.js'

const change = (path: string, data: Record<string, unknown>, risk: Change['risk'] = 'low'): Change => ({
  id: `files:x:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: path, risk, data: { path, ...data },
})
const write = (path: string, text: string, mode = 0o644) => change(path, { action: 'write', text, mode, uid: 0, gid: 0, sha256: '' })

// Session 19: what hands out root or changes whom the machine trusts is high risk, with the reason.
describe('trust risk: one rule for changes that are root or trust', () => {
  it('names apt hooks in any form, and leaves ordinary apt settings alone', () => {
    assert.match(trustReason(write('/etc/apt/apt.conf.d/99x', 'DPkg { Post-Invoke { "sh /x"; }; };\n')) ?? '', /apt hook/)
    assert.match(trustReason(write('/etc/apt/apt.conf', 'Dir::Bin::dpkg "/usr/local/bin/dpkg";\n')) ?? '', /apt hook/)
    assert.match(trustReason(write('/etc/apt/apt.conf.d/50x', 'APT::Get::AllowUnauthenticated "true";\n')) ?? '', /unsigned/)
    assert.equal(trustReason(write('/etc/apt/apt.conf.d/10proxy', 'Acquire::http::Proxy "http://p:3128";\n')), undefined)
    assert.match(trustReason(change('/etc/apt/apt.conf.d/99x', { action: 'symlink', target: '/srv/x' })) ?? '', /a link/)
  })

  it('names a setuid write and a mode change the provider rated high, not one that keeps or drops the bit', () => {
    assert.match(trustReason(write('/usr/local/bin/x', '#!/bin/sh\n', 0o4755)) ?? '', /^setuid/)
    assert.match(trustReason(write('/usr/local/bin/x', '#!/bin/sh\n', 0o2755)) ?? '', /^setgid/)
    assert.match(trustReason(change('/usr/local/bin/x', { action: 'chmod', mode: 0o4755 }, 'high')) ?? '', /^setuid/)
    assert.equal(trustReason(change('/usr/local/bin/x', { action: 'chmod', mode: 0o4750 }, 'medium')), undefined)
    assert.match(trustReason(change('/usr/local/bin/x', { action: 'attributes', mode: 0o755, uid: 0, gid: 0, capabilities: 'cap_setuid=ep' }, 'high')) ?? '', /capabilities/)
  })

  it('a keyring an apt source in the same plan names with signed-by is a signing key wherever it lies', () => {
    const changes = [write('/etc/apt/sources.list.d/v.list', 'deb [arch=amd64 signed-by=/opt/v/key.gpg] https://v.example/ stable main\n'), write('/opt/v/key.gpg', 'key'), write('/opt/v/other', 'x')]
    markTrustChanges(changes)
    assert.deepEqual(changes.map((c) => [c.resource, c.risk, c.riskReason]), [
      ['/etc/apt/sources.list.d/v.list', 'low', undefined],
      ['/opt/v/key.gpg', 'high', 'an apt signing key: packages it signs install as root'],
      ['/opt/v/other', 'low', undefined],
    ])
  })

  it('takes no reason for a delete (already high) or a path outside the rule', () => {
    assert.equal(trustReason(change('/etc/sudoers.d/x', { action: 'delete' }, 'high')), undefined)
    assert.equal(trustReason(write('/etc/motd', 'hi\n')), undefined)
    assert.match(trustReason(write('/home/ann/.ssh/authorized_keys', 'ssh-ed25519 AAAA x\n')) ?? '', /SSH authorized keys/)
    assert.match(trustReason(write('/etc/sudoers.d/ops', '%ops ALL=(ALL) ALL\n')) ?? '', /^sudo rules/)
  })
})
