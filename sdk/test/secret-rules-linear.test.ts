// Session 37: hand rules (sdk/src/secrets.ts) run on every text of the twin, and a hostile text can
// be planted by any local user (a file in ~/.config) or arrive in a log line. Each rule made
// linear here is held to it: timed on an adversarial text against a linear scan of the same text
// (a ratio, not an absolute time: the machine may be loaded), and found to find what its earlier,
// superlinear expression found (the planted secrets and random texts of its parts).
import { strict as assert } from 'node:assert'
import { performance } from 'node:perf_hooks'
import { findingsOfRule, handRules } from '../src/secrets.js'
import { withoutPrefilters } from '../src/rule-prefilter.js'
import { plantedCommandLines, plantedFiles, plantedLogLines, sessionEighteenFiles, sessionElevenFiles, sessionSeventeenFiles, sessionTwelveFiles } from '../../test/fixtures/secrets/samples.js'

type Rule = ReturnType<typeof handRules>[number]

/** The least of three runs, in ms (a run slowed by the machine's load counts as the others). */
function least(run: () => void): number {
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    run()
    best = Math.min(best, performance.now() - started)
  }
  return best
}

/** A linear pass over the text of about a rule's cost per character: its runs of word characters and of others. */
function linearScan(text: string): void {
  const scan = /[A-Za-z0-9_-]+|[^A-Za-z0-9_-]+/g
  while (scan.exec(text) !== null);
}

/**
 * The rule's time on `text` is at most `factor` times a linear scan's (and 5 ms): a quadratic rule
 * on 128 KB takes thousands of times a scan (seconds), a linear one a few (milliseconds).
 */
function assertLinear(rule: Rule, text: string, what: string, factor = 40): void {
  const base = least(() => linearScan(text))
  const took = least(() => findingsOfRule(rule, text))
  assert.ok(took <= factor * base + 5, `${what}: ${took.toFixed(1)} ms, a linear scan ${base.toFixed(2)} ms (${(took / base).toFixed(0)}×)`)
}

const PLANTED = () => [...plantedFiles(), ...plantedLogLines(), ...plantedCommandLines(), ...sessionElevenFiles(), ...sessionTwelveFiles(), ...sessionSeventeenFiles(), ...sessionEighteenFiles()]

/** Findings of `rule` and of the rule with its earlier expression are the same on each text (also with every rule on every whole text). */
async function assertSame(rule: Rule, earlier: RegExp, texts: Iterable<string>): Promise<number> {
  const before = { ...rule, pattern: earlier }
  let findings = 0
  for (const text of texts) {
    const old = findingsOfRule(before, text)
    assert.deepEqual(findingsOfRule(rule, text), old, JSON.stringify(text.slice(0, 200)))
    assert.deepEqual(await withoutPrefilters(async () => findingsOfRule(rule, text)), old, `${JSON.stringify(text.slice(0, 200))} (every rule on every whole text)`)
    findings += old.length
  }
  return findings
}

/** Random texts of `parts`, each of 1 to `most` parts (a seeded generator: the same texts each run). */
function* randomTexts(seed: number, count: number, parts: readonly string[], most = 12): Generator<string> {
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
  for (let i = 0; i < count; i++) {
    let text = ''
    for (let k = 1 + (next() % most); k > 0; k--) text += parts[next() % parts.length]
    yield text
  }
}

describe('secret rules in linear time on hostile texts (session 37)', function () {
  this.timeout(120_000)

  describe('jwt', () => {
    const rule = handRules().find((r) => r.id === 'jwt')!
    // Before session 37: each `eyJ` of a long run of the token's characters searched the run to its end (quadratic).
    const EARLIER = /\b(?<v>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})/g

    it('takes a linear scan\'s time on 128 KB runs of `eyJ` words (the earlier expression: seconds)', () => {
      const n = 128 * 1024
      assertLinear(rule, 'eyJJe-e-y0-'.repeat(n / 11), '`eyJJe-e-y0-` repeated')
      assertLinear(rule, `${'eyJ'.repeat(n / 3)}.x`, '`eyJ` repeated')
      assertLinear(rule, `${'eyJabcdefghijk.'.repeat(n / 15)}`, 'first parts, never a second')
    })

    it('finds what its earlier expression found: the planted secrets and random texts of its parts', async () => {
      const planted = PLANTED().flatMap((p) => [p.text, ...p.text.split('\n')])
      const parts = ['eyJhbGciOiJIUzI1NiJ9.', 'eyJzdWIiOiIxMjM0', 'eyJzdWIiOiIxMjM0.', 'sig_nature-0123', 'eyJ', 'eyJabc.', '.', 'abc', '-x', ' ', '\n']
      const findings = (await assertSame(rule, EARLIER, planted)) + (await assertSame(rule, EARLIER, randomTexts(37, 20000, parts, 7)))
      assert.ok(findings > 500, `${findings} findings`)
    })
  })
})
