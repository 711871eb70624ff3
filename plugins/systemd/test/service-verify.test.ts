import { strict as assert } from 'node:assert'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, RecordingHost } from '@twinsync/sdk'
import { formatAddress, listeningSockets, verifyBack } from '../src/verify.js'

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
const tcpLine = (local: string, state: string, inode: number) => `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`

describe('systemd: is a reloaded unit back where it was', () => {
  let root: string
  let host: RecordingHost
  let active = 'active'
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'twinsync-verify-'))
    mkdirSync(join(root, 'proc/net'), { recursive: true })
    // nginx's master (pid 10) holds the listening sockets 111 (8080) and 112 (80); pid 20 is another unit's.
    for (const [pid, cgroup, sockets] of [['10', '/system.slice/nginx.service', [111, 112]], ['20', '/system.slice/ssh.service', [113]]] as const) {
      mkdirSync(join(root, `proc/${pid}/fd`), { recursive: true })
      writeFileSync(join(root, `proc/${pid}/cgroup`), `0::${cgroup}\n`)
      sockets.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(root, `proc/${pid}/fd/${i + 3}`)))
      symlinkSync('/dev/null', join(root, `proc/${pid}/fd/0`))
    }
    writeFileSync(join(root, 'proc/net/tcp'), TCP_HEADER + tcpLine('00000000:1F90', '0A', 111) + tcpLine('00000000:0050', '0A', 112) + tcpLine('00000000:0016', '0A', 113) + tcpLine('0100007F:1F90', '01', 111))
    writeFileSync(join(root, 'proc/net/tcp6'), TCP_HEADER)
    active = 'active'
    // systemctl only reads here: its answers come from the recording port, the files from the root.
    host = new RecordingHost(new LocalHost(root), {
      query: (_command, args) => ({ stdout: args.includes('--property=ControlGroup') ? `/system.slice/${args[args.length - 1]}\n` : `${active}\n` }),
    })
  })
  afterEach(() => {
    assert.deepEqual(host.actions, [], 'verifying changes nothing')
    rmSync(root, { recursive: true, force: true })
  })

  it('finds where the processes of a unit listen, and only those of that unit', async () => {
    assert.deepEqual([...(await listeningSockets(host, 'nginx.service'))].sort(), ['tcp 0.0.0.0:80', 'tcp 0.0.0.0:8080'])
  })

  it('is fine when active and listening as before, and says what is missing otherwise', async () => {
    assert.equal(await verifyBack(host, 'nginx.service', new Set(['tcp 0.0.0.0:8080']), 'reload', 2_000), undefined)
    const missing = await verifyBack(host, 'nginx.service', new Set(['tcp 0.0.0.0:8080', 'tcp 0.0.0.0:443']), 'reload', 1_500)
    assert.equal(missing, 'nginx.service no longer listens on tcp 0.0.0.0:443 after the reload')
    active = 'failed'
    assert.equal(await verifyBack(host, 'nginx.service', new Set(), 'restart', 1_000), 'nginx.service is failed after the restart, not active')
  })

  it('formats /proc/net addresses', () => {
    assert.equal(formatAddress('0100007F:1F90'), '127.0.0.1:8080')
    assert.equal(formatAddress('00000000000000000000000000000000:0050'), '[::]:80')
  })
})
