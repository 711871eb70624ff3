import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import fs, { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { MAX_TWIN_FILE_BYTES, isTwinFile, readTwinFile, readTwinFileSync, twinFileEquals, twinFileSizeSync } from '../src/twin/twin-files.js'

// The compare-and-swap of an apply's promotion (IntentService.putUnlessSaved) asks whether a
// working file is still the bytes it read. Session 33: it read the file whole, and a document over
// the twin's limit was "cannot be read" (TWIN_FILE_TOO_LARGE): the step said not kept pending.
describe('twinFileEquals: a twin file compared without reading it whole', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-equals-'))
    mkdirSync(join(dir, 'filesystem/etc'), { recursive: true })
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('compares a document over the read limit: the same bytes, one byte off at the end, another size', async () => {
    const big = Buffer.alloc(MAX_TWIN_FILE_BYTES + 3, 0x62)
    writeFileSync(join(dir, 'filesystem/etc/big'), big)
    await assert.rejects(readTwinFile(dir, 'filesystem/etc/big'), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_FILE_TOO_LARGE', 'a read refuses it')
    assert.equal(twinFileEquals(dir, 'filesystem/etc/big', big), true)
    const last = Buffer.from(big)
    last[last.length - 1] = 0x63
    assert.equal(twinFileEquals(dir, 'filesystem/etc/big', last), false)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/big', big.subarray(1)), false)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/big', undefined), false)
  })

  it('small files, a view into a larger buffer, an empty file, none, a folder, a FIFO (refused, never opened)', () => {
    writeFileSync(join(dir, 'filesystem/etc/motd'), 'hello\n')
    const pool = Buffer.from('xxhello\nyy')
    assert.equal(twinFileEquals(dir, 'filesystem/etc/motd', pool.subarray(2, 8)), true)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/motd', Buffer.from('hellO\n')), false)
    writeFileSync(join(dir, 'filesystem/etc/empty'), '')
    assert.equal(twinFileEquals(dir, 'filesystem/etc/empty', new Uint8Array()), true)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/empty', undefined), false)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/none', undefined), true)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/none', Buffer.from('x')), false)
    assert.equal(twinFileEquals(dir, 'filesystem/none/motd', undefined), true)
    assert.equal(twinFileEquals(dir, 'filesystem/etc', undefined), true, 'a folder is no regular file')
    execFileSync('mkfifo', [join(dir, 'filesystem/etc/fifo')])
    // Refused as a read refuses it (TWIN_NOT_REGULAR): putUnlessSaved's savedOf leaves it unread, neither written over nor a save.
    for (const expected of [Buffer.from('x'), undefined]) {
      assert.throws(() => twinFileEquals(dir, 'filesystem/etc/fifo', expected), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_NOT_REGULAR')
    }
  })

  it('refuses a symlink on the way (TWIN_SYMLINK), as a read does', () => {
    mkdirSync(join(dir, 'elsewhere'))
    writeFileSync(join(dir, 'elsewhere/motd'), 'hello\n')
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'filesystem/linked'))
    symlinkSync(join(dir, 'elsewhere/motd'), join(dir, 'filesystem/etc/link'))
    for (const path of ['filesystem/linked/motd', 'filesystem/etc/link']) {
      assert.throws(() => twinFileEquals(dir, path, Buffer.from('hello\n')), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_SYMLINK', path)
    }
  })
})

