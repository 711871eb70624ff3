// The secret detector's expressions made only where they are used (issue 22, session 52): a hand
// rule's sticky expression with indices (secrets.ts's `placeOf`) is made at the rule's first match
// that counts, not with its search; an expression a first snapshot compiled for a handful of
// short words is a string check that answers as it did (`isRedisAuthWord`);
// the provider-token rule needs a Mailchimp key's `-us` with its digit, not `-us` (MAILCHIMP_DATA_CENTRES).
// Over the corpus of the repository's secret fixtures, as core/test/regexp-tier-up.test.ts screens it.
import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { findingsOfRule, handRules, handRulesFor, isRedisAuthWord, ruleExpressions, wordsOf } from '../src/secrets.js'
import { partsToSearch } from '../src/rule-prefilter.js'
import * as samples from '../../test/fixtures/secrets/samples.js'

/** The corpus: every planted sample as it is, upper-cased and as one line; secretlint's rule inputs as latin1. */
function corpus(): Array<[string | undefined, string]> {
  const texts = samples.plantedCorpus()
  const inputs = JSON.parse(gunzipSync(readFileSync(new URL('../../test/fixtures/secrets/secretlint-inputs.json.gz', import.meta.url))).toString('utf8')) as Array<{ name: string; base64: string }>
  for (const { name, base64 } of inputs) texts.push([name, Buffer.from(base64, 'base64').toString('latin1')])
  return texts
}

type Rule = ReturnType<typeof handRules>[number]

/** Each hand rule with a pattern of its own (the detector keeps its expressions by pattern): none made yet. */
const freshCopies = (): Rule[] => handRules().map((rule) => ({ ...rule, pattern: new RegExp(rule.pattern.source, rule.pattern.flags) }))

/** The sticky expressions with indices (`dy`) made while `f` runs, by source. */
function stickyMade(f: () => void): string[] {
  const made: string[] = []
  const real = globalThis.RegExp
  globalThis.RegExp = new Proxy(real, {
    construct(target, args: [string | RegExp, string?], newTarget) {
      const flags = args[1] ?? ''
      if (flags.includes('d') && flags.includes('y')) made.push(typeof args[0] === 'string' ? args[0] : args[0].source)
      return Reflect.construct(target, args, newTarget === globalThis.RegExp ? target : newTarget) as RegExp
    },
  })
  try {
    f()
  } finally {
    globalThis.RegExp = real
  }
  return made
}

