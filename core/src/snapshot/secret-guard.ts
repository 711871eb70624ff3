import { findSecrets, REDACTED, warningDiagnostic, type Diagnostic, type TwinDocument } from '@twinsync/sdk'

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

/** Whether screenDocument looks at this document (the files provider's mirrored files it leaves alone). */
export function isScreened(doc: TwinDocument, provider: string): boolean {
  return !(provider === FILES_PROVIDER && doc.path.startsWith('filesystem/'))
}

/** Whether a change would write a redaction marker back to the machine (its data holds one). */
export function writesRedaction(data: unknown): boolean {
  return JSON.stringify(data ?? null).includes(REDACTED)
}
