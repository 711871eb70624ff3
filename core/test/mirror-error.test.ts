import { strict as assert } from 'node:assert'
import { twinsyncLine } from '../src/plan/command-text.js'
import { mirrorError } from '../src/remote/git-transport.js'

const URL = 'http://127.0.0.1:40301/twin.git'
/** The run's lines (RunTarget's): a twin at a path with a space. */
const LINE = (args: readonly string[]) => twinsyncLine(args, { root: '/', repo: '/var/my twin' })
const code = (output: string) => mirrorError({ ok: false, output }, 'push', URL, LINE).code

describe('mirrorError: what git said about the mirror, as a code a person can act on', () => {
  it('a refusal of the token, in git\'s words, is REMOTE_AUTH and names what git said', () => {
    for (const output of [
      `fatal: unable to access '${URL}/': The requested URL returned error: 403`,
      `fatal: Authentication failed for '${URL}/'`,
      `fatal: could not read Username for 'http://127.0.0.1:40301': terminal prompts disabled`,
      'error: RPC failed; HTTP 401 curl 22 The requested URL returned error: 401',
    ]) {
      assert.equal(code(output), 'REMOTE_AUTH', output)
    }
    const error = mirrorError({ ok: false, output: `fatal: Authentication failed for '${URL}/'\n` }, 'push', URL, LINE)
    assert.match(error.message, /refused the token \(push\): fatal: Authentication failed/)
  })

  it('a 401 or 403 that is a ref name, a count or a port is not a refusal of the token', () => {
    const rejected = [`To ${URL}`, '!\trefs/tags/v401:refs/tags/v401\t[rejected] (already exists)', '!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)', 'Done', 'Writing objects: 100% (403/403), 1.20 MiB'].join('\n')
    assert.equal(code(rejected), 'REMOTE_REJECTED')
    assert.equal(code(`fatal: unable to access '${URL}/': Failed to connect to 127.0.0.1 port 40301: Connection refused`), 'REMOTE_UNREACHABLE')
  })

  // Session 46: every "[remote rejected]" was REMOTE_REJECTED "it has snapshots this twin does not",
  // `pull` its next step. git 2.39's words, from real pushes to a bare mirror (receive.fsckObjects
  // true; a pre-receive hook that exits 1) and receive-pack's own for a pack that is not connected.
  it("a push the mirror's own check, its rules or its damage refused is named as such, never as a mirror that moved on", () => {
    const fsck = [
      'To /srv/m.git',
      '!\trefs/heads/main:refs/heads/main\t[remote rejected] (unpacker error)',
      'Done',
      'remote: error: object b0431357cdead7c932686cec2540465d7a5bb151: gitmodulesUrl: disallowed submodule url: -evil        ',
      'remote: fatal: fsck error in pack objects        ',
      'error: remote unpack failed: unpack-objects abnormal exit',
      "error: failed to push some refs to '/srv/m.git'",
    ].join('\n')
    const refused = mirrorError({ ok: false, output: fsck }, 'push', URL, LINE, { fsckObjects: [{ id: 'b0431357cdead7c932686cec2540465d7a5bb151', check: 'gitmodulesUrl', path: 'filesystem/home/ann/.config/nvim/.gitmodules', ownFsck: true }] })
    assert.equal(refused.code, 'REMOTE_FSCK_REFUSED')
    assert.match(refused.message, /refused the push for filesystem\/home\/ann\/\.config\/nvim\/\.gitmodules \(b0431357cdea\): gitmodulesUrl: /)
    assert.match(refused.nextStep ?? '', /^Take that file out of this twin's history: `twinsync forget \/home\/ann\/\.config\/nvim\/\.gitmodules --repo '\/var\/my twin'`, then `twinsync push --retry --force --repo '\/var\/my twin'`/)
    // Session 47: `forget` is the next step only for a file this machine's git refuses too, never on the mirror's word alone.
    const said = mirrorError({ ok: false, output: fsck }, 'push', URL, LINE, { fsckObjects: [{ id: 'b0431357cdead7c932686cec2540465d7a5bb151', check: 'gitmodulesUrl', path: 'filesystem/home/ann/.config/nvim/.gitmodules', ownFsck: false }] })
    assert.deepEqual([said.code, /forget \/home/.test(said.nextStep ?? '')], ['REMOTE_FSCK_REFUSED', false])
    assert.equal(code(fsck), 'REMOTE_FSCK_REFUSED', 'the words alone, with no object found in the history')
    assert.equal(code(fsck.replace('unpack-objects abnormal exit', 'index-pack abnormal exit').replace('in pack objects', 'in packed object')), 'REMOTE_FSCK_REFUSED')
    const hook = mirrorError({ ok: false, output: 'To /srv/m.git\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\nremote: GH013: Repository rule violations found\n' }, 'push', URL, LINE)
    assert.deepEqual([hook.code, /by its own rules \(pre-receive hook declined\)/.test(hook.message), /snapshots this twin does not/.test(hook.message)], ['REMOTE_REJECTED', true, false])
    // Session 47: a hook that prints fsck's words (all a hook can print comes as `remote:` lines; git's own "remote unpack failed" line is not there) is the mirror's rules, not its fsck.
    const mimic = mirrorError({ ok: false, output: fsck.replace(/^error: remote unpack failed.*\n/m, '').replace('(unpacker error)', '(pre-receive hook declined)') }, 'push', URL, LINE)
    assert.deepEqual([mimic.code, /by its own rules \(pre-receive hook declined\)/.test(mimic.message)], ['REMOTE_REJECTED', true])
    const missing = mirrorError({ ok: false, output: '!\trefs/heads/main:refs/heads/main\t[remote rejected] (missing necessary objects)\n' }, 'push', URL, LINE)
    assert.deepEqual([missing.code, /lacks objects its own branch needs/.test(missing.message)], ['REMOTE_FAILED', true])
    const unpack = mirrorError({ ok: false, output: 'error: remote unpack failed: unable to create temporary object directory\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (unpacker error)\n' }, 'push', URL, LINE)
    assert.deepEqual([unpack.code, /failed to unpack what was sent/.test(unpack.message)], ['REMOTE_FAILED', true])
  })

  // Session 35's push sweep: a push whose git could not start was REMOTE_FAILED with no next step.
  it('every failure has a next step, REMOTE_FAILED too: the snapshots stay here, and what to run once it is fixed', () => {
    for (const output of [`fatal: unable to access '${URL}/': The requested URL returned error: 403`, 'fatal: Could not resolve host: example.invalid', '! [rejected] main -> main (fetch first)', 'Error: spawn git EIO', 'remote: fatal: pack exceeds maximum allowed size']) {
      for (const what of ['push', 'fetch']) {
        const error = mirrorError({ ok: false, output }, what, URL, LINE)
        assert.ok((error.nextStep ?? '') !== '', `${error.code} (${what}): ${output}`)
      }
    }
    const failed = mirrorError({ ok: false, output: 'Error: spawn git EIO' }, 'push', URL, LINE)
    assert.equal(failed.code, 'REMOTE_FAILED')
    assert.match(failed.nextStep ?? '', /`twinsync push --retry --repo '\/var\/my twin'`/)
    assert.match(mirrorError({ ok: false, output: 'Error: spawn git EIO' }, 'fetch', URL, LINE).nextStep ?? '', /`twinsync pull --repo '\/var\/my twin'` again/)
  })
})
