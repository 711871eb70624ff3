import { strict as assert } from 'node:assert'
import { startupEntries } from '../src/startup-entry.js'
import type { SystemdState, UnitEntry } from '../src/state.js'

const state = (units: Record<string, UnitEntry>, wantedAtBoot: string[], enabledTimers: string[] = []): SystemdState => ({
  units,
  startup: { wantedAtBoot, enabledTimers },
})

describe('systemd startup entries', () => {
  it('names which mask keeps a wanted unit from starting, in systemd own word', () => {
    const entries = startupEntries(
      state(
        { 'ssh.service': { state: 'enabled' }, 'cron.service': { state: 'masked' }, 'nginx.service': { state: 'masked-runtime' }, 'multi-user.target': { state: 'static' } },
        ['multi-user.target', 'ssh.service', 'cron.service', 'nginx.service'],
        ['apt-daily.timer'],
      ),
    )
    assert.deepEqual(entries, [
      { source: 'systemd', trigger: 'boot', name: 'ssh.service', enabled: true },
      { source: 'systemd', trigger: 'boot', name: 'cron.service', enabled: false, state: 'masked' },
      { source: 'systemd', trigger: 'boot', name: 'nginx.service', enabled: false, state: 'masked-runtime' },
      { source: 'systemd', trigger: 'schedule', name: 'apt-daily.timer', enabled: true },
    ])
  })
})
