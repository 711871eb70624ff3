import { strict as assert } from 'node:assert'
import { PART_COUNT, partOf, partOfTwinPath } from '../src/kept-parts.js'

// The part function as the contract states it (kept-parts.ts, top): FNV-1a, 32 bits, of the UTF-8
// bytes of the path's folder (up to its last `/`; `/` for a path at the top), modulo PART_COUNT.
function plainPartOf(path: string): number {
  const at = path.lastIndexOf('/')
  const folder = at <= 0 ? '/' : path.slice(0, at)
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(folder, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash % PART_COUNT
}

/** A small deterministic generator (the same paths every run). */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 0x100000000
  }
}

// Names that share prefixes with each other (the scale root's `scale-pkg-0001`), non-ASCII (two,
// three and four UTF-8 bytes), a lone surrogate (encoded as U+FFFD), a newline, and empty names (`//`).
const NAMES = ['etc', 'e', 'et', 'etc2', 'scale', 'scale-pkg-0001', 'scale-pkg-0010', 'scale-pkg-001', 'a.conf', 'é', 'ß-dir', '日本', '😀', 'x\uD800y', '\uDC00', 'line\nbreak', '', '~', '\x7f', '\x80']

function randomPath(next: () => number): string {
  const depth = Math.floor(next() * 5)
  const names: string[] = []
  for (let i = 0; i <= depth; i++) names.push(NAMES[Math.floor(next() * NAMES.length)] as string)
  const lead = next() < 0.9 ? '/' : ''
  return lead + names.join('/')
}

describe('partOf (the SDK part function)', () => {
  it('gives the plain FNV-1a part of every path, in sorted, repeated and random orders', () => {
    const next = random(48)
    const paths = Array.from({ length: 6000 }, () => randomPath(next))
    const edges = ['/', '', 'name', '/name', '//', '//name', '/a/', '/a//b', '/é/x', '/éé/x', '/é', '/a/b/c', '/a/b', '/a/bc/d', '/a/b/cd', '/a/b/c/d', '/a/b/c']
    const orders = [edges, [...edges].reverse(), paths, [...paths].sort(), [...paths].sort().flatMap((p) => [p, p]), [...paths].sort().reverse()]
    for (const order of orders) {
      for (const path of order) assert.equal(partOf(path), plainPartOf(path), JSON.stringify(path))
    }
  })

  it('gives a twin path below a folder the part of its path below that folder, with a leading "/"', () => {
    const next = random(4801)
    const folders = ['filesystem/', 'system/', 'filesystem/etc/', 'x/']
    const cases: Array<[string, string]> = []
    for (let i = 0; i < 6000; i++) {
      const folder = folders[Math.floor(next() * folders.length)] as string
      cases.push([folder, folder + randomPath(next).replace(/^\//, '')])
    }
    // A path right below the folder, one whose rest is only a name, and one whose next folder starts like the last one's.
    cases.push(['filesystem/', 'filesystem/motd'], ['filesystem/', 'filesystem/etc/a'], ['filesystem/', 'filesystem/etc/ab/c'], ['filesystem/', 'filesystem/etc/a/b'], ['filesystem/', 'filesystem//x'], ['system/', 'system/'])
    const sorted = [...cases].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    for (const order of [cases, sorted, sorted.flatMap((c) => [c, c])]) {
      for (const [folder, twinPath] of order) {
        const machine = twinPath.slice(folder.length - 1)
        assert.equal(partOfTwinPath(folder, twinPath), plainPartOf(machine), JSON.stringify([folder, twinPath]))
        // And the plain partOf of the same machine path, asked between (the two share the last folder remembered).
        assert.equal(partOf(machine), plainPartOf(machine), JSON.stringify(machine))
      }
    }
  })

  it('does not take the last folder for one of the same length at the twin path\'s start', () => {
    // `ab//f`'s folder is `ab/`; the twin path `ab/cd/f` below `ab/` has the folder `/cd`: as long, and `ab/cd/f` starts with `ab/`.
    assert.notEqual(plainPartOf('ab//f'), plainPartOf('/cd/f'))
    assert.equal(partOf('ab//f'), plainPartOf('ab//f'))
    assert.equal(partOfTwinPath('ab/', 'ab/cd/f'), plainPartOf('/cd/f'))
  })

  it('gives the scale root\'s folders their parts', () => {
    // The paths a one-file snapshot of the scale root asks in order (headPaths): a folder's files, then the next folder's.
    for (let n = 0; n < 5000; n++) {
      const folder = `/etc/scale/scale-pkg-${String(n).padStart(4, '0')}`
      for (let i = 0; i < 4; i++) {
        assert.equal(partOfTwinPath('filesystem/', `filesystem${folder}/setting-${i}.conf`), plainPartOf(`${folder}/setting-${i}.conf`))
      }
    }
  })
})
