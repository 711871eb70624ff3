import { Box, Text } from 'ink'
import { terminalText } from '../terminal-text.js'

export interface Line {
  text: string
  color?: string
  bold?: boolean
  dim?: boolean
}

const TAB_WIDTH = 8

/**
 * One line of file content as the terminal will show it, character for character: tabs expanded to
 * the next tab stop of the content's own column (the terminal would otherwise move the cursor behind
 * the renderer's back and overwrite what follows), trailing spaces and tabs made visible (· and →),
 * control characters escaped (\r, \x1b, \u202e …) and undecodable bytes shown as \ufffd.
 */
export function exactText(content: string): string {
  const trailing = /[ \t]+$/.exec(content)
  const body = trailing === null ? content : content.slice(0, trailing.index)
  let out = ''
  let column = 0
  for (const ch of body) {
    if (ch === '\t') {
      const pad = TAB_WIDTH - (column % TAB_WIDTH)
      out += ' '.repeat(pad)
      column += pad
    } else {
      const shown = escapeChar(ch)
      out += shown
      column += [...shown].length
    }
  }
  if (trailing !== null) {
    for (const ch of trailing[0]) {
      if (ch === ' ') {
        out += '·'
        column += 1
      } else {
        const pad = TAB_WIDTH - (column % TAB_WIDTH)
        out += '→' + ' '.repeat(pad - 1)
        column += pad
      }
    }
  }
  return out
}

/** A character the terminal would not print as itself, written as an escape; others unchanged. */
function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0
  if (ch === '\r') return '\\r'
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`
  // C1 controls, zero-width and direction-changing characters (which would reorder what is shown), the replacement character of an undecodable byte
  if ((code >= 0x80 && code < 0xa0) || (code >= 0x200b && code <= 0x200f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0xfeff || code === 0xfffd) {
    return `\\u${code.toString(16).padStart(4, '0')}`
  }
  return ch
}

/**
 * Lines of a diff, coloured the way git colours them, shown exactly (see exactText) and wrapped at
 * `width` columns: a long line continues on the next rows marked ↪, nothing is cut off at the edge.
 */
export function diffLines(diff: string, indent = '', width = Number.POSITIVE_INFINITY): Line[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .flatMap((l): Line[] => {
      let style: Omit<Line, 'text'> = {}
      let text: string
      if (l.startsWith('+++') || l.startsWith('---')) {
        style = { bold: true }
        text = exactText(l)
      } else if (l.startsWith('@@')) {
        style = { color: 'cyan' }
        text = exactText(l)
      } else {
        if (l.startsWith('+')) style = { color: 'green' }
        else if (l.startsWith('-')) style = { color: 'red' }
        // the marker column (+, -, space or \ of "\ No newline") stays apart so the content's tab stops are its own
        text = l.slice(0, 1) + exactText(l.slice(1))
      }
      return wrapAt(indent + text, width, indent.length).map((t) => ({ text: t, ...style }))
    })
}

/** A line cut into rows of `width` characters; continuation rows are indented and marked ↪. */
export function wrapAt(text: string, width: number, indent = 0): string[] {
  const chars = [...text]
  if (chars.length <= width) return [text]
  const lead = ' '.repeat(indent) + '↪ '
  const room = Math.max(10, width - lead.length)
  const rows = [chars.slice(0, width).join('')]
  for (let i = width; i < chars.length; i += room) rows.push(lead + chars.slice(i, i + room).join(''))
  return rows
}

/** A window of `height` lines starting at `top`, with a position marker when it scrolls. */
export function TextView({ lines, top, height }: { lines: readonly Line[]; top: number; height: number }) {
  const visible = lines.slice(top, top + height)
  const scrolls = lines.length > height
  return (
    <Box flexDirection="column">
      {visible.map((l, i) => (
        <Text key={top + i} wrap="wrap" {...(l.color ? { color: l.color } : {})} {...(l.bold ? { bold: true } : {})} {...(l.dim ? { dimColor: true } : {})}>
          {l.text === '' ? ' ' : terminalText(l.text)}
        </Text>
      ))}
      {scrolls ? (
        <Text dimColor>
          — lines {top + 1}-{Math.min(lines.length, top + height)} of {lines.length} —
        </Text>
      ) : null}
    </Box>
  )
}

/** Keep a scroll position inside the text. */
export function clampTop(top: number, length: number, height: number): number {
  return Math.max(0, Math.min(top, length - height))
}
