/**
 * Extended attribute values as `getfattr -e base64` prints them, and the few facts about them
 * that both the host port (which sets them) and a provider (which records and compares them)
 * need. Node has no xattr API: the port runs `getfattr`, `setfattr` and `setcap`.
 */

/** The raw bytes of a value in getfattr's encoding: "0s…" base64, "0x…" hex, "\"text\"" or plain text. */
export function xattrBytes(value: string): Buffer {
  if (/^0s[A-Za-z0-9+/]*={0,2}$/.test(value)) return Buffer.from(value.slice(2), 'base64')
  if (/^0x([0-9a-fA-F]{2})*$/.test(value)) return Buffer.from(value.slice(2), 'hex')
  const quoted = /^"(.*)"$/s.exec(value)
  return Buffer.from(quoted === null ? value : unescapeGetfattr(quoted[1] as string), 'utf8')
}

/** The value as `getfattr -e base64` prints it: "0s" and the base64 of the bytes. */
export function xattrValue(bytes: Uint8Array): string {
  return `0s${Buffer.from(bytes).toString('base64')}`
}

/** Do two attribute sets hold the same names with the same bytes (whatever their encoding)? */
export function sameXattrs(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = a ?? {}
  const y = b ?? {}
  const names = Object.keys(x)
  if (names.length !== Object.keys(y).length) return false
  return names.every((n) => Object.hasOwn(y, n) && xattrBytes(x[n] as string).equals(xattrBytes(y[n] as string)))
}

/**
 * A file capability text as getcap prints it and setcap reads it ("cap_net_raw=ep",
 * "cap_net_bind_service,cap_net_raw+ep", "=ep"): lower-case words, commas, operators and flags.
 * Written so that each character has one place in a match: the flags `e`, `i`, `p` are letters of
 * the names too, and the earlier `(?:[a-z0-9_,]*[=+-][eip]*)+` tried every split of them on a
 * text that does not match (session 36: a twin's `"=ee=ee…=ee!"` of 49 characters took 11 s, 61
 * characters 108 s, growing ×1.8 a character, in every plan of a pulled manifest). The same
 * texts match (checked on 300,000 random ones); `(?:NAMES OP)+ FLAGS` is `(?:NAMES OP FLAGS)+`
 * because flags followed by names are names.
 */
export function isCapabilityText(text: string): boolean {
  return /^(?:[a-z0-9_,]*[=+-])+[eip]*(?: (?:[a-z0-9_,]*[=+-])+[eip]*)*$/.test(text) && !text.startsWith('-')
}

/**
 * Names a host port manages exactly when it is given a set: everything but the security
 * module's labels (security.selinux, security.ima, security.evm, security.apparmor,
 * security.SMACK64…), which the kernel and the module's own tools set. File capabilities are
 * `security.capability`, handled through `capabilities`.
 */
export function isManagedXattr(name: string): boolean {
  return !name.startsWith('security.')
}

/** `getfattr -d` output for one or more files: "# file: path", then name=value lines. */
export function parseXattrDump(output: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  for (const line of output.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {}
      out.set(unescapeGetfattr(line.slice('# file: '.length)), current)
    } else if (current !== undefined && line.includes('=')) {
      const at = line.indexOf('=')
      current[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return out
}

/** getfattr escapes bytes as \ooo (octal) and a backslash as \\. */
function unescapeGetfattr(text: string): string {
  const bytes: number[] = []
  for (const part of text.split(/(\\[0-7]{3}|\\\\)/)) {
    if (part === '\\\\') bytes.push(0x5c)
    else if (/^\\[0-7]{3}$/.test(part)) bytes.push(parseInt(part.slice(1), 8))
    else bytes.push(...Buffer.from(part))
  }
  return Buffer.from(bytes).toString('utf8')
}
