import { strict as assert } from 'node:assert'
import { secretRuleInName, secretRulesInNames } from '../src/secrets.js'

// Token-shaped names the detector knows; not real credentials.
const GITHUB = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5'
const AWS = 'AKIAQWERTYUIOPASDFGH'

describe('secretRulesInNames: many names, the one rule', () => {
  it('gives the rule of each name that holds a secret, as secretRuleInName does one by one', async () => {
    const names = ['cron.service', `${GITHUB}.service`, 'nginx', `key-${AWS}`, `${AWS}.timer`, 'x', `${GITHUB}.service`, '', `two\nlines-${GITHUB}`]
    const many = await secretRulesInNames(names)
    const one: Array<[string, string]> = []
    for (const name of new Set(names)) {
      const rule = await secretRuleInName(name)
      if (rule !== undefined) one.push([name, rule])
    }
    assert.deepEqual([...many].sort(), one.sort())
    assert.deepEqual([...many.keys()].sort(), [`${AWS}.timer`, `${GITHUB}.service`, `key-${AWS}`, `two\nlines-${GITHUB}`].sort())
    assert.equal(many.get(`${GITHUB}.service`), 'github')
  })

  it('none for names without one', async () => {
    assert.equal((await secretRulesInNames(['a.service', 'b.timer', 'libc6', 'multi-user.target.wants'])).size, 0)
  })
})
