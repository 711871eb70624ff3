/** fnmatch(3) without flags beyond FNM_NOESCAPE: "*", "?" and "[...]" classes, as preset files use them. */
export function fnmatch(pattern: string, name: string): boolean {
  let compiled = COMPILED.get(pattern)
  if (compiled === undefined) {
    compiled = compile(pattern)
    COMPILED.set(pattern, compiled)
  }
  return compiled.test(name)
}

const COMPILED = new Map<string, RegExp>()

function compile(pattern: string): RegExp {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) {
        re += '\\['
        continue
      }
      let body = pattern.slice(i + 1, end)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += '[' + body.replace(/\\/g, '\\\\') + ']'
      i = end
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(re + '$', 's')
}
