/**
 * Speed (session 32): what a hand-written secret rule's `accept` (secrets.ts) looks back for from
 * a match — the line a YAML block hangs from, the `[section]` an INI line is in, the `---` that
 * begins a YAML document, an XML comment's opener, the `{` an object opened with — found once per
 * text and then looked up, instead of searched backwards from every match. Each search back
 * crossed every line since the landmark, so a text of many candidate lines under one landmark took
 * time in the square of its lines: a 10,000-key Kubernetes Secret (`data:` then 10,000 lines,
 * 360 KB) took 4.0 s to screen (the YAML Secret rule; session 31 measured 6.9 s under more load),
 * 10,000 `<password>` elements with no comment 3.3 s, an `[admins]` section of 10,000 lines 3.5 s,
 * a JSON object of 10,000 `"host": "value"` pairs 1.0 s (the whole detector, load average 5).
 * With each landmark's places listed once (binary search after): 0.25–0.55, 0.36, 0.33 and
 * 0.11 s. The answers are those of `text.lastIndexOf`, `text.indexOf` and the walk up the lines:
 * the findings do not change (sdk/test/secrets.test.ts checks both, and bounds the four texts).
 */
export class TextMarks {
  private readonly places = new Map<string, number[]>()
  private readonly kept = new Map<string, unknown>()

  constructor(readonly text: string) {}

  /** `text.lastIndexOf(needle, at)`: where the last `needle` that begins at or before `at` begins, or -1. */
  lastIndexOf(needle: string, at: number): number {
    return lastAtOrBefore(this.placesOf(needle), Math.max(0, at))
  }

  /** `text.indexOf(needle, at)`: where the first `needle` that begins at or after `at` begins, or -1. */
  indexOf(needle: string, at: number): number {
    const places = this.placesOf(needle)
    const i = firstAtOrAfter(places, at)
    return i < places.length ? (places[i] as number) : -1
  }

  /**
   * Where the last line that begins before `at` and whose first character `first` accepts begins,
   * or -1 (a line is what lies between two `\n`). `first` matches one character, without flags:
   * `/[^\s#]/` for a line that is not indented, blank or a comment.
   */
  lastLineStartingWith(first: RegExp, at: number): number {
    const key = `line:${first.source}`
    let places = this.places.get(key)
    if (places === undefined) {
      places = []
      const search = new RegExp(`(?<=^|\\n)${first.source}`, 'g')
      for (let found = search.exec(this.text); found !== null; found = search.exec(this.text)) {
        places.push(found.index)
        if (found[0].length === 0) search.lastIndex++
      }
      this.places.set(key, places)
    }
    return lastAtOrBefore(places, at - 1)
  }

  /** A rule's answer about a part of the text (a YAML document, a section) worked out once under `key`. */
  once<T>(key: string, work: () => T): T {
    if (this.kept.has(key)) return this.kept.get(key) as T
    const value = work()
    this.kept.set(key, value)
    return value
  }

  private placesOf(needle: string): number[] {
    let places = this.places.get(needle)
    if (places === undefined) {
      places = []
      for (let i = this.text.indexOf(needle); i >= 0; i = this.text.indexOf(needle, i + 1)) places.push(i)
      this.places.set(needle, places)
    }
    return places
  }
}

/** The last of the ascending `places` that is at most `at`, or -1. */
function lastAtOrBefore(places: readonly number[], at: number): number {
  const i = firstAtOrAfter(places, at + 1) - 1
  return i >= 0 ? (places[i] as number) : -1
}

/** The index of the first of the ascending `places` that is at least `at` (places.length if none). */
export function firstAtOrAfter(places: readonly number[], at: number): number {
  let lo = 0
  let hi = places.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((places[mid] as number) < at) lo = mid + 1
    else hi = mid
  }
  return lo
}
