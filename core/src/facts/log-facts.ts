import type { ProviderContext } from '@twinsync/sdk'
import { redactSecrets, SECRET_RULES_VERSION } from '@twinsync/sdk/light'
import { FactProvider } from './fact-provider.js'
import { readUnlessUnchanged } from './log-cache.js'

const TEXT_LOGS = ['/var/log/syslog', '/var/log/messages'] as const

/**
 * system/logs/: the last lines of the journal and of the classic text logs, bounded by
 * limits.logLines and limits.logBytes. An offline root's own journal files are read with
 * `journalctl --directory`, never the host's journal. Secrets on a line are redacted in place
 * (`password=<redacted>`), the rest of the line kept.
 */
export class LogFacts extends FactProvider {
  readonly name = 'logs'
  readonly description = 'Last lines of the journal and of /var/log/syslog or messages'
  readonly twinPaths = ['system/logs/']

  protected async read(ctx: ProviderContext): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    // The redacted text is a verdict of the secret rules: other rules, read and redacted again.
    const limits = [ctx.limits.logLines, ctx.limits.logBytes, SECRET_RULES_VERSION]
    const journal = await readJournal(ctx)
    if (journal !== undefined) out['system/logs/journal.txt'] = journal
    for (const path of TEXT_LOGS) {
      // A log that is a link is left out (a plain read refuses one, READ_REFUSED): only a log file itself is read.
      const st = await ctx.host.lstat(path)
      if (st?.type !== 'file') continue
      const text = await readUnlessUnchanged(ctx.host, ctx.cache, `text-log:${path}`, [path], limits, async () => redactSecrets(tail(await ctx.host.readFile(path), ctx)))
      out[`system/logs/${path.slice('/var/log/'.length)}.txt`] = text
    }
    return out
  }
}

async function readJournal(ctx: ProviderContext): Promise<string | undefined> {
  if ((await ctx.host.which('journalctl')) === undefined) return undefined
  const lines = String(ctx.limits.logLines)
  const common = ['--no-pager', '--quiet', '-o', 'short-iso', '-n', lines]
  let args: string[]
  if (ctx.host.live) {
    args = common
  } else {
    const dir = await ctx.host.stat('/var/log/journal')
    if (dir?.type !== 'directory') return undefined
    args = ['--directory', await ctx.host.resolve('/var/log/journal'), ...common]
  }
  // journalctl reads the persistent journal, and on the running system the volatile one too.
  const sources = ctx.host.live ? ['/run/log/journal', '/var/log/journal'] : ['/var/log/journal']
  return readUnlessUnchanged(ctx.host, ctx.cache, 'journal', sources, [args, ctx.limits.logBytes, SECRET_RULES_VERSION], async ({ onlyFolders }) => {
    // Speed (issue 22, session 9): an offline root's journal folder without a single file (a
    // debootstrap root's, one never booted) gives journalctl nothing to read: it prints nothing
    // and exits 0, so its output is known without the process (a first snapshot of such a root:
    // 4–5 ms of journalctl's CPU and the spawn's on Node's thread). Any file below it: journalctl.
    if (!ctx.host.live && onlyFolders) return redactSecrets(tail(new Uint8Array(0), ctx))
    const result = await ctx.host.query('journalctl', args, { timeoutMs: 15000, signal: ctx.signal })
    if (result.exitCode !== 0) return undefined
    return redactSecrets(tail(Buffer.from(result.stdout), ctx))
  })
}

/** The last logLines lines, then the last logBytes bytes of those, cut at a line start. */
export function tail(data: Uint8Array, ctx: Pick<ProviderContext, 'limits'>): string {
  const { logLines, logBytes } = ctx.limits
  if (logLines === 0 || logBytes === 0) return ''
  let text = Buffer.from(data.subarray(Math.max(0, data.length - logBytes * 4))).toString('utf8')
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  text = lines.slice(-logLines).join('\n') + '\n'
  while (Buffer.byteLength(text) > logBytes) {
    const cut = text.indexOf('\n')
    if (cut < 0 || cut === text.length - 1) return ''
    text = text.slice(cut + 1)
  }
  return text
}
