import { strict as assert } from 'node:assert'
import { git } from './in-process-twin.js'
import { mirrorWithCommit } from './mirror-commit.js'

type Run = { code: number | null; stdout: string; stderr: string }
type Twinsync = (...args: string[]) => Promise<Run>

/** A run's exit code and the start of what it said, for an assertion's message. */
export const said = (r: Run): string => `exit ${r.code}:\n${r.stdout.slice(0, 3000)}\n${r.stderr.slice(0, 3000)}`

/**
 * A twin document over its provider's cap, already in the working twin: `plan` and `status` say
 * `refusal` (exit 1, the rest still reported) and `plan` the next step `planned`; `apply` refuses
 * the plan under the document's own code (TWIN_INVALID, exit 2: planRefusal passes on a code the
 * SDK registers, and PLAN_INVALID only stands for a provider's own); and `state` (HEAD, the working
 * twin, the machine's side) is what it was before. The documents' cap tests (apt, systemd, cron,
 * autostart) share this sequence.
 */
export async function refusedBeforePlanned(twinsync: Twinsync, refusal: RegExp, planned: RegExp, state: () => Promise<string>, unchanged: string): Promise<void> {
  const before = await state()
  const plan = await twinsync('plan')
  assert.equal(plan.code, 1, said(plan))
  assert.match(plan.stdout, refusal, said(plan))
  assert.match(plan.stdout, planned, said(plan))
  const status = await twinsync('status')
  assert.equal(status.code, 1, said(status))
  assert.match(status.stdout, refusal, said(status))
  const apply = await twinsync('apply', '--yes', '--accept-high-risk')
  assert.equal(apply.code, 2, said(apply))
  assert.match(apply.stderr, /\[TWIN_INVALID\] Nothing was applied: the plan has 1 error\(s\)/, said(apply))
  assert.equal(await state(), before, unchanged)
}

/**
 * A mirror whose one new commit (`edit` in a clone) brings a document over its provider's cap:
 * `pull` refuses it whole (TWIN_UNSAFE matching `refusal`, exit 2) before anything moves: HEAD,
 * the working twin and TwinSync's refs as they were. The mirror's fetched ref is dropped after.
 */
export async function pullRefused(twinDir: string, twinsync: Twinsync, dir: string, edit: (clone: string) => Promise<void>, message: string, refusal: RegExp): Promise<Run> {
  await mirrorWithCommit(twinDir, twinsync, dir, edit, message)
  const state = () => `${git(twinDir, ['rev-parse', 'HEAD'])}${git(twinDir, ['status', '--porcelain'])}${git(twinDir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/twinsync'])}`
  const before = state()
  const pull = await twinsync('pull', '--no-apply')
  assert.equal(pull.code, 2, said(pull))
  assert.match(pull.stderr, refusal, said(pull))
  assert.equal(state(), before, 'HEAD, the working twin and the refs unchanged')
  git(twinDir, ['update-ref', '-d', 'refs/remotes/mirror/main'])
  return pull
}
