import { strict as assert } from 'node:assert'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MODULE = fileURLToPath(new URL('../bin/exit-when-idle.js', import.meta.url))

/** Run a script that calls exitWhenIdle() where `at` says, in a fresh node. */
function run(script: string): { stdout: string; status: number | null } {
  const r = spawnSync(process.execPath, ['-e', `const { exitWhenIdle } = require(${JSON.stringify(MODULE)});\n${script}`], { encoding: 'utf8' })
  return { stdout: r.stdout, status: r.status }
}

describe('bin/exit-when-idle: exit at once only when nothing is left to do', () => {
  it('exits with process.exitCode, after everything written, when the loop is idle', () => {
    const r = run(`process.stdout.write('x'.repeat(200000) + '\\n'); process.exitCode = 3; process.on('beforeExit', () => {}); process.removeAllListeners('beforeExit'); exitWhenIdle(); console.log('after')`)
    assert.equal(r.status, 3)
    assert.equal(r.stdout, 'x'.repeat(200000) + '\n', 'the output is whole, and nothing after the exit ran')
  })

  it('leaves the exit to Node while a timer, a child process or a beforeExit listener is pending', () => {
    assert.equal(run(`setTimeout(() => console.log('timer'), 30); exitWhenIdle()`).stdout, 'timer\n')
    assert.equal(run(`const c = require('node:child_process').spawn('sleep', ['0.05']); c.on('exit', () => console.log('child')); exitWhenIdle()`).stdout, 'child\n')
    assert.equal(run(`process.once('beforeExit', () => console.log('beforeExit')); exitWhenIdle()`).stdout, 'beforeExit\n')
  })
})
