import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { unitFileHash } from '../src/collect.js'

const unit = (env: string) => Buffer.from(`[Service]\nEnvironment=${env}\nExecStart=/usr/local/bin/worker\n`)

describe('systemd: the hash of an administrator\'s unit file in units.json', () => {
  it('is the sha256 of a unit file without a secret', async () => {
    const bytes = unit('MODE=prod')
    assert.equal(await unitFileHash(bytes, '/etc/systemd/system/worker.service'), `sha256:${createHash('sha256').update(bytes).digest('hex')}`)
  })

  it('of a unit file with a secret, says nothing of the secret: the same for any password, another when the rest changes', async () => {
    const a = await unitFileHash(unit('DB_PASSWORD=Kq81nNc0pL2xZ7'), '/etc/systemd/system/worker.service')
    const b = await unitFileHash(unit('DB_PASSWORD=hunter2hunter2'), '/etc/systemd/system/worker.service')
    assert.match(a, /^sha256-redacted:[0-9a-f]{64}$/)
    assert.equal(a, b)
    assert.notEqual(await unitFileHash(Buffer.from(unit('DB_PASSWORD=Kq81nNc0pL2xZ7').toString().replace('worker', 'worker2')), '/etc/systemd/system/worker.service'), a)
  })
})
