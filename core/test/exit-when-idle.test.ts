import { strict as assert } from 'node:assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const MODULE = fileURLToPath(new URL('../bin/exit-when-idle.js', import.meta.url))

/** Run a script that calls exitWhenIdle() where `at` says, in a fresh node. */
function run(script: string): { stdout: string; status: number | null } {
  const r = spawnSync(process.execPath, ['-e', `const { exitWhenIdle } = require(${JSON.stringify(MODULE)});\n${script}`], { encoding: 'utf8' })
  return { stdout: r.stdout, status: r.status }
}

describe('bin/exit-when-idle: exit at once only when nothing is left to do', () => {
  it('exits with process.exitCode, after everything written, when the loop is idle', () => {
    const r = run(`const exit = process.exit; process.exit = function () { process.stdout.write('exit\\n'); return exit.apply(process, arguments) }; process.stdout.write('x'.repeat(200000) + '\\n'); process.exitCode = 3; process.on('beforeExit', () => {}); process.removeAllListeners('beforeExit'); exitWhenIdle(); process.once('exit', () => process.stdout.write('end\\n'))`)
    assert.equal(r.status, 3)
    assert.equal(r.stdout, 'x'.repeat(200000) + '\nexit\nend\n', 'the output is whole, and the exit is its own, not Node\'s end')
  })

  it('lets every microtask already queued run first: a promise chain after the command writes its file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit-when-idle-'))
    try {
      const file = join(dir, 'written')
      const r = run(`const done = Promise.resolve(); done.then(() => exitWhenIdle()); done.then(() => null).then(() => null).then(() => require('node:fs').writeFileSync(${JSON.stringify(file)}, 'x'))`)
      assert.equal(r.status, 0)
      assert.equal(readFileSync(file, 'utf8'), 'x', 'the chain ran to its end before the exit')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('leaves the exit to Node while a timer, a child process or a beforeExit listener is pending', () => {
    assert.equal(run(`setTimeout(() => console.log('timer'), 30); exitWhenIdle()`).stdout, 'timer\n')
    assert.equal(run(`const c = require('node:child_process').spawn('sleep', ['0.05']); c.on('exit', () => console.log('child')); exitWhenIdle()`).stdout, 'child\n')
    assert.equal(run(`process.once('beforeExit', () => console.log('beforeExit')); exitWhenIdle()`).stdout, 'beforeExit\n')
  })
})
