import { strict as assert } from 'node:assert'
import { isTwinSyncError } from '@twinsync/sdk'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkTwinPath, SnapshotDraft } from '../src/twin/atomic-snapshot.js'

/** checkTwinPath as it was before its one-expression pass (session 24): every path split, every part through isDotGit. */
function partByPart(path: string): boolean {
  const hfsIgnored = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g
  const isDotGit = (name: string) => name.split('\\').some((part) => /^(?:\.git|git~1)[. ]*(?::|$)/i.test(part)) || name.replace(hfsIgnored, '').toLowerCase() === '.git'
  return !(path.startsWith('/') || path.includes('\0') || path.split('/').some((p) => p === '' || p === '.' || p === '..' || isDotGit(p)))
}

function accepted(path: string): boolean {
  try {
    checkTwinPath(path)
    return true
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'PATH_INVALID') return false
    throw error
  }
}

describe('checkTwinPath: the one-expression pass gives the verdicts of the part-by-part check', () => {
  it('on names git refuses and names it takes', () => {
    const names = ['.git', '.GIT', '.Git', 'git~1', 'GIT~1 ', '.git ', '.git.', '.git. .', '.git\\evil', 'x\\.git', '.g\u200cit', '\ufeff.GIT', 'git~1:a', '.git::$INDEX_ALLOCATION', '.gitx', '.gitignore', 'git~2', 'x.git', '.git-credentials.d', 'x:.git', '.git~1', ' .git', '.git\u00a0', '.', '..', '...', '.bashrc', 'a', 'é', 'ı.git', '.gİt', '.gıt']
    for (const name of names) {
      for (const path of [name, `etc/${name}`, `${name}/x`, `filesystem/etc/${name}/y.conf`]) assert.equal(accepted(path), partByPart(path), JSON.stringify(path))
    }
    for (const path of ['', '/', '/etc', 'etc/', 'a//b', 'a/./b', 'a/../b', 'a\0b', 'filesystem/etc/ssh/sshd_config', 'system/packages.json']) assert.equal(accepted(path), partByPart(path), JSON.stringify(path))
  })

  it('on 200,000 random paths of the characters that matter', () => {
    const alphabet = ['a', 'g', 'i', 't', 'G', 'I', 'T', '.', '.', '/', '/', '\\', '~', '1', ':', ' ', '\0', '\u200c', '\u200f', '\u202a', '\u202e', '\u206a', '\u206f', '\ufeff', '\u200b', '\u00a0', 'İ', 'ı', 'K', 'ſ', 'é', '\u0307']
    // A fixed seed: the same paths every run (mulberry32).
    let seed = 0x5eed24
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const words = ['.git', 'git~1', '.GiT', 'etc', 'x']
    let refused = 0
    for (let n = 0; n < 200_000; n++) {
      let path = ''
      const length = Math.floor(random() * 12)
      for (let i = 0; i < length; i++) path += random() < 0.15 ? (words[Math.floor(random() * words.length)] as string) : (alphabet[Math.floor(random() * alphabet.length)] as string)
      const expected = partByPart(path)
      if (!expected) refused++
      assert.equal(accepted(path), expected, JSON.stringify(path))
    }
    assert.ok(refused > 10_000 && refused < 190_000, `both verdicts are common (${refused} refused)`)
  })
})

// Session 33: a part longer than a file name may be (NAME_MAX, 255 bytes) was committed, and the
// working twin's rename of it failed once HEAD had moved. Refused before anything is written.
describe('checkTwinPath: a part longer than a file name may be', () => {
  it('refuses a part over 255 bytes, counted in UTF-8, anywhere in the path; takes 255', () => {
    for (const [part, ok] of [
      ['a'.repeat(255), true],
      ['a'.repeat(256), false],
      ['é'.repeat(127) + 'a', true], // 255 bytes
      ['é'.repeat(128), false], // 256 bytes in 128 units
      ['漢'.repeat(85), true], // 255 bytes
      ['漢'.repeat(86), false], // 258 bytes
      ['😀'.repeat(63) + 'abc', true], // 255 bytes
      ['😀'.repeat(64), false], // 256 bytes
    ] as const) {
      for (const path of [part, `filesystem/etc/${part}`, `filesystem/${part}/x.conf`]) assert.equal(accepted(path), ok, `${Buffer.byteLength(part)} bytes in ${JSON.stringify(path.slice(0, 40))}…`)
    }
  })
})

describe('a document whose path in the twin is longer than a path may be', () => {
  it('is refused by the draft (PATH_INVALID) before anything is written; one byte shorter is taken', async () => {
    const twin = mkdtempSync(join(tmpdir(), 'twinsync-long-path-'))
    try {
      execFileSync('git', ['init', '-q', twin])
      writeFileSync(join(twin, 'a'), 'a\n')
      execFileSync('git', ['-C', twin, 'add', '.'])
      execFileSync('git', ['-C', twin, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'old'])
      // Parts of 200 bytes, up to 4,095 bytes with the twin's folder and its slash (PATH_MAX, 4,096 with the NUL).
      const room = 4095 - Buffer.byteLength(twin) - 1
      const long = (bytes: number) => {
        const parts: string[] = []
        let left = bytes
        while (left > 201) {
          parts.push('d'.repeat(200))
          left -= 201
        }
        parts.push('f'.repeat(left))
        return parts.join('/')
      }
      const draft = await SnapshotDraft.begin(twin, { edited: false })
      assert.equal(Buffer.byteLength(long(room)), room)
      assert.equal(draft.write({ path: long(room), content: 'fits\n' }), true)
      assert.throws(() => draft.write({ path: long(room + 1), content: 'too long\n' }), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_INVALID' && /longer than a path may be \(4095 bytes\)/.test(e.message))
      await draft.discard()
      assert.equal(execFileSync('git', ['-C', twin, 'status', '--porcelain'], { encoding: 'utf8' }), '')
    } finally {
      rmSync(twin, { recursive: true, force: true })
    }
  })
})
