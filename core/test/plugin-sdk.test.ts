import { strict as assert } from 'node:assert'
import { SDK_VERSION } from '@twinsync/sdk'
import { sdkRangeProblem, type PluginInfo } from '../src/providers/plugin-sdk.js'

const plugin = (range: string | undefined, where: 'peerDependencies' | 'dependencies' = 'peerDependencies'): PluginInfo => ({
  name: 'twinsync-plugin-x',
  version: '1.0.0',
  root: '/nonexistent',
  pjson: range === undefined ? {} : { [where]: { '@twinsync/sdk': range } },
})

describe('the @twinsync/sdk range a plugin declares', () => {
  it('accepts the usual ranges for this SDK, and any range semver says includes it', async () => {
    for (const range of [`^${SDK_VERSION}`, `~${SDK_VERSION}`, SDK_VERSION, ` ^${SDK_VERSION} `, `>=0.0.1 <1.0.0`, '*', '0.x']) {
      assert.equal(await sdkRangeProblem(plugin(range)), undefined, range)
    }
    assert.equal(await sdkRangeProblem(plugin(undefined)), undefined, 'no range: nothing to check')
    assert.equal(await sdkRangeProblem(plugin('file:../sdk', 'dependencies')), undefined, 'a file: spec says nothing about compatibility')
  })

  it('refuses a range that leaves this SDK out, naming both and the next step', async () => {
    for (const range of ['^0.2.0', '>=1.0.0', `<${SDK_VERSION}`]) {
      const problem = await sdkRangeProblem(plugin(range))
      assert.equal(problem?.code, 'PLUGIN_SDK_MISMATCH', range)
      assert.match(problem?.summary ?? '', new RegExp(`needs @twinsync/sdk ${range.replace(/[.^<>=]/g, '\\$&')}, but this TwinSync has ${SDK_VERSION.replace(/\./g, '\\.')}`))
      assert.match(problem?.detail ?? '', /twinsync plugins (install|uninstall)/)
    }
  })
})
