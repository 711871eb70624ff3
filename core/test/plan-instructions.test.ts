import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { MemoryTwin, isTwinSyncError, redactSecrets, stableStringify } from '@twinsync/sdk'
import { commandLine, quoteArg, visibleText } from '../src/plan/command-text.js'
import { COMMANDS_LEDGER, parseInstructionFile, readInstructions, type CommandChangeData } from '../src/plan/plan-instructions.js'
import { twinNamedIn, twinOnTarget } from '../src/plan/twin-places.js'
import { refusedScriptLine } from '../src/plan/script-line.js'
import { assertLinearTime } from '../../test/support/linear-time.js'

const refused = (code: string, pattern: RegExp) => (e: unknown) => isTwinSyncError(e) && e.code === code && pattern.test(e.message)

describe('plans/*.yaml instructions', () => {
  it('turns run and script actions into command changes, with the script content to review', async () => {
    const twin = new MemoryTwin([
      { path: 'plans/deploy.yaml', content: 'description: After deploy\nactions:\n  - run: [systemctl, daemon-reload]\n    phase: before\n  - script: fix-perms.sh\n    args: [--verbose]\n    description: Fix permissions\n' },
      { path: 'scripts/fix-perms.sh', content: '#!/bin/sh\nchmod 0640 /etc/app.conf\n' },
      { path: 'plans/README.md', content: 'not a plan' },
    ])
    const changes = await readInstructions(twin)
    assert.deepEqual(changes.map((c) => [c.id, c.operation, c.summary, c.risk]), [
      ['commands:plans/deploy.yaml#1', 'run', 'run systemctl daemon-reload', 'high'],
      ['commands:plans/deploy.yaml#2', 'script', 'script scripts/fix-perms.sh --verbose (2 lines, sha256 d1600c4a42de)', 'high'],
    ])
    const script = changes[1]?.data as CommandChangeData
    assert.equal(script.description, 'Fix permissions', 'the description is kept, second to what runs')
    assert.deepEqual(script.argv, ['scripts/fix-perms.sh', '--verbose'])
    assert.equal(script.script?.text, '#!/bin/sh\nchmod 0640 /etc/app.conf\n')
    assert.equal((changes[0]?.data as CommandChangeData).phase, 'before')
  })

  it('summarises a command by its exact argument list, quoted so nothing can hide in it', async () => {
    const twin = new MemoryTwin([
      { path: 'plans/a.yaml', content: 'actions:\n  - run: [rm, -rf, "/var/tmp/some cache", "it\'s", "a\\nb", "\\e[2Kok"]\n    description: Harmless cleanup\n' },
    ])
    const [change] = await readInstructions(twin)
    assert.equal(change?.summary, `run rm -rf '/var/tmp/some cache' 'it'\\''s' $'a\\nb' $'\\e[2Kok'`)
    assert.deepEqual((change?.data as CommandChangeData).argv, ['rm', '-rf', '/var/tmp/some cache', "it's", 'a\nb', '\x1b[2Kok'])
    assert.equal((change?.data as CommandChangeData).description, 'Harmless cleanup')
  })

  // Session 45: the plan showed the path of a twin file a command ran, never its content.
  it('refuses a command naming a file of the twin repository (an argument, relative from /, inside an option or a shell line, a script\'s #! line) when the twin lies in the target: PLAN_INVALID naming the action', async () => {
    const twinDir = '/var/lib/twinsync/twin'
    const named: Array<[string, RegExp]> = [
      ['  - run: [sh, /var/lib/twinsync/twin/scripts/x.sh]\n', /actions\[0\]": it names \/var\/lib\/twinsync\/twin\/scripts\/x\.sh, a file of the twin repository/],
      ['  - run: [/var/lib/twinsync/twin/filesystem/usr/local/bin/tool]\n', /it names \/var\/lib/],
      ['  - run: [sh, var/lib/twinsync//twin/./scripts/x.sh]\n', /it names var\/lib/],
      ['  - run: [sh, -c, ". /var/lib/twinsync/twin/scripts/env; true"]\n', /it names \. \/var/],
      ['  - run: [python3, --file=/var/lib/twinsync/twin/x.py]\n', /--file=/],
      ['  - script: ok.sh\n    args: [/var/lib/twinsync/twin/scripts/data]\n', /it names \/var\/lib\/twinsync\/twin\/scripts\/data/],
      ['  - script: interp.sh\n', /its script's #! line names \/var\/lib\/twinsync\/twin\/scripts\/interp/],
    ]
    for (const [action, message] of named) {
      const twin = new MemoryTwin([
        { path: 'plans/a.yaml', content: `actions:\n${action}` },
        { path: 'scripts/ok.sh', content: '#!/bin/sh\ntrue\n' },
        { path: 'scripts/interp.sh', content: '#!/var/lib/twinsync/twin/scripts/interp -x\nanything\n' },
      ])
      await assert.rejects(readInstructions(twin, twin, [twinDir]), refused('PLAN_INVALID', message), action)
      // Without a twin in the target (its folder elsewhere), the same plan is read as before.
      assert.equal((await readInstructions(twin)).length, 1, action)
    }
    const fine = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - run: [ls, /var/lib/twinsyncd, /srv/twin-old/x, twins/x]\n  - script: ok.sh\n' }, { path: 'scripts/ok.sh', content: '#!/bin/sh\ntrue\n' }])
    assert.equal((await readInstructions(fine, fine, [twinDir])).length, 2, 'a neighbour of the folder is no file of it')
    assert.deepEqual(twinOnTarget('/', '/var/lib/twinsync/twin'), ['/var/lib/twinsync/twin'])
    assert.deepEqual(twinOnTarget('/mnt/img', '/mnt/img/srv/twin'), ['/srv/twin'])
    assert.deepEqual(twinOnTarget('/mnt/img', '/srv/twin'), [])
  })

  // Session 46 (session 45's review, M5): a substring test of the folder let ordinary shell through.
  it('refuses the shell forms that reach the twin through its state folder, doubled slashes, its folder\'s name after a cd, ~ or $HOME, for a twin anywhere in the target (--repo)', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['/var/lib/twinsync/twin', '[sh, -c, "cd /var/lib/twinsync && sh twin/scripts/x.sh"]', /it names cd \/var\/lib\/twinsync && sh twin\/scripts\/x\.sh, a file of the twin repository/],
      ['/var/lib/twinsync/twin', "[sh, -c, 'sh /var/lib//twinsync/twin/scripts/x.sh']", /it names sh \/var\/lib\/\/twinsync/],
      ['/root/twin', "[sh, -c, 'sh ~/twin/x.sh']", /it names sh ~\/twin\/x\.sh, a file of the twin repository \(\/root\/twin\)/],
      ['/root/twin', '[sh, -c, "sh $HOME/twin/x.sh"]', /\$HOME\/twin/],
      ['/srv/twin', '[sh, -c, "cd /srv; . twin/env"]', /it names cd \/srv; \. twin\/env/],
      ['/srv/twin', '[sh, -c, "cd /srv/./twin && sh scripts/x"]', /cd \/srv\/\.\/twin/],
      ['/srv/twin', '[tar, -C, /srv, -xf, twin/scripts/x.tar]', /it names twin\/scripts\/x\.tar/],
      // Session 46's review (R3): `..` inside a shell line, resolved as the kernel would (no links).
      ['/srv/t', '[sh, -c, ". /var/lib/../lib/twinsync/twin/scripts/env"]', /it names \. \/var\/lib\/\.\.\/lib\/twinsync/],
      ['/srv/t', '[sh, -c, ". ~ann/.local/share/x/../twinsync/twin/env"]', /it names \. ~ann/],
      ['/srv/t', '[sh, -c, "cd /tmp && . /srv/x/../t/env"]', /it names cd \/tmp && \. \/srv\/x\/\.\.\/t\/env/],
      // Session 47's review (F7): a quote or backslash split the path into runs resolved apart; the shell reads it whole.
      ['/srv/t', `[sh, -c, '. "/srv/x/"../t/env']`, /it names \. "\/srv\/x\/"\.\.\/t\/env/],
      ['/srv/t', `[sh, -c, '. /srv/x/\\../t/env']`, /it names \. \/srv\/x\/\\\.\.\/t\/env/],
      // Session 48: quotes inside a name with no `..` beside them (a script's line was read so; a `run:` argument was not).
      ['/srv/t', `[sh, -c, '. /var/lib/"twinsync"/twin/env']`, /it names \. \/var\/lib\/"twinsync"\/twin\/env/],
      ['/srv/t', `[sh, -c, '. /srv/"t"/env']`, /it names \. \/srv\/"t"\/env/],
      ['/srv/t', `[sh, -c, '. /var/lib/twin\\sync/twin/env']`, /it names/],
      // Session 48's review (F10): bash's `$'…'` spells the name in escapes.
      ['/srv/t', `[bash, -c, ". $'/srv/\\\\x74/env'"]`, /it names/],
    ]
    for (const [dir, run, message] of cases) {
      const twin = new MemoryTwin([{ path: 'plans/a.yaml', content: `actions:\n  - run: ${run}\n` }])
      await assert.rejects(readInstructions(twin, twin, [dir]), refused('PLAN_INVALID', message), run)
      assert.equal((await readInstructions(twin)).length, 1, run)
    }
    // Session 46's review (R2): the folder's name after any slash named every /usr/bin/git for a twin at /srv/git.
    for (const [dir, run] of [['/srv/git', '[/usr/bin/git, -C, /srv/app, pull]'], ['/srv/www', '[cp, /var/www/html/index.html, /tmp/x]'], ['/srv/twin', '[ls, /opt/twin, /usr/share/twin]']] as const) {
      const ordinary = new MemoryTwin([{ path: 'plans/a.yaml', content: `actions:\n  - run: ${run}\n` }])
      assert.equal((await readInstructions(ordinary, ordinary, [dir])).length, 1, `${run} with a twin at ${dir}`)
    }
    // A reviewed script's own lines are shell text too: what they source from the twin is not shown.
    const sourcing = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - script: ok.sh\n' }, { path: 'scripts/ok.sh', content: '#!/bin/sh\nset -e\n. /var/lib/twinsync/twin/scripts/env\n' }])
    await assert.rejects(readInstructions(sourcing, sourcing, ['/var/lib/twinsync/twin']), refused('PLAN_INVALID', /"actions\[0\]": line 3 of scripts\/ok\.sh names \/var\/lib\/twinsync, a file of the twin repository/))
    assert.equal((await readInstructions(sourcing)).length, 1)
  })

  // Session 46's review (R7): every script line naming the twin refused the plan, comments and backups too.
  it("lets a reviewed script's lines that only look at the twin through (a comment, ls, echo, a backup by tar -c at the top level); still refuses one that runs, sources, copies or writes it, or that this reader does not follow", async () => {
    const script = async (lines: string) => {
      const twin = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - script: ok.sh\n' }, { path: 'scripts/ok.sh', content: `#!/bin/sh\nset -e\n${lines}\n` }])
      return readInstructions(twin, twin, ['/var/lib/twinsync/twin'])
    }
    for (const fine of [
      '# keeps /var/lib/twinsync small',
      'tar -czf /backup/state.tgz /var/lib/twinsync # nightly',
      'tar czf /backup/state.tgz -C /var/lib/twinsync twin',
      'tar -c -f /backup/state.tar \\\n  --exclude=twin/.git /var/lib/twinsync',
      'du -sh /var/lib/twinsync >/dev/null 2>&1 && echo "the twin is at /var/lib/twinsync/twin" >&2',
      'if [ -d /srv/x ]; then ls /srv/x; fi\nls -l "${HOME}" /var/lib/twinsync/twin/system',
      'set -eu -o pipefail\nexport DEBIAN_FRONTEND=noninteractive\ncommand -v tar >/dev/null\n# /var/lib/twinsync stays',
      // A lead word is no assignment before a let-through tar (226680ae refused these).
      '! tar -czf /backup/x.tgz /var/lib/twinsync',
      'time tar -czf /backup/x.tgz /var/lib/twinsync',
      // Resolved outside /etc (session 48's review, F9), root's home too.
      'tar -czf /backup/../srv/backup/x.tgz /var/lib/twinsync',
      'tar -czf ~/backup/x.tgz /var/lib/twinsync',
      'ls -l /var/lib/"twinsync"/twin/env',
      // After a backup, a pattern that cannot match its file name, another archive, `$?` (session 48).
      'tar -czf /backup/s.tgz /var/lib/twinsync\nchmod 640 /etc/app/*.conf\nls -l /backup/*.tgz\n[ $? -eq 0 ] && echo "done: $?" ${HOME}\ntar -czf /backup/etc.tgz /etc',
    ]) assert.equal((await script(fine)).length, 1, fine)
    for (const [bad, line] of [
      ['. /var/lib/twinsync/twin/scripts/env', 3],
      ['cp /var/lib/twinsync/twin/filesystem/etc/x /etc/x', 3],
      ['ls /var/lib/twinsync/twin/scripts/*.sh | xargs -n1 sh', 3],
      ['echo ". /var/lib/twinsync/twin/env" >> /root/.bashrc', 3],
      ['tar -xzf /var/lib/twinsync/twin/x.tgz -C /', 3],
      ['tar -czf /var/lib/twinsync/twin/x.tgz /etc', 3],
      ['tar -czf /backup/x.tgz --remove-files /var/lib/twinsync', 3],
      ['tar -cf /backup/x.tar -I /var/lib/twinsync/twin/gz /etc', 3],
      ['x=/var/lib/twinsync/twin/env; . "$x"', 3],
      ['ls /var/lib/twinsync/twin/env; . "$_"', 3],
      ['ls /var/lib/twinsync/twin/env\n. "$_"', 4],
      ['(\necho . /var/lib/twinsync/twin/env\n) | sh', 4],
      ['{ ls /var/lib/twinsync/twin/scripts; } | sh', 3],
      ['ls() { . "$1"; }\nls /var/lib/twinsync/twin/env', 4],
      ['x=$(date)\n# /var/lib/twinsync', 4],
      ['sh -c "true\n# "; . /var/lib/twinsync/twin/env', 4],
      ['. ${x%\n#}var/lib/twinsync/twin/env', 4],
      ['cat \\\n  /var/lib/twinsync/twin/x', 3],
      ['if true; then exec >>/root/.bashrc; fi\necho ". /var/lib/twinsync/twin/env"', 4],
      ['exec 3>>/root/.bashrc; echo ". /var/lib/twinsync/twin/env" >&3', 3],
      ['! <then find ls -exec /var/lib/twinsync/twin/env \\;', 3],
      ['tar -czf /backup/state.tgz /var/lib/twinsync\ntar -xzf /backup/state.tgz -C /', 4],
      ["trap '. ${BASH_COMMAND#ls }' DEBUG\nls /var/lib/twinsync/twin/env", 4],
      ['PATH=/srv/bin:$PATH\nls /var/lib/twinsync/twin/env', 4],
      ['hash -p /srv/bin/x ls; ls /var/lib/twinsync/twin/env', 3],
      // Session 47's review (F1, F3, F4): one word away from the cases above.
      ["builtin trap '. ${BASH_COMMAND#ls }' DEBUG\nls /var/lib/twinsync/twin/env", 4],
      ["command trap '. ${BASH_COMMAND#ls }' DEBUG\nls /var/lib/twinsync/twin/env", 4],
      ["eval 'ls() { . \"$1\"; }'\nls /var/lib/twinsync/twin/env", 4],
      ['builtin hash -p /srv/bin/x ls; ls /var/lib/twinsync/twin/env', 3],
      ['printf -v PATH %s /srv/bin:/usr/bin\nls /var/lib/twinsync/twin/env', 4],
      ['X= exec >>/root/.bashrc\necho ". /var/lib/twinsync/twin/env"', 4],
      ['shopt -s expand_aliases\nBASH_ALIASES[ls]=.\nls /var/lib/twinsync/twin/env', 5],
      ['BASH_CMDS[ls]=/srv/bin/x\nls /var/lib/twinsync/twin/env', 4],
      ['export -f ls\nls /var/lib/twinsync/twin/env', 4],
      ['tar -cf /etc/default/grub /var/lib/twinsync/twin/env', 3],
      ['tar -czf /root/.bashrc /var/lib/twinsync', 3],
      ['tar -czf /etc/backup.tgz /var/lib/twinsync', 3],
      ['TAPE=/backup/s.tgz tar -cz /var/lib/twinsync', 3],
      ['tar -cz /var/lib/twinsync > /backup/s.tgz', 3],
      // Session 47's review (F4): the archive named another way than its path as written.
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ncd /backup\ntar -xzf s.tgz -C /', 5],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ncd /backup; tar -xzfs.t?z -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup/s.t?z -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup/s.t[g]z -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup/*.tgz -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup/{s,x}.tgz -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup/"s".tgz -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\ntar -xzf /backup//s.tgz -C /', 4],
      ['tar -czf /backup/s.tgz /var/lib/twinsync\nx=$(date)\ntar -xzf /backup/s.t?z -C /', 5],
      ['export TAPE=/backup/s.tgz\ntar -czf /backup/s.tgz /var/lib/twinsync\ntar -xz -C /', 4],
      ['tar -czf "$D"/s.tgz /var/lib/twinsync', 3],
      ['tar -czf /backup/s*.tgz /var/lib/twinsync', 3],
      ['X=1 tar -czf /backup/x.tgz /var/lib/twinsync', 3],
      ['! X=1 tar -czf /backup/x.tgz /var/lib/twinsync', 3],
      // A name the shell reads whole, split by quotes or a backslash (session 48).
      ['. /var/lib/"twinsync"/twin/env', 3],
      ['. /var/lib/twinsyn\\c/twin/env', 3],
      ['x=$(date)\n. /var/lib/twin"sync/twin/env"', 4],
      // One ASSIGNMENT for the line and the command (session 48): these stay refused.
      ['X[1]=1 ls /var/lib/twinsync/twin/env', 3],
      ['X+=1 ls /var/lib/twinsync/twin/env', 3],
      ['TAPE=/backup/x.tgz tar -c -f /backup/x.tgz /var/lib/twinsync', 3],
      // Session 48's review: a carriage return is no blank to the shells (F1); an archive's path as
      // the kernel resolves it, a relative one, another host's (F9); bash's `$'…'` decodes a name (F10).
      ['echo hi \r# ; . /var/lib/twinsync/twin/env', 3],
      ['X=1\rls /var/lib/twinsync/twin/scripts/x.sh', 3],
      ['tar -cf /./etc/logrotate.d/x.tar /var/lib/twinsync', 3],
      ['tar -cf /usr/../etc/logrotate.d/x.tar /var/lib/twinsync', 3],
      ['tar -cf ~/../etc/logrotate.d/x.tar /var/lib/twinsync', 3],
      ['cd /etc/logrotate.d\ntar -cf x.tar /var/lib/twinsync', 4],
      ['tar -czf backuphost:s.tgz /var/lib/twinsync', 3],
      ["echo $'\\x41'\nls /var/lib/twinsync/twin/env", 4],
      [". $'/var/lib/twin\\x73ync/twin/env'", 3],
    ] as const) {
      await assert.rejects(script(bad), refused('PLAN_INVALID', new RegExp(`line ${line} of scripts/ok\\.sh names `)), bad)
    }
  })

  it("reads a script's lines and resolves a path's `..` in time linear in the text (the twin's text is anyone's)", () => {
    const dirs = ['/srv/t']
    // posix.normalize takes time as the square of a run of `../`: 256 KB of it took over a second.
    const dots = `ls ${'../'.repeat(85000)}`
    assertLinearTime(() => assert.equal(twinNamedIn(dots, dirs), undefined), dots, '256 KB of ../')
    // With a quote or backslash beside the `..`, once more without them (session 47's review, F7).
    const quotedDots = `ls ${'"../'.repeat(64000)}`
    assertLinearTime(() => assert.equal(twinNamedIn(quotedDots, dirs), undefined), quotedDots, '256 KB of "../')
    const escapes = "$'\\x41".repeat(40_000)
    assertLinearTime(() => assert.equal(twinNamedIn(escapes, dirs), undefined), escapes, "240 KB of $'\\x41")
    const quoted = `#!/bin/sh\nls /var/lib/twinsync ${'"${'.repeat(8000)}x\n${'ls "a" '.repeat(8000)}`
    assertLinearTime(() => assert.equal(refusedScriptLine(quoted.split('\n'), (t) => twinNamedIn(t, dirs) !== undefined).at, 1), quoted, 'open quotes and ${')
    // Later lines are searched for each archive a backup made (session 48): patterns and `${` after one, and thousands of backups.
    const backup = 'tar -czf /b/s.tgz /var/lib/twinsync'
    const after = `#!/bin/sh\n${backup}\n${'ls /x/*y [{ '.repeat(4000)}\nls ${'${'.repeat(8000)}x ${'$?'.repeat(8000)}`
    assertLinearTime(() => assert.equal(refusedScriptLine(after.split('\n'), (t) => twinNamedIn(t, dirs) !== undefined).at, -1), after, 'patterns after a backup')
    const backups = `#!/bin/sh\n${Array.from({ length: 4000 }, (_, i) => backup.replace('s.tgz', `a${i}.tgz`)).join('\n')}`
    assertLinearTime(() => assert.equal(refusedScriptLine(backups.split('\n'), (t) => twinNamedIn(t, dirs) !== undefined).at, 9), backups, '4,000 backups')
  })

  it('spells out what a terminal would hide, in arguments and script text', () => {
    assert.equal(quoteArg(''), "''")
    assert.equal(quoteArg('--mode=0640'), '--mode=0640')
    assert.equal(quoteArg('a\u202eb'), "$'a\\xe2\\x80\\xaeb'")
    assert.equal(commandLine(['sh', '-c', 'echo hi; rm -rf /']), "sh -c 'echo hi; rm -rf /'")
    assert.equal(visibleText('echo ok\r\x1b[2Krm -rf /\n'), 'echo ok\\r\\e[2Krm -rf /\n')
  })

  it('leaves out run-once actions that already ran, but not changed ones', async () => {
    const twin = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - run: ["true"]\n  - run: [hostname]\n    once: false\n' }])
    const [first, second] = await readInstructions(twin)
    const key = (first?.data as CommandChangeData).key
    twin.set(COMMANDS_LEDGER, JSON.stringify({ [key]: { appliedAt: 'x' }, [(second?.data as CommandChangeData).key]: {} }))
    assert.deepEqual((await readInstructions(twin)).map((c) => c.id), ['commands:plans/a.yaml#2'])
    twin.set('plans/a.yaml', 'actions:\n  - run: ["true", --changed]\n  - run: [hostname]\n    once: false\n')
    assert.equal((await readInstructions(twin)).length, 2)
  })

  // Session 47 (session 46's review, S1): the summary showed 12 hex digits of the full text's sha256, the key all of it.
  it('a script with a password: its summary shows the sha256 of its redacted text and its key is none of the full text (a clean one keys as before)', async () => {
    const text = '#!/bin/sh\nmysql -u root -pS3cretpw db < /root/schema.sql\n'
    const twin = new MemoryTwin([{ path: 'plans/db.yaml', content: 'actions:\n  - script: db.sh\n' }, { path: 'scripts/db.sh', content: text }])
    const [change] = await readInstructions(twin)
    const data = change?.data as CommandChangeData
    const sha = (t: string) => createHash('sha256').update(t).digest('hex')
    const full = sha(stableStringify({ file: 'plans/db.yaml', action: { script: 'db.sh' }, sha256: sha(text) }))
    assert.equal(change?.summary, `script scripts/db.sh (2 lines, sha256 ${sha(await redactSecrets(text, { path: 'scripts/db.sh' })).slice(0, 12)})`)
    assert.ok(!change?.summary.includes(sha(text).slice(0, 12)))
    assert.notEqual(data.key, full)
    assert.equal(data.fullKey, full, 'known to this machine by it, never committed')
    twin.set('scripts/db.sh', '#!/bin/sh\ntrue\n')
    const [clean] = await readInstructions(twin)
    assert.deepEqual([(clean?.data as CommandChangeData).key, (clean?.data as CommandChangeData).fullKey], [sha(stableStringify({ file: 'plans/db.yaml', action: { script: 'db.sh' }, sha256: sha('#!/bin/sh\ntrue\n') })), undefined])
  })

  it('a record of what ran that is not a JSON object (the twin is untrusted): TWIN_INVALID, not an internal error', async () => {
    const twin = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - run: ["true"]\n' }])
    for (const bad of ['null', '{bad', '[1]', '"text"']) {
      twin.set(COMMANDS_LEDGER, bad)
      await assert.rejects(readInstructions(twin), refused('TWIN_INVALID', /system\/journal\/commands\.json/), bad)
    }
  })

  it('reads what ran from the record it is given (the working twin), not from the snapshot the actions come from', async () => {
    const basis = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - run: ["true"]\n' }])
    const [change] = await readInstructions(basis)
    const now = new MemoryTwin([{ path: COMMANDS_LEDGER, content: JSON.stringify({ [(change?.data as CommandChangeData).key]: { appliedAt: 'x' } }) }])
    assert.deepEqual(await readInstructions(basis, now), [])
  })

  it('names file, line and key of an invalid instruction', async () => {
    await assert.rejects(
      parseInstructionFile('plans/x.yaml', 'actions:\n  - run: [ls]\n  - scirpt: a.sh\n'),
      refused('PLAN_INVALID', /^plans\/x\.yaml:3: "actions\[1\]/),
    )
    await assert.rejects(parseInstructionFile('plans/x.yaml', 'actions:\n  - run: []\n'), refused('PLAN_INVALID', /plans\/x\.yaml:2: "actions\[0\]/))
    await assert.rejects(parseInstructionFile('plans/x.yaml', 'actions: [\n'), refused('PLAN_INVALID', /^plans\/x\.yaml:\d+: /))
    await assert.rejects(parseInstructionFile('plans/x.yaml', 'action: []\n'), refused('PLAN_INVALID', /"action": unknown key/))
    await assert.rejects(parseInstructionFile('plans/x.yaml', 'actions:\n  - run: [true]\n'), refused('PLAN_INVALID', /:2: "actions\[0\]\.run\[0\]": must be string/))
  })

  it('refuses scripts outside scripts/ and missing ones, and programs that are not names', async () => {
    for (const script of ['../etc/passwd', '/bin/sh', 'scripts/../../x', 'a/./b']) {
      const twin = new MemoryTwin([{ path: 'plans/a.yaml', content: `actions:\n  - script: ${JSON.stringify(script)}\n` }])
      await assert.rejects(readInstructions(twin), refused('SCRIPT_INVALID', /outside the twin's scripts/), script)
    }
    const missing = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - script: nope.sh\n' }])
    await assert.rejects(readInstructions(missing), refused('SCRIPT_INVALID', /nope\.sh is not in/))
    const shell = new MemoryTwin([{ path: 'plans/a.yaml', content: 'actions:\n  - run: ["rm -rf /; ls"]\n' }])
    await assert.rejects(readInstructions(shell), refused('PLAN_INVALID', /not a program name/))
  })
})
