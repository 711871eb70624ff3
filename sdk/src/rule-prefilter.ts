/**
 * Speed (issue 22): which parts of a text a hand-written secret rule (secrets.ts) is run on. A
 * rule whose every reported match holds one of a few words (its `needs`) is not run on a text
 * holding none of them; a rule whose every match also lies on one line (`lines`) is run only on
 * the lines holding one. Only a "no" is trusted, so the findings are the same: a text or a line
 * that holds a word is searched as before, and a line is searched as it is searched in the whole
 * text (a line-local rule's search enters each line at its start: no match runs past a line end).
 *
 * The generic `key = value` rule matches every assignment of every text and then asks whether the
 * key names a credential; a key that does holds a credential word (CREDENTIAL_WORDS,
 * CREDENTIAL_KEYS, TOKEN_WORDS in secrets.ts, in any case), so the rule is run only on the lines
 * holding one: in a first snapshot of the minbase root, 78 of its 38 texts' 4,597 lines (3% of
 * their 110 KB). Measured (session 13, a shared 2-core machine under a load average of 12): the
 * whole detector over those 38 texts in a fresh process, as a snapshot runs it (each expression
 * compiled on first use; secretlint loaded before), 39.9 → 20.5 ms of CPU (medians of 21
 * interleaved processes); passes over them in one process 15.7 → 9.4 ms (medians of 7 processes'
 * median of 60 passes). That rule alone had been about half of the fresh process's time. The
 * whole `snapshot --init` of that root, CPU with its children: 471.7 → 443.9 ms (medians of 12
 * interleaved pairs, the detector as on main and as here, the rest the same build).
 *
 * The other rules' `needs` (a token's prefix, `://`, a flag's `-p`, `echo`…) change little there
 * (the fresh process 25.0 → 24.7 ms, medians of 15: what is left is mostly compiling the
 * expressions of the rules that still run, some on one line), but they keep rules off texts that
 * only look alike: a 1.8 MB shared library (libunistring, as latin1) 4.0 → 1.6 s in one pair of
 * runs, the static-map rule's search of its long runs of word characters no longer done (the
 * password-command rule's, as slow, was still done on its lines that hold `pass`, until session 14
 * made it linear: PASSWORD_COMMAND in secrets.ts).
 *
 * `withoutPrefilters` runs the rules on every whole text (every `needs` ignored): tests compare the
 * two on the secret fixtures, a test bed root and the planted secrets (sdk/test/secrets.test.ts,
 * test/integration/secret-prefilter.test.ts, secrets-places.test.ts, secrets-server.test.ts).
 */

/** What a text holds wherever a rule reports a match: where it does not, the rule is not run. */
export interface RuleNeeds {
  /** One of these is in the text (for `lines`, on the match's line) wherever the rule reports a match. */
  words: readonly string[]
  /** The words in any case (ASCII letters): the rule's expression, or its `accept`, ignores case. */
  caseless?: boolean
  /**
   * Every match the rule reports also lies on one line, the one with the word (no `\n` in it, but
   * for one before its start that it takes in as a space and that `^` stands for on the line
   * alone; no look-around past the line's ends; `^` and `$` only with the `m` flag): the rule is
   * run only on the lines holding a word, consecutive ones as one part.
   */
  lines?: boolean
}

let filtering = true

/** Runs `f` with every rule run on every whole text, as if no rule had `needs` (for tests: the findings must be the same). */
export async function withoutPrefilters<T>(f: () => Promise<T>): Promise<T> {
  const was = filtering
  filtering = false
  try {
    return await f()
  } finally {
    filtering = was
  }
}

/** Whether the prefilters are on (off inside `withoutPrefilters`): a rule's `within` (secrets.ts) is one too. */
export function prefiltering(): boolean {
  return filtering
}

/** The words a text must hold one of, fewest: a word that holds another word of the list is left out (`password` holds `pass`). */
export function fewestWords(words: Iterable<string>, caseless: boolean): string[] {
  const norm = (w: string) => (caseless ? w.toLowerCase() : w)
  const all = [...new Set([...words].map(norm))].filter((w) => w.length > 0)
  return all.filter((w) => !all.some((o) => o !== w && w.includes(o))).sort()
}

const SEARCHES = new WeakMap<RuleNeeds, RegExp>()

/**
 * One expression for the words, global (and ignoring case when they are caseless). Rules with the
 * same words each make their own (eight need KEY_WORDS on a line): V8 finds a source made again in
 * its compilation cache and shares its parse and compiled code (while the cache holds it: it drops
 * a source not looked up across two mark-compacts). Session 52 kept one a source in a map beside
 * this one; counted against it (session 53, callgrind, node only, interleaved): minbase `snapshot
 * --init`, 3 pairs, 9 expressions more made a run, V8's expression compiler 45.2 / 45.0 / 45.2 →
 * 45.9 / 45.0 / 45.0 M (its compiles 293 / 288 / 292 → 294 / 288 / 288: they move with the
 * collections either way), whole runs within their spread; the detector over the fixtures' corpus
 * in a fresh process, 3 pairs, 10 more made, the same 445 compiles. Under 0.5 M: taken out.
 */
function searchFor(needs: RuleNeeds): RegExp {
  let search = SEARCHES.get(needs)
  if (search === undefined) {
    const words = fewestWords(needs.words, needs.caseless === true).map((w) => w.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))
    search = new RegExp(words.join('|'), needs.caseless === true ? 'gi' : 'g')
    SEARCHES.set(needs, search)
  }
  return search
}

/**
 * Whether `text` holds one of the words (in any case when they are caseless). Not switched off by
 * `withoutPrefilters`: a rule's `hint` is a condition of the rule, asked with this.
 */
export function holdsWord(text: string, words: RuleNeeds): boolean {
  if (words.caseless !== true) return words.words.some((w) => text.includes(w))
  const search = searchFor(words)
  search.lastIndex = 0
  return search.test(text)
}

/**
 * The parts of `text` a rule is run on, as [start, end) offsets: none when the text holds none of
 * the words it needs, the lines holding one for a line rule (runs of consecutive lines as one
 * part, without the last one's line end), else the whole text.
 */
export function partsToSearch(text: string, needs: RuleNeeds | undefined): Array<[number, number]> {
  const whole: Array<[number, number]> = [[0, text.length]]
  if (!filtering || needs === undefined) return whole
  if (needs.lines !== true) return holdsWord(text, needs) ? whole : []
  const search = searchFor(needs)
  const parts: Array<[number, number]> = []
  search.lastIndex = 0
  for (let found = search.exec(text); found !== null; found = search.exec(text)) {
    const start = text.lastIndexOf('\n', found.index) + 1
    let end = text.indexOf('\n', found.index)
    if (end < 0) end = text.length
    const last = parts[parts.length - 1]
    if (last !== undefined && last[1] + 1 === start) last[1] = end
    else parts.push([start, end])
    if (end >= text.length) break
    search.lastIndex = end + 1
  }
  return parts
}
