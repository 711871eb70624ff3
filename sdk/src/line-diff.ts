/**
 * A unified-style diff of two small texts (whole file, every line shown), for the plan to show a
 * person what a change does (crontabs, autostart entries, rc.local: short files). Large inputs
 * get no diff rather than a slow one.
 */
const MAX_CELLS = 1_000_000

export function lineDiff(path: string, before: string, after: string): string | undefined {
  const a = splitLines(before)
  const b = splitLines(after)
  if (a.length * b.length > MAX_CELLS) return undefined
  // Longest common subsequence table, filled from the end.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[]
      row[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0)
    }
  }
  const out = [`--- a${path}`, `+++ b${path}`]
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(' ' + a[i])
      i++
      j++
    } else if (j < b.length && (i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      out.push('+' + b[j])
      j++
    } else {
      out.push('-' + a[i])
      i++
    }
  }
  return out.join('\n') + '\n'
}

function splitLines(text: string): string[] {
  if (text.length === 0) return []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}
