/**
 * The spelling of a character a terminal must not act on or hide: `\e`, `\r`, `\n`, `\t` by
 * name, `\xHH` up to U+00FF, `\uHHHH` up to U+FFFF, `\u{HHHHH}` above (so U+E0041 is never
 * U+E004 and "1"). The core's terminal rule (core/src/terminal-text.ts) spells with it; the SDK
 * spells with it what must be one line whatever a name holds (a diff's `---`/`+++` header,
 * text-diff.ts), so the two never spell a character differently.
 */
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\x1b': '\\e' }

export function spellCharacter(ch: string): string {
  const named = NAMED[ch]
  if (named !== undefined) return named
  const code = ch.codePointAt(0) as number
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`
}

// Every control and format character, and U+2028/2029 (some terminals break lines at them).
const UNSEEN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu

/** One line of text with every control and invisible character spelled out, newlines and tabs too (the core's terminalText). */
export function spelledLine(text: string): string {
  return text.replace(UNSEEN, spellCharacter)
}
