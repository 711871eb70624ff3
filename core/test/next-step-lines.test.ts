import { strict as assert } from 'node:assert'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The one rule for a command a person is told to run (session 41, 42): built with twinsyncLine
 * (RunTarget.line, a renderer's LineFor; in a provider, the SDK's twinsyncLines(ctx), which the
 * core fills from the same RunTarget), so it names the run's --root, --repo and --config,
 * quoted for a shell. A `twinsync …` written out in a string is a line without them: pasted after
 * a run with --root, --repo or --config (under sudo, a twin elsewhere), it acts on the default
 * twin and configuration. This scan finds such literals in the sources. Each file that still has
 * some is listed below with how many lines and why; a new one fails, and so does a listed count
 * that went down (take the entry out or lower it, so the list only shrinks).
 */
const repoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..')

/** A `twinsync ` (or `sudo twinsync `) in a string: in backticks (escaped in a template), after "Next: ", in parentheses. */
const LITERAL = /\\?`(sudo )?twinsync |Next: twinsync |\(twinsync /
/** Comment lines (what the code is, not what a person is told). */
const COMMENT = /^\s*(\/\/|\*|\/\*|\{\/\*)/

const HELP = "oclif help text (a command's description or a flag's): says what a command is, for no run in particular"
const PLUGINS = "oclif's plugins commands: they take no --root, --repo or --config (plugins are the user's, not the twin's)"

const ALLOWED: Record<string, [number, string]> = {
  'core/src/base-command.ts': [2, '`twinsync COMMAND --help`: help, the same for every target'],
  'core/src/hooks/command-not-found.ts': [1, '`twinsync --help`: help, the same for every target'],
  'core/src/commands/tui.ts': [1, '`twinsync --help`: help, the same for every target'],
  'core/src/commands/adopt.ts': [1, HELP],
  'core/src/commands/apply.ts': [3, HELP],
  'core/src/commands/apt-hook.ts': [1, HELP],
  'core/src/commands/discard.ts': [1, HELP],
  'core/src/commands/forget.ts': [1, HELP],
  'core/src/commands/plan.ts': [1, HELP],
  'core/src/commands/pull.ts': [1, HELP],
  'core/src/commands/push.ts': [1, HELP],
  'core/src/commands/rehearse.ts': [2, HELP],
  'core/src/commands/revert.ts': [1, HELP],
  'core/src/commands/schedule.ts': [1, HELP],
  'core/src/providers/plugin-sdk.ts': [3, PLUGINS],
  'core/src/providers/provider-manifest.ts': [2, `${PLUGINS} (\`providers\` in the same lines is the run's)`],
  'core/src/providers/provider-registry.ts': [1, PLUGINS],
  'core/src/services/scaffold-plugin.ts': [4, `${PLUGINS}; and the new plugin's own README`],
  'core/src/rehearse/rehearsal-container.ts': [1, PLUGINS],
  'core/src/apply/apply-service.ts': [1, PLUGINS],
  'core/src/services/take-snapshot.ts': [1, PLUGINS],
  'core/src/intent/reconcile-service.ts': [2, "a reflog message (git's record); and the discard's commit message, which the twin's history keeps (other clones, the mirror): no run's paths in it"],
  'core/src/services/schedule.ts': [3, `the marker written into the unit file; an example of --every's syntax in a USAGE error; and ${PLUGINS}`],
  'core/src/services/run-forget.ts': [1, "an example of forget's arguments in a USAGE error"],
  'core/src/twin/twin-repository.ts': [1, "the README written into a new twin's plans/: for every reader of the twin"],
  'core/src/tui/services.ts': [1, '`twinsync tui` WITHOUT --repo, on purpose'],
  'core/src/tui/settings-screen.tsx': [2, '`twinsync tui` WITHOUT --repo, on purpose; "as `twinsync init` does": what the key does, nothing to paste'],
  'core/src/tui/plan-screen.tsx': [1, '"as `twinsync pull --take-mirror`": what the key does, nothing to paste'],
  'core/src/twin/twin-owner.ts': [1, "schematic: `sudo twinsync … --repo TWIN` as the twin's owner, where … is the person's own command"],
  'core/src/twin/twin-state.ts': [1, '"point --repo at a twin made with `twinsync init`": how a twin is made, the --repo to give is the point'],
  'core/src/rehearse/inside.ts': [1, `${PLUGINS}; and \`providers\` as the user who rehearses runs it: said inside the container, whose root and twin are not the person's`],
  'sdk/src/errors.ts': [4, "error codes' descriptions (`twinsync describe`): what a code means, for no run in particular"],
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []))
}

describe('next steps: every suggested twinsync command is built by twinsyncLine, with the run\'s flags', () => {
  it('no `twinsync …` written out in a string, but for the files listed with their reason', () => {
    const plugins = readdirSync(join(repoRoot, 'plugins')).map((p) => join(repoRoot, 'plugins', p, 'src'))
    const found = new Map<string, string[]>()
    for (const file of [join(repoRoot, 'core/src'), join(repoRoot, 'sdk/src'), ...plugins].flatMap(sources)) {
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => !COMMENT.test(l) && LITERAL.test(l))
      if (lines.length > 0) found.set(relative(repoRoot, file), lines.map((l) => l.trim().slice(0, 160)))
    }
    const wrong: string[] = []
    for (const [file, lines] of found) {
      const allowed = ALLOWED[file]?.[0] ?? 0
      if (lines.length > allowed) wrong.push(`${file}: ${lines.length} line(s) name a bare \`twinsync …\` (allowed ${allowed}); build it with twinsyncLine / RunTarget.line (a provider: twinsyncLines(ctx)):\n    ${lines.join('\n    ')}`)
      if (lines.length < allowed) wrong.push(`${file}: ${lines.length} line(s), the list allows ${allowed}: lower its entry (the list only shrinks)`)
    }
    for (const file of Object.keys(ALLOWED)) if (!found.has(file)) wrong.push(`${file}: listed, but has none any more: take it off the list`)
    assert.deepEqual(wrong, [])
  })
})
