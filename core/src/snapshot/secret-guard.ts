import type { Diagnostic, TwinDocument } from '@twinsync/sdk'
import { findSecrets, redactSecrets, REDACTED, secretRuleInName, warningDiagnostic } from '@twinsync/sdk/light'

const FILES_PROVIDER = 'files'

/**
 * The last look at a provider's document before it enters the twin: any secret the SDK's
 * detector finds is redacted in place (`--db-password=<redacted>`), the rest of the document
 * kept, and a warning names the place and rule (never the value). This covers every plugin,
 * including those that mirror files of their own (cron's crontabs, autostart's rc.local); the
 * planner then never plans a change that would write the marker back. The files provider's
 * mirrored files are not screened here: it runs the same detector and keeps a file with a
 * finding out whole (a package's file exactly as shipped is public and kept as is).
 */
export async function screenDocument(doc: TwinDocument, provider: string): Promise<{ doc: TwinDocument; diagnostics: Diagnostic[] }> {
  if (!isScreened(doc, provider)) return { doc, diagnostics: [] }
  const text = typeof doc.content === 'string' ? doc.content : Buffer.from(doc.content).toString('utf8')
  const findings = await findSecrets(text, { path: doc.path })
  if (findings.length === 0) return { doc, diagnostics: [] }
  let out = ''
  let at = 0
  for (const f of findings) {
    out += text.slice(at, f.start) + REDACTED
    at = f.end
  }
  out += text.slice(at)
  const where = findings.map((f) => `${doc.path}:${f.line} (${f.rule})`).join(', ')
  return {
    doc: { ...doc, content: out },
    diagnostics: [
      warningDiagnostic('SECRET_REDACTED', `${provider} wrote ${findings.length === 1 ? 'a secret' : `${findings.length} secrets`} into the twin; redacted at ${where}`, {
        provider,
        path: doc.path,
      }),
    ],
  }
}

/**
 * A document whose path holds a secret in a name (a crontab, an autostart entry or a unit named
 * with a token mirrored under `filesystem/`): its name would be a file name in the commit's tree
 * and in the diary line, which no redaction reaches, so it is left out of the twin whole, with a
 * warning that names its folder and the rule, never the name (SECRET_IN_NAME). The rule is the
 * SDK's (secretRuleInName), the files provider's own for the paths it collects (it holds such a
 * path out itself: plugins/files/src/secret-names.ts), so its mirrored files are not asked here.
 * Asked only of a document screenDocument looks at and HEAD does not already hold as it is.
 */
export async function secretInDocumentName(doc: TwinDocument, provider: string): Promise<Diagnostic | undefined> {
  if (!isScreened(doc, provider)) return undefined
  const found = await secretInPathNames(doc.path)
  if (found === undefined) return undefined
  const folder = found.folder || '.'
  return warningDiagnostic('SECRET_IN_NAME', `${provider} wrote a document whose name holds a secret (${found.rule}) in ${folder}; left out of the twin`, {
    provider,
    path: folder,
    detail: 'A name reaches the commit\'s file names and the diary line, which no redaction reaches. Rename it on the machine (or take it out of what the provider reads), then snapshot again.',
  })
}

/**
 * The first name of a `/`-separated path (a twin document's, a change's resource) that holds a
 * secret: its rule and the part of the path before it. `ask` is the SDK's rule (secretRuleInName),
 * or a memo of it for many paths that share their folders' names.
 */
export async function secretInPathNames(path: string, ask: (name: string) => Promise<string | undefined> = secretRuleInName): Promise<{ rule: string; folder: string } | undefined> {
  const names = path.split('/')
  for (const [i, name] of names.entries()) {
    const rule = await ask(name)
    if (rule !== undefined) return { rule, folder: names.slice(0, i).join('/') }
  }
  return undefined
}

/** Whether screenDocument looks at this document (the files provider's mirrored files it leaves alone). */
export function isScreened(doc: TwinDocument, provider: string): boolean {
  return !(provider === FILES_PROVIDER && doc.path.startsWith('filesystem/'))
}

/** Whether a change would write a redaction marker back to the machine (its data holds one). */
export function writesRedaction(data: unknown): boolean {
  return JSON.stringify(data ?? null).includes(REDACTED)
}

/**
 * The desired state with the machine's secrets put back where the twin holds `<redacted>`: a
 * string (or a line of one) holding the marker is replaced by the machine's string (or line) that
 * the detector redacts to exactly it, at the same place of the state when one is there, else when
 * exactly one string anywhere does. What is left holds the marker.
 *
 * The same place (`placeOf`): the same keys from the state's root, an array's element known by its
 * `path`, `name` or `id` (its index when it has none). Session 46: a value redacted whole (an
 * extended attribute's `"user.db": "<redacted>"`, a cron environment line's `"value"`) redacts
 * to the marker alone, as every other such value does, so "exactly one anywhere" found none as
 * soon as the machine had two, and every plan and `status` said the entry's change was left out
 * ("the twin holds a redacted secret there") for ever.
 *
 * Only for a question, never for a change to carry out: whether a change that would write the
 * marker is nothing but the redaction (the machine's crontab as the snapshot saw it, read back
 * from a redacted twin). Such a change is no change; one that is more (a person's edit of the
 * redacted crontab) stays left out and said so.
 */
export async function withActualSecrets(desired: unknown, actual: unknown): Promise<unknown> {
  const whole = new Map<string, string | null>()
  const lines = new Map<string, string | null>()
  const placed = new Map<string, string>()
  const remember = (map: Map<string, string | null>, redacted: string, original: string) => {
    const known = map.get(redacted)
    map.set(redacted, known === undefined || known === original ? original : null)
  }
  for (const [place, text] of placedStrings(actual, '')) {
    const redacted = await redactSecrets(text)
    if (redacted === text) continue
    remember(whole, redacted, text)
    placed.set(`${place}\0${redacted}`, text)
    const from = text.split('\n')
    const to = redacted.split('\n')
    // A secret over several lines (a key) leaves fewer lines: its lines cannot be told apart.
    if (from.length === to.length) to.forEach((line, i) => line !== from[i] && remember(lines, line, from[i] as string))
  }
  const restore = (text: string, place: string): string => {
    if (!text.includes(REDACTED)) return text
    const here = placed.get(`${place}\0${text}`)
    if (here !== undefined) return here
    const known = whole.get(text)
    if (typeof known === 'string') return known
    return text
      .split('\n')
      .map((line) => (line.includes(REDACTED) ? (lines.get(line) ?? line) : line))
      .join('\n')
  }
  const walk = (value: unknown, place: string): unknown => {
    if (typeof value === 'string') return restore(value, place)
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${place}[${elementName(v, i)}]`))
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${place}/${JSON.stringify(k)}`)]))
    return value
  }
  return walk(desired, '')
}

/** An array element's name in a place: its `path`, `name` or `id` (a string), else its index. */
function elementName(value: unknown, index: number): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of ['path', 'name', 'id']) {
      const named = (value as Record<string, unknown>)[key]
      if (typeof named === 'string') return `${key}=${JSON.stringify(named)}`
    }
  }
  return `#${index}`
}

/** Every string of a state with its place (withActualSecrets). */
function placedStrings(value: unknown, place: string, out: Array<[string, string]> = []): Array<[string, string]> {
  if (typeof value === 'string') out.push([place, value])
  else if (Array.isArray(value)) value.forEach((v, i) => placedStrings(v, `${place}[${elementName(v, i)}]`, out))
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) placedStrings(v, `${place}/${JSON.stringify(k)}`, out)
  return out
}
