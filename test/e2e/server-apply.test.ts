import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'
const SITE = '/etc/nginx/sites-available/site'

interface PlanJson {
  changes: Array<{ id: string; operation: string; resource: string; requires?: string[] }>
}
interface ApplyJson {
  journal: { steps: Array<{ id: string; status: string; message?: string; outputTail?: string }> }
}

/**
 * Apply that a production server can trust, on the realistic server root (Debian 13, nginx with
 * a site, postgresql, postfix, ssh, sudo, cron): every configuration is checked by its service
 * before it is live, reloaded only after the check passes, verified after the reload and rolled
 * back when the service does not come back as it was.
 */
describe('apply on a booted Debian server: check, reload, verify, roll back', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container

  const http = async (port = 8080) => {
    const r = await ct.run(['curl', '-sS', '--max-time', '5', '-w', '\n%{http_code}', `http://127.0.0.1:${port}/`])
    const at = r.stdout.lastIndexOf('\n')
    return { code: r.stdout.slice(at + 1), body: r.stdout.slice(0, Math.max(at, 0)) }
  }
  const mainPid = async (unit: string) => (await ct.runOk(['systemctl', 'show', '--property=MainPID', '--value', unit])).stdout.trim()
  const sha = async (path: string) => (await ct.runOk(['sha256sum', path])).stdout.split(' ')[0]
  const editTwinFile = async (path: string, edit: (text: string) => string) => ct.writeFile(`${TWIN}/filesystem${path}`, edit(await ct.readFile(`${TWIN}/filesystem${path}`)))
  const editManifest = (path: string, code: string) =>
    ct.runOk(['node', '-e', `const fs=require('fs');const p='${TWIN}/system/files/manifest.json';const d=JSON.parse(fs.readFileSync(p,'utf8'));const e=d.entries.find((x)=>x.path===${JSON.stringify(path)});${code};fs.writeFileSync(p,JSON.stringify(d,null,2)+'\\n')`])
  const plan = async () => {
    const r = await ct.twinsync(['plan', '--json'], { timeoutMs: 300_000 })
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as PlanJson
  }
  const apply = async () => {
    const r = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    return { code: r.code, out: r.stdout + r.stderr, report: JSON.parse(r.stdout) as ApplyJson }
  }

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    await ct.writeFile('/etc/twin-demo.conf', 'level=1\n')
    await ct.writeFile('/etc/twin-meta.conf', 'kept\n')
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  after(async () => {
    await ct?.close()
  })

  it('refuses a broken nginx.conf with `nginx -t`: the live file is unchanged and nginx keeps answering', async () => {
    assert.equal((await http()).code, '200')
    const before = await sha('/etc/nginx/nginx.conf')
    const pid = await mainPid('nginx.service')
    await editTwinFile('/etc/nginx/nginx.conf', (t) => t.replace('http {', 'http {\n\tthis_is_not_a_directive on;'))

    const planned = await plan()
    const reload = planned.changes.find((c) => c.id === 'systemd:reload:nginx.service')
    assert.ok(reload, `a reload (nginx can reload) in ${planned.changes.map((c) => c.id).join(', ')}`)
    assert.deepEqual(reload.requires, ['files:replace:/etc/nginx/nginx.conf'])

    const { code, report } = await apply()
    assert.equal(code, 1)
    const steps = new Map(report.journal.steps.map((s) => [s.id, s]))
    const write = steps.get('files:replace:/etc/nginx/nginx.conf')
    assert.equal(write?.status, 'failed')
    assert.match(write?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back; nginx\.service left alone/)
    assert.match(write?.outputTail ?? '', /unknown directive "this_is_not_a_directive"/, 'the checker\'s own output')
    assert.equal(steps.get('systemd:reload:nginx.service')?.status, 'skipped')

    assert.equal(await sha('/etc/nginx/nginx.conf'), before, 'the live file is as it was')
    assert.equal(await mainPid('nginx.service'), pid, 'nginx was neither restarted nor reloaded')
    assert.equal((await ct.run(['systemctl', 'is-active', 'nginx.service'])).stdout.trim(), 'active')
    assert.equal((await http()).code, '200')
    // What was refused stays what the twin asks for, until the administrator fixes it.
    assert.match(await ct.readFile(`${TWIN}/filesystem/etc/nginx/nginx.conf`), /this_is_not_a_directive/)
    await ct.writeFile(`${TWIN}/filesystem/etc/nginx/nginx.conf`, await ct.readFile('/etc/nginx/nginx.conf'))
  })

  it('writes, checks and reloads a good change: the new content is served by the same nginx', async () => {
    const pid = await mainPid('nginx.service')
    await editTwinFile(SITE, (t) => t.replace(/location \/ \{[^}]*\}/, 'location / {\n        default_type text/plain;\n        return 200 "served by the new configuration\\n";\n    }'))
    const planned = await plan()
    assert.deepEqual(planned.changes.map((c) => c.id).sort(), [`files:replace:${SITE}`, 'systemd:reload:nginx.service'])

    const { code, out, report } = await apply()
    assert.equal(code, 0, out)
    const steps = new Map(report.journal.steps.map((s) => [s.id, s]))
    assert.match(steps.get(`files:replace:${SITE}`)?.message ?? '', /checked: `nginx -t` passed/)
    assert.match(steps.get('systemd:reload:nginx.service')?.message ?? '', /active; listens on .*tcp 0\.0\.0\.0:8080.* as before/)
    assert.equal((await http()).body, 'served by the new configuration\n')
    assert.equal(await mainPid('nginx.service'), pid, 'reloaded, not restarted')
  })

  it('rolls back a change that passes the check but stops nginx listening where it listened', async () => {
    // Moving the site to another port is valid nginx, but clients of port 8080 would lose it.
    await editTwinFile(SITE, (t) => t.replace(/listen 8080;/, 'listen 8081;').replace(/listen \[::\]:8080;/, 'listen [::]:8081;'))
    const before = await sha(SITE)
    const { code, report } = await apply()
    assert.equal(code, 1)
    const steps = new Map(report.journal.steps.map((s) => [s.id, s]))
    const reload = steps.get('systemd:reload:nginx.service')
    assert.equal(reload?.status, 'failed')
    assert.match(reload?.message ?? '', /nginx\.service no longer listens on .*:8080 after the reload; the previous \/etc\/nginx\/sites-available\/site is back, reload ran again: nginx\.service runs again/)
    assert.equal(steps.get(`files:replace:${SITE}`)?.status, 'failed')
    assert.match(steps.get(`files:replace:${SITE}`)?.message ?? '', /^rolled back: nginx\.service did not come back after its reload/)
    assert.equal(await sha(SITE), before)
    assert.equal((await http()).body, 'served by the new configuration\n')
    assert.notEqual((await http(8081)).code, '200')
    await ct.writeFile(`${TWIN}/filesystem${SITE}`, await ct.readFile(SITE))
  })

  it('applies content, mode and owner of one file as one change, and mode and owner of another as one', async () => {
    await ct.writeFile(`${TWIN}/filesystem/etc/twin-demo.conf`, 'level=2\n')
    await editManifest('/etc/twin-demo.conf', `Object.assign(e,{mode:'0640',owner:'www-data',group:'www-data',uid:33,gid:33})`)
    await editManifest('/etc/twin-meta.conf', `Object.assign(e,{mode:'0600',owner:'postgres',group:'postgres',uid:0,gid:0})`)
    const planned = await plan()
    assert.deepEqual(planned.changes.map((c) => c.id).sort(), ['files:attributes:/etc/twin-meta.conf', 'files:replace:/etc/twin-demo.conf'])

    const { code, out } = await apply()
    assert.equal(code, 0, out)
    assert.equal((await ct.runOk(['stat', '-c', '%a %U:%G', '/etc/twin-demo.conf'])).stdout.trim(), '640 www-data:www-data')
    assert.equal(await ct.readFile('/etc/twin-demo.conf'), 'level=2\n')
    assert.equal((await ct.runOk(['stat', '-c', '%a %U:%G', '/etc/twin-meta.conf'])).stdout.trim(), '600 postgres:postgres')
    assert.deepEqual((await plan()).changes, [], 'nothing left to do')
  })

  it('a repair of drift that fails (nginx stopped, another process holds its port) stays pending: status and plan still ask to start it, with the reason', async () => {
    // Session 22: the start failed, the journal said so, and then `status` said "nothing pending" and `plan` "No changes".
    const snap = await ct.twinsync(['snapshot'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
    await ct.runOk(['systemctl', 'stop', 'nginx.service'])
    await ct.runOk(['systemd-run', '--unit=squat', 'node', '-e', "require('net').createServer().listen(8080, '0.0.0.0')"])
    await ct.runOk(['sh', '-c', 'for i in $(seq 50); do ss -ltn | grep -q ":8080 " && exit 0; sleep 0.1; done; exit 1'])
    assert.ok((await plan()).changes.some((c) => c.id === 'systemd:start:nginx.service'))
    const { code, out, report } = await apply()
    assert.equal(code, 1, out)
    assert.equal(report.journal.steps.find((s) => s.id === 'systemd:start:nginx.service')?.status, 'failed', out)

    const status = await ct.twinsync(['status', '--json'], { timeoutMs: 300_000 })
    const pending = (JSON.parse(status.stdout) as { pending: { items: Array<{ id: string; reason: string }> } }).pending.items
    const item = pending.find((i) => i.id === 'systemd:start:nginx.service')
    assert.ok(item, `the failed start is pending: ${status.stdout}`)
    assert.match(item.reason, /^failed in the apply of \S+: /)
    assert.doesNotMatch((await ct.twinsync(['status'], { timeoutMs: 300_000 })).stdout, /nothing pending/i)
    assert.ok((await plan()).changes.some((c) => c.id === 'systemd:start:nginx.service'), 'planned again')

    // The port free again (a snapshot records the squatter gone, and keeps the pending start):
    // the same repair goes through, and nothing is left pending.
    await ct.runOk(['systemctl', 'stop', 'squat.service'])
    assert.equal((await ct.twinsync(['snapshot'], { timeoutMs: 300_000 })).code, 0)
    assert.deepEqual((await plan()).changes.map((c) => c.id), ['systemd:start:nginx.service'])
    const again = await apply()
    assert.equal(again.code, 0, again.out)
    assert.equal((await http()).code, '200')
    const after = JSON.parse((await ct.twinsync(['status', '--json'], { timeoutMs: 300_000 })).stdout) as { pending: { items: unknown[] } }
    assert.deepEqual(after.pending.items, [])
  })
})
