import { strict as assert } from 'node:assert'
import { isTwinSyncError } from '@twinsync/sdk'
import { checkTwinPath } from '../src/twin/atomic-snapshot.js'

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
