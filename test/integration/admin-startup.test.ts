// Session 25: a pulled twin changing the startup files of a user who may sudo (an `alias sudo=…`
// in /home/ann/.bashrc takes her password at her next sudo: root). Before, only root's own were
// rated; ann's .bashrc was a medium replace that `apply --yes` wrote. Who may sudo is read from the
// machine (/etc/group, /etc/passwd, sudoers), never from the twin. In-process, through the
// services the CLI and the TUI call, real git, a hand-made root; the root checksummed.
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Plan } from '@twinsync/sdk'
import { ApplyService } from '../../core/src/apply/apply-service.js'
import { highRiskChanges, highRiskLines } from '../../core/src/apply/high-risk.js'
import { LocalHost } from '@twinsync/sdk'
import { readAdminUsers } from '../../core/src/plan/admin-users.js'
import type { DependencyContainer } from '../../core/src/di.js'
import { PlanWorkflow } from '../../core/src/services/make-plan.js'
import { checksum, errorCode, git, smallTwin } from '../support/in-process-twin.js'

describe("a pulled change to the startup files of a user who may become root is high risk, like root's", function () {
  this.timeout(120_000)
  let dir: string
  let root: string
  let twin: string
  let initial: string
  let configPath: string
  let container: () => Promise<DependencyContainer>

  before(async () => {
    const rig = await smallTwin('twinsync-admins-', {
      files: {
        'etc/os-release': 'ID=debian\nVERSION_ID="13"\n',
        'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\ncid:x:1002:1002::/home/cid:/bin/bash\ndee:x:1003:27::/home/dee:/bin/bash\neve:x:1004:1004::/home/eve:/bin/bash\n',
        'etc/group': 'root:x:0:\nsudo:x:27:ann\nann:x:1000:\nbob:x:1001:\ncid:x:1002:\nops:x:1010:cid\neve:x:1004:\n',
        'etc/sudoers': { text: 'Defaults env_reset\n# User privilege specification\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n', mode: 0o440 },
        'etc/sudoers.d/ops': { text: 'User_Alias OPS = %ops, #1004 # the on-call\nOPS ALL = (root) NOPASSWD: /usr/bin/systemctl\n', mode: 0o440 },
        'etc/sudoers.d/old.bak': { text: 'bob ALL=(ALL) ALL\n', mode: 0o440 },
        'home/ann/.bashrc': '# ~/.bashrc\n',
        'home/bob/.bashrc': '# ~/.bashrc\n',
      },
    })
    ;({ dir, root, twin, configPath, container, initial } = rig)
  })
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    git(twin, ['reset', '--quiet', '--hard', initial])
    git(twin, ['clean', '--quiet', '-fdx'])
  })

  it('reads who may become root from the machine: group sudo (a member, a primary group), a sudoers rule through an alias, a group and a uid; not a file sudo skips', async () => {
    const admins = await readAdminUsers(new LocalHost(root))
    assert.deepEqual(admins.map((a) => [a.user, a.home, a.why]).sort(), [
      ['ann', '/home/ann', 'in group sudo'],
      ['cid', '/home/cid', 'named by a rule of /etc/sudoers.d/ops'],
      ['dee', '/home/dee', 'in group sudo'],
      ['eve', '/home/eve', 'named by a rule of /etc/sudoers.d/ops'],
    ])
  })

  async function pulled(path: string, text: string): Promise<void> {
    await writeFile(join(twin, 'filesystem', path), text)
    git(twin, ['commit', '--quiet', '-am', 'pulled'])
  }
  const plan = async (): Promise<Plan> => (await container()).resolve(PlanWorkflow).plan({})

  it("ann (group sudo): her .bashrc is high with the reason, and apply --yes without accepting it writes nothing; bob's stays as it was", async () => {
    await pulled('home/ann/.bashrc', '# ~/.bashrc\nalias sudo="/tmp/.x; sudo"\n')
    await pulled('home/bob/.bashrc', '# ~/.bashrc\nalias ll="ls -l"\n')
    const made = await plan()
    const by = (path: string) => made.changes.find((c) => c.resource === path)
    assert.equal(by('/home/ann/.bashrc')?.risk, 'high')
    assert.match(by('/home/ann/.bashrc')?.riskReason ?? '', /^ann may become root \(in group sudo\): a startup file of their home.*alias sudo=/)
    assert.notEqual(by('/home/bob/.bashrc')?.risk, 'high')
    assert.equal(by('/home/bob/.bashrc')?.riskReason, undefined)
    const before = await checksum(root)
    // A plan file with the reason taken out is rated again, from the machine, by the apply.
    const forged = { ...made, changes: made.changes.map((c) => ({ ...c, risk: 'low' as const, riskReason: undefined })) }
    for (const p of [made, forged]) {
      assert.equal(await errorCode((await container()).resolve(ApplyService).apply({ plan: p, fromFile: false, signal: new AbortController().signal })), 'HIGH_RISK_NOT_ACCEPTED')
    }
    // As the TUI calls it (no command of its own to give): the one that accepts them names this
    // run's root, twin and configuration file (RunTarget), not the defaults (session 41).
    const refused = await (await container()).resolve(ApplyService).apply({ plan: made, fromFile: false, signal: new AbortController().signal }).then(
      () => assert.fail('applied'),
      (error: { nextStep?: string }) => error,
    )
    const line = `twinsync apply --yes --accept-high-risk --root ${root} --repo ${twin} --config ${configPath}`
    assert.ok(refused.nextStep?.includes(`run \`${line}\``), refused.nextStep)
    assert.equal(await checksum(root), before)
    assert.equal(await readFile(join(root, 'home/ann/.bashrc'), 'utf8'), '# ~/.bashrc\n')
  })

  // Session 41: a saved plan carried the rating of the machine it was made on. bob could not sudo
  // then; by the apply he can, and the apply's check (rated again from the machine) refused his
  // .bashrc, while the question the CLI asks of the same plan (highRiskLines, a plain y/N without
  // one) counted none: `apply FILE` without a terminal said to run it with `--yes`, which was then refused.
  it('a saved plan is rated by the machine it is applied on: the question counts what the apply checks (bob may sudo since it was saved)', async () => {
    await pulled('home/bob/.bashrc', '# ~/.bashrc\nalias sudo="/tmp/.x; sudo"\n')
    const file = join(dir, 'saved-plan.json')
    const workflow = (await container()).resolve(PlanWorkflow)
    const made = await workflow.plan({})
    assert.equal(made.changes.find((c) => c.resource === '/home/bob/.bashrc')?.riskReason, undefined)
    await workflow.save(file, made)
    const sudoers = join(root, 'etc/sudoers.d/bob')
    await writeFile(sudoers, 'bob ALL=(ALL:ALL) ALL\n', { mode: 0o440 })
    try {
      const saved = await (await container()).resolve(PlanWorkflow).toApply({ planFile: file })
      const refused = await (await container()).resolve(ApplyService).apply({ plan: saved, fromFile: true, signal: new AbortController().signal }).then(
        () => assert.fail('applied'),
        (error: { code?: string; details?: { changes?: Array<{ id: string }> } }) => error,
      )
      assert.equal(refused.code, 'HIGH_RISK_NOT_ACCEPTED')
      const checked = (refused.details?.changes ?? []).map((c) => c.id)
      assert.equal(checked.length, 1)
      assert.deepEqual(highRiskChanges(saved.changes).map((h) => h.change.id), checked)
      assert.match(highRiskLines(saved.changes).join('\n'), /^1 of these changes runs code as root or lets someone log in:\n {2}.*\.bashrc.*: bob may become root \(named by a rule of \/etc\/sudoers\.d\/bob\)/)
    } finally {
      await rm(sudoers)
    }
  })
})
