import { strict as assert } from 'node:assert'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { isTwinFile } from '../src/twin/twin-files.js'

/** TWIN_SYMLINK's next step is a command that can be pasted as it is, even for a twin path with a space and a quote. */
describe('TWIN_SYMLINK next step', () => {
  let dir: string
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'next step ')), "it's twin")
  })
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }))

  it('names the real twin and path, and pasted into a shell removes the link', async () => {
    await execa('git', ['init', '-q', dir])
    writeFileSync(join(dir, 'target'), 'x\n')
    symlinkSync('target', join(dir, 'odd name'))
    await execa('git', ['-C', dir, 'add', '-A'])
    await execa('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'a link arrives in the twin'])
    const error = await isTwinFile(dir, 'odd name').then(
      () => assert.fail('a symlink must be refused'),
      (e: unknown) => e as { code: string; nextStep?: string },
    )
    assert.equal(error.code, 'TWIN_SYMLINK')
    const command = /`(git -C [^`]+)`/.exec(error.nextStep ?? '')?.[1]
    assert.ok(command !== undefined && !command.includes('<'), error.nextStep)
    const pasted = await execa('sh', ['-c', command], { reject: false })
    assert.equal(pasted.exitCode, 0, pasted.stderr)
    const tracked = await execa('git', ['-C', dir, 'ls-files'])
    assert.deepEqual(tracked.stdout.split('\n'), ['target'])
  })
})
