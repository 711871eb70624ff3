// `status`'s drift line with an interrupted apply (session 30, helper redteam): the drift is what
// that apply made, and `apply` heads for its state (resume.ts); "Applying now would undo it" said
// the opposite of what apply does.
import { strict as assert } from 'node:assert'
import { renderStatus } from '../src/cli/render.js'
import type { DriftStatus } from '../src/services/drift-status.js'
import { twinsyncLine } from '../src/plan/command-text.js'
/** Lines as a run on this machine's default twin and configuration says them (no flags). */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/' })


const status = (interrupted: string | null): DriftStatus => ({
  repo: '/var/lib/twinsync/twin',
  head: 'a'.repeat(40),
  observed: 'a'.repeat(40),
  drift: true,
  domains: [],
  changes: [{ id: 'files:replace:/etc/motd', category: 'files', resource: '/etc/motd', summary: '/etc/motd changed on the machine', planned: 'put back as the twin has it' }],
  pending: { count: 0, intended: null, domains: [], items: [], setAside: null },
  remote: { configured: false, kind: null, url: null, repository: null, pending: 0 },
  interrupted,
  missing: [],
  unread: [],
  branches: { current: 'main', unread: [] },
  notes: [],
})

describe('renderStatus: drift with an interrupted apply', () => {
  it('says apply heads for the interrupted apply\'s state, never that it would undo it', () => {
    const text = renderStatus(status('An apply started 2026-12-04T13:18:32Z was interrupted (1 of 2 steps finished).'), LINE)
    assert.match(text, /Drift: the machine moved since the last snapshot \(1 file\)\. `twinsync apply` heads for the interrupted apply's state \(below\), not the last snapshot's: what that apply made stays; `twinsync adopt ITEM` keeps it\./)
    assert.doesNotMatch(text, /would undo/)
  })

  it('without one, applying now would undo the drift, as before', () => {
    assert.match(renderStatus(status(null), LINE), /Applying now would undo it; `twinsync adopt ITEM` keeps it\./)
  })
})
