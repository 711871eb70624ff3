// sdk/src/secrets.ts makes its hand rules when first asked for, not as the module loads: a command
// that screens nothing (an unchanged snapshot, `plan`, `status`) loads the module with the SDK's
// index and would otherwise parse every rule's expression (issue 22, session 15).
import { strict as assert } from 'node:assert'
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const SDK_INDEX = join(dirname(fileURLToPath(import.meta.url)), '..', 'bundle', 'index.cjs')

describe('the secret rules made when first asked for (sdk/src/secrets.ts)', function () {
  this.timeout(30_000)

  it('loading the SDK makes none; the first screen makes them, once', async () => {
    // V8's precise coverage counts each call of `makeHandRules` in the SDK as the CLI loads it.
    const script = `
      const inspector = require('node:inspector')
      const session = new inspector.Session()
      session.connect()
      const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))))
      const calls = async () => {
        const { result } = await post('Profiler.takePreciseCoverage')
        let n = 0
        for (const script of result) for (const f of script.functions) if (f.functionName === 'makeHandRules') n += f.ranges[0].count
        return n
      }
      ;(async () => {
        await post('Profiler.enable')
        await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })
        const sdk = require(${JSON.stringify(SDK_INDEX)})
        const counts = [await calls()]
        const found = await sdk.findSecrets('password = hunter2hunter2\\n', { path: '/etc/x.conf' })
        counts.push(await calls())
        await sdk.findSecrets('token = abcdefabcdef12345\\n', { path: '/etc/y.conf' })
        counts.push(await calls(), sdk.handRules().length > 0 ? 'rules' : 'none')
        process.stdout.write(JSON.stringify({ counts, found: found.length }))
      })()`
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script])
    const { counts, found } = JSON.parse(stdout) as { counts: Array<number | string>; found: number }
    assert.ok(found > 0, 'the first screen found the password')
    // takePreciseCoverage resets the counts each time it is asked.
    assert.deepEqual(counts, [0, 1, 0, 'rules'])
  })
})
