import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, type Container } from '../bed/index.js'

const TWIN = '/var/lib/twinsync/twin'

/**
 * A web server on port 80 that tells systemd it is ready only once it listens (Type=notify): its
 * start fails when the port is taken, as nginx's or lighttpd's does.
 */
const WEB = `import http.server, os, socket
server = http.server.HTTPServer(('', 80), http.server.SimpleHTTPRequestHandler)
address = os.environ['NOTIFY_SOCKET']
if address.startswith('@'):
    address = '\\0' + address[1:]
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.connect(address)
notify.sendall(b'READY=1')
notify.close()
server.serve_forever()
`

interface ApplyJson {
  journal: { steps: Array<{ id: string; status: string; message?: string }> }
}

/**
 * The order of service stops and starts in one apply, on the booted server root (Debian 13,
 * nginx on port 80): what the twin wants stopped gives up its port before what it wants running
 * starts (session 22).
 */
describe('service stops before starts in one apply (booted server)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let ct: Container
  const editJson = (path: string, code: string) =>
    ct.runOk(['node', '-e', `const fs=require('fs');const p=${JSON.stringify(`${TWIN}/${path}`)};const d=JSON.parse(fs.readFileSync(p,'utf8'));${code};fs.writeFileSync(p,JSON.stringify(d,null,2)+'\\n')`])
  const active = async (unit: string) => (await ct.run(['systemctl', 'is-active', unit])).stdout.trim()

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    await ct.writeFile('/usr/local/lib/twin-web.py', WEB)
    await ct.writeFile('/etc/systemd/system/twin-web.service', '[Unit]\nDescription=A second web server on port 80\n[Service]\nType=notify\nExecStart=/usr/bin/python3 /usr/local/lib/twin-web.py\n[Install]\nWantedBy=multi-user.target\n')
    // nginx without its reload, as lighttpd is: a change of its configuration is a restart.
    await ct.writeFile('/etc/systemd/system/nginx.service.d/no-reload.conf', '[Service]\nExecReload=\n')
    await ct.runOk(['systemctl', 'daemon-reload'])
    await ct.runOk(['systemctl', 'restart', 'nginx.service'])
    assert.equal((await ct.runOk(['systemctl', 'show', '-p', 'CanReload', '--value', 'nginx.service'])).stdout.trim(), 'no')
    const first = await ct.twinsync(['snapshot', '--init'], { timeoutMs: 300_000 })
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await ct?.close()
  })

  it('nginx stopped and disabled, a second server on its port enabled and started, nginx\'s configuration changed: the stop comes first and nginx is not restarted', async () => {
    await editJson('system/services/units.json', `d.units['nginx.service'].state='disabled';d.units['twin-web.service'].state='enabled'`)
    await editJson('system/services/runtime.json', `d.units['nginx.service']={active:'inactive',sub:'dead'};d.units['twin-web.service']={active:'active',sub:'running'}`)
    await ct.writeFile(`${TWIN}/filesystem/etc/nginx/conf.d/order.conf`, '# written while nginx is stopped\n')

    const planned = await ct.twinsync(['plan', '--json'])
    assert.equal(planned.code, 0, planned.stderr)
    const changes = (JSON.parse(planned.stdout) as { changes: Array<{ id: string; removal?: boolean }> }).changes
    assert.deepEqual(changes.map((c) => c.id).sort(), [
      'files:create:/etc/nginx/conf.d/order.conf',
      'systemd:disable:nginx.service',
      'systemd:enable:twin-web.service',
      'systemd:start:twin-web.service',
      'systemd:stop:nginx.service',
    ], 'no restart of nginx: the twin wants it stopped')

    const applied = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 300_000 })
    const steps = (JSON.parse(applied.stdout) as ApplyJson).journal.steps
    assert.equal(applied.code, 0, JSON.stringify(steps, null, 1) + applied.stderr)
    assert.deepEqual(steps.filter((s) => s.status !== 'applied'), [])
    assert.equal(await active('twin-web.service'), 'active')
    assert.equal(await active('nginx.service'), 'inactive')
    assert.match((await ct.runOk(['curl', '-sS', '-D', '-', '-o', '/dev/null', 'http://127.0.0.1/'])).stdout, /^Server: SimpleHTTP/im)
  })
})