// Session 35: a FIFO, socket or device at a twin path read as absent (readTwinFileSync opened it
// O_NONBLOCK, fstat said "no file": undefined), so `plan` planned deleting the machine's file.
// Now every reader here refuses it, from lstat, before anything opens it; a folder is still absent.
describe('twin reads refuse a FIFO, socket or device (TWIN_NOT_REGULAR), from lstat', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-special-'))
    mkdirSync(join(dir, 'filesystem/etc/folder'), { recursive: true })
    execFileSync('mkfifo', [join(dir, 'filesystem/etc/fifo')])
    execFileSync('mknod', [join(dir, 'filesystem/etc/null'), 'c', '1', '3'])
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(dir, 'filesystem/etc/socket')])
    writeFileSync(join(dir, 'twin.json'), '{}\n')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const [name, words] of [['fifo', 'a FIFO (named pipe)'], ['null', 'a character device'], ['socket', 'a socket']] as const) {
    it(`${name}: read, size and isTwinFile refuse it, naming it and an rm`, async () => {
      const path = `filesystem/etc/${name}`
      const refused = (e: unknown) =>
        isTwinSyncError(e) && e.code === 'TWIN_NOT_REGULAR' && (e.details as { path: string }).path === path && e.message.includes(words) && (e.nextStep ?? '').includes(`rm ${join(dir, path)}`)
      assert.throws(() => readTwinFileSync(dir, path), refused)
      await assert.rejects(readTwinFile(dir, path), refused)
      assert.throws(() => twinFileSizeSync(dir, path), refused)
      await assert.rejects(isTwinFile(dir, path), refused)
    })
  }

  it('a folder is still no document (undefined), a regular file is read', async () => {
    assert.equal(readTwinFileSync(dir, 'filesystem/etc/folder'), undefined)
    assert.equal(twinFileSizeSync(dir, 'filesystem/etc/folder'), undefined)
    assert.equal(await isTwinFile(dir, 'filesystem/etc/folder'), false)
    assert.equal(readTwinFileSync(dir, 'twin.json')?.toString(), '{}\n')
    assert.equal(twinFileSizeSync(dir, 'twin.json'), 3)
  })

  it('a file where a folder was checked a moment before (ENOTDIR from lstat) is no document either, not a throw', () => {
    // Session 35's CI: chaos's SIGKILL trials read a path under a folder that the interrupted
    // apply's working twin holds as a file, with the folder in the look's checked set: the lstat
    // said ENOTDIR, and the rerun died with an internal error.
    mkdirSync(join(dir, 'filesystem/etc/morph'), { recursive: true })
    const checked = new Set<string>()
    assert.equal(readTwinFileSync(dir, 'filesystem/etc/morph/inner', checked), undefined)
    assert.ok(checked.has('filesystem/etc/morph'))
    rmSync(join(dir, 'filesystem/etc/morph'), { recursive: true })
    writeFileSync(join(dir, 'filesystem/etc/morph'), 'a file\n')
    assert.equal(readTwinFileSync(dir, 'filesystem/etc/morph/inner', checked), undefined)
    assert.equal(twinFileSizeSync(dir, 'filesystem/etc/morph/inner', checked), undefined)
    rmSync(join(dir, 'filesystem/etc/morph'))
  })
})

// Session 36: session 35's reads looked (lstat) and then opened: a FIFO or device put in the
// document's place between the two was opened and read as an empty document. Now the descriptor
// itself is looked at (fstat after an open that cannot hang). The swap is made deterministically,
// just before the read's open of that path (Node's openSync patched for the test), not by luck.
describe('twin reads: a file swapped for a FIFO or device just before the open', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-swap-'))
    mkdirSync(join(dir, 'filesystem/etc'), { recursive: true })
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  /** `fn` with the document at `path` replaced by `make`'s file as the read opens it (once). */
  function swappedAtOpen<T>(path: string, make: (abs: string) => void, fn: () => T): T {
    const abs = join(dir, path)
    const original = fs.openSync
    let swapped = false
    fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
      if (!swapped && file === abs) {
        swapped = true
        rmSync(abs)
        make(abs)
      }
      return (original as (...a: unknown[]) => number)(file, ...rest)
    }) as typeof fs.openSync
    syncBuiltinESMExports()
    try {
      return fn()
    } finally {
      fs.openSync = original
      syncBuiltinESMExports()
      assert.ok(swapped, 'the swap was made at the open')
    }
  }

  const kinds: Array<[string, (abs: string) => void]> = [
    ['a FIFO', (abs) => execFileSync('mkfifo', [abs])],
    // /dev/null's numbers: opened, nothing happens; read, it would be an empty document.
    ['a character device', (abs) => execFileSync('mknod', [abs, 'c', '1', '3'])],
  ]
  for (const [kind, make] of kinds) {
    it(`${kind} in the file's place: the read and the compare refuse it (TWIN_NOT_REGULAR), never an empty document`, function () {
      if (kind !== 'a FIFO' && process.getuid?.() !== 0) this.skip()
      const path = 'filesystem/etc/motd'
      const refused = (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_NOT_REGULAR' && (e.details as { path?: string }).path === path
      writeFileSync(join(dir, path), 'hello\n')
      assert.throws(() => swappedAtOpen(path, make, () => readTwinFileSync(dir, path)), refused, 'readTwinFileSync')
      rmSync(join(dir, path))
      writeFileSync(join(dir, path), '')
      assert.throws(() => swappedAtOpen(path, make, () => twinFileEquals(dir, path, new Uint8Array())), refused, 'twinFileEquals')
      rmSync(join(dir, path))
    })
  }

  it('a file under a folder that became a file is still no document (ENOTDIR); a folder still reads as absent', () => {
    writeFileSync(join(dir, 'filesystem/notdir'), 'a file where a folder was\n')
    assert.equal(readTwinFileSync(dir, 'filesystem/notdir/motd'), undefined)
    mkdirSync(join(dir, 'filesystem/etc/folder'), { recursive: true })
    assert.equal(readTwinFileSync(dir, 'filesystem/etc/folder'), undefined)
    assert.equal(twinFileEquals(dir, 'filesystem/etc/folder', undefined), true)
  })
})
