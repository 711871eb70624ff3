import { strict as assert } from 'node:assert'
import { secretScanCount, type ApplicableProvider, type Change, type ProviderContext } from '@twinsync/sdk'
import { outsideScope } from '../src/plan/outside-scope.js'
import { fakeChars } from '../../test/fixtures/secrets/samples.js'

/**
 * A change of any provider whose name holds a secret (a unit, an autostart entry, a cron job named
 * with a token, as only a hand edit or a forged twin asks) is left out and never spelled; the
 * files provider's own words come first. Before, only the files provider left such a change out.
 */
describe('outsideScope: a change at a name that holds a secret, for every provider', () => {
  const token = `ghp_${fakeChars('s24-scope-name', 36)}`
  const change = (resource: string): Change => ({ id: `demo:create:${resource}`, provider: 'demo', category: 'startup', operation: 'create', resource, summary: `Create ${resource}`, risk: 'low' })
  const provider = { name: 'demo' } as unknown as ApplicableProvider
  const ctx = {} as unknown as ProviderContext

  it('leaves out a unit or entry named with a token, named by its rule only; a plain name goes through', async () => {
    const found = await outsideScope(provider, [change(`${token}.service`), change('nginx.service'), change(`autostart/ann/${token}.desktop`)], ctx, (args) => args.join(' '))
    assert.ok(found.ok)
    assert.deepEqual([...found.ids].sort(), [`demo:create:${token}.service`, `demo:create:autostart/ann/${token}.desktop`].sort())
    for (const d of found.diagnostics) {
      assert.equal(d.code, 'SECRET_IN_NAME_NOT_PLANNED')
      assert.match(d.summary, /holds a secret \(github/)
      // Session 43: `change` spelled it (the change's id), shown by plan --json, a saved plan and status.
      assert.ok(!JSON.stringify(d).includes(token), `the name is never spelled: ${JSON.stringify(d)}`)
      assert.match(d.detail ?? '', /`discard startup`/)
    }
    assert.deepEqual(found.diagnostics.map((d) => d.change), ['demo:create:<a name holding a secret, 1>', 'demo:create:<a name holding a secret, 2>'])
    // The real ids stay with TwinSync (status's items), never shown.
    assert.deepEqual([...found.byChange.keys()].sort(), [...found.ids].sort())
  })

  it('a plan of 30,000 new names asks the detector about them as one text, not one by one, and leaves out the same changes (session 39)', async () => {
    // One by one, 11 µs of CPU each on an idle machine, 30-75 µs at a load of 8, in the plan's and
    // again in the apply's check of scope: 30,000 detector calls here before.
    const changes = Array.from({ length: 30_000 }, (_, i) => change(`gen/unit-${String(i).padStart(6, '0')}.service`))
    changes.splice(12_345, 0, change(`gen/${token}.service`))
    changes.splice(23_456, 0, change(`${token}/x.service`))
    const before = secretScanCount()
    const found = await outsideScope(provider, changes, ctx, (args) => args.join(' '))
    const scans = secretScanCount() - before
    assert.ok(found.ok)
    assert.deepEqual(
      [...found.byChange].map(([id, d]) => [id, d.code]),
      [
        [`demo:create:gen/${token}.service`, 'SECRET_IN_NAME_NOT_PLANNED'],
        [`demo:create:${token}/x.service`, 'SECRET_IN_NAME_NOT_PLANNED'],
      ],
    )
    assert.ok(scans <= 5, `${scans} detector calls for 30,002 names`)
  })

  it('the provider\'s own verdict on a change comes first: not said twice', async () => {
    const own = { name: 'demo', outOfScope: async ({ changes }: { changes: readonly Change[] }) => changes.map((c) => ({ code: 'DEMO_OWN', severity: 'warning' as const, summary: 'mine', change: c.id })) } as unknown as ApplicableProvider
    const found = await outsideScope(own, [change(`${token}.service`)], ctx, (args) => args.join(' '))
    assert.ok(found.ok)
    assert.deepEqual(found.diagnostics.map((d) => d.code), ['DEMO_OWN'])
  })
})