describe('secret detector: expressions made where they are used (session 52)', function () {
  this.timeout(300_000)
  const texts = corpus()

  it('makes a rule\'s sticky expression at its first finding, never for a rule that finds nothing', () => {
    const rules = freshCopies()
    const sources = new Set(rules.map((r) => r.pattern.source))
    const finders: string[] = []
    let ran = 0
    const made = stickyMade(() => {
      for (const rule of rules) {
        if (texts.some(([path, text]) => findingsOfRule(rule, text, path).length > 0)) finders.push(rule.pattern.source)
        if (ruleExpressions(rule.pattern) !== undefined) ran++
      }
    }).filter((source) => sources.has(source))
    assert.ok(texts.length > 800, `${texts.length} texts`)
    // The corpus has teeth: most rules find something in it, and some are run on it without a finding.
    assert.ok(finders.length > rules.length / 2, `${finders.length} of ${rules.length} rules find something`)
    assert.ok(ran - finders.length >= 5, `${ran} rules run, ${finders.length} with a finding`)
    // One sticky expression a rule with a finding (made before session 52 with the search: one for every rule run).
    assert.deepEqual(made.sort(), finders.sort())
  })

  it('finds exactly what the rules find with every sticky expression made at once, as before (a guard)', () => {
    const lazy = freshCopies()
    // Made as compiled() made both before session 52: the sticky one with the search, before any text.
    const eager = freshCopies()
    for (const rule of eager) {
      const made = ruleExpressions(rule.pattern, true) as NonNullable<ReturnType<typeof ruleExpressions>>
      made.at = new RegExp(rule.pattern.source, rule.pattern.flags.replace(/[dgy]/g, '') + 'dy')
    }
    let findings = 0
    for (const [path, text] of texts) {
      for (let i = 0; i < lazy.length; i++) {
        const rule = eager[i] as Rule
        const expected = findingsOfRule(rule, text, path)
        assert.deepEqual(findingsOfRule(lazy[i] as Rule, text, path), expected, `${rule.id} on ${path ?? 'a text'}`)
        findings += expected.length
      }
    }
    assert.ok(findings > 500, `${findings} findings`)
  })

  it('runs the provider-token rule on no `-user` name or line, and on a Mailchimp key as before', () => {
    const rule = handRules().find((r) => r.id === 'provider-token')
    assert.ok(rule !== undefined)
    const runsOn = (text: string) => handRulesFor(text).includes(rule)
    // What a first snapshot of the minbase root ran it on (11 names and lines, none with a token).
    for (const name of ['multi-user.target', 'multi-user.target.wants', 'systemd-user-sessions.service', 'nss-user-lookup.target', 'initrd-usr-fs.target']) assert.ok(!runsOn(name), name)
    const lines = `${'  "path": "/etc/systemd/system/multi-user.target.wants",\n'.repeat(40)}`
    assert.deepEqual(partsToSearch(lines, wordsOf(rule).needs), [])
    const key = `${'0123456789abcdef'.repeat(2)}-us14`
    assert.ok(runsOn(`apikey ${key}`))
    assert.deepEqual(findingsOfRule(rule, `${lines}apikey: ${key}\n`), [[lines.length + 8, lines.length + 8 + key.length]])
  })

  // The expression isRedisAuthWord stands for (until session 52).
  const REDIS_BEFORE =
    /^(?:plain|login|cram-md5|digest-md5|xoauth2?|oauthbearer|gssapi|ntlm|external|anonymous|scram-sha-\S*|tls|ssl|failed|fail|failure|failures|error|errors|ok|success|successful|succeeded|required|from|by|at|after|denied|invalid|timeout|timed|is|was|with|to|for|the|and|or|not|as|on|in|of|response|reply|command|called|sent|using|form|option|mechanism|method|sufficient|requisite|optional|include|substack)$/i

  /** Every word of the corpus (keys as the rules see them), and each of `words` in odd shapes: cases, quotes, prefixes, characters that fold onto a letter only with `u`. */
  const oddShapes = (words: string[]): string[] => {
    const out = new Set<string>()
    for (const [, text] of texts) for (const m of text.matchAll(/[$@"'A-Za-z0-9_.:-]+/g)) out.add(m[0])
    for (const w of words) {
      for (const v of [w, w.toUpperCase(), (w[0] as string).toUpperCase() + w.slice(1), w.slice(1), w.slice(0, -1)]) {
        for (const shaped of [v, `db_${v}`, `${v}"`, `${v}'"'`, `"${v}`, `${v}x`, `x${v}`, `${v} `, `${v}\n`, `${v}:`]) out.add(shaped)
      }
      out.add(w.replace(/k/g, '\u212a').replace(/s/g, '\u017f'))
      out.add(w.replace(/\./g, 'X'))
      out.add(w.replace(/\./g, '\n'))
      out.add(w.replace(/\./g, '\u2028'))
      out.add(w.replace(/i/g, '\u0130'))
      out.add(w.replace(/-/g, '-\t'))
    }
    for (const extra of ['', '"', "'", 'scram-sha-', 'SCRAM-SHA-256', 'scram-sha-1 x', 'scram-sha-\u00a0', 'scram-sha-256\u2028', 'Scram-Sha-Plus']) out.add(extra)
    return [...out]
  }

  it('tells a word after AUTH that is no password as its expression did (a guard)', () => {
    const words = REDIS_BEFORE.source.slice(4, -2).split('|').flatMap((w) => (w.endsWith('2?') ? [w.slice(0, -2), `${w.slice(0, -2)}2`] : w.endsWith('\\S*') ? [w.slice(0, -3), `${w.slice(0, -3)}256`] : [w]))
    let yes = 0
    const shapes = oddShapes(words)
    for (const word of shapes) {
      const expected = REDIS_BEFORE.test(word)
      assert.equal(isRedisAuthWord(word), expected, JSON.stringify(word))
      if (expected) yes++
    }
    assert.ok(yes > 100 && shapes.length - yes > 100, `${yes} of ${shapes.length} are no password`)
  })
})
