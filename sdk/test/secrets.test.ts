import { strict as assert } from 'node:assert'
import { performance } from 'node:perf_hooks'
import { findSecrets as findSecretsBundled } from '@twinsync/sdk'
import { findSecrets, formatSecretFinding, redactSecrets, REDACTED } from '../src/secrets.js'
import { plantedCommandLines, plantedFiles, plantedLogLines } from '../../test/fixtures/secrets/samples.js'

describe('findSecrets', () => {
  it('finds the one credential among thousands of JSON key-value lines, at its value (redaction keeps the rest)', async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `/etc/app/${i}.conf`, mode: '0644', owner: 'root', sha256: 'ab'.repeat(32), secret: i % 7 === 0 }))
    const text = JSON.stringify({ entries: [...entries.slice(0, 1500), { db_password: 'hunter2-Sup3r' }, ...entries.slice(1500)] }, null, 2)
    const findings = await findSecrets(text, { path: 'system/app.json' })
    assert.deepEqual(findings.map((f) => f.rule), ['credential-assignment'])
    const redacted = await redactSecrets(text, { path: 'system/app.json' })
    assert.equal(redacted, text.replace('hunter2-Sup3r', REDACTED))
  })

  for (const planted of [...plantedFiles(), ...plantedLogLines(), ...plantedCommandLines()]) {
    it(`finds the ${planted.kind} and redacts it`, async () => {
      const findings = await findSecrets(planted.text, { path: planted.path })
      assert.ok(findings.length > 0, `no finding for ${planted.kind}`)
      for (const f of findings) {
        assert.ok(!JSON.stringify(f).includes(planted.value), 'a finding carries the secret')
        assert.ok(!formatSecretFinding(planted.path, f).includes(planted.value))
      }
      const redacted = await redactSecrets(planted.text, { path: planted.path })
      assert.ok(!redacted.includes(planted.value), `redacted text still holds the ${planted.kind}: ${redacted}`)
      assert.ok(redacted.includes(REDACTED))
    })
  }

  it('gives the line and column of the value', async () => {
    const [f] = await findSecrets('# settings\nuser = app\npassword = hunter2x\n')
    assert.deepEqual(f && { rule: f.rule, line: f.line, column: f.column }, { rule: 'credential-assignment', line: 3, column: 12 })
  })

  it('redacts the value in place and keeps the rest of the line', async () => {
    assert.equal(
      await redactSecrets('/usr/bin/app --listen 80 --db-password=s3cretvalue --verbose'),
      `/usr/bin/app --listen 80 --db-password=${REDACTED} --verbose`,
    )
    assert.equal(await redactSecrets('connect postgres://app:pw12345@db/app ok'), `connect postgres://app:${REDACTED}@db/app ok`)
    assert.equal(await redactSecrets('a line with nothing secret'), 'a line with nothing secret')
  })

  it('applies the .netrc, .pgpass, htpasswd and sasl_passwd rules by file name', async () => {
    assert.equal((await findSecrets('machine h\n login u\n password abcdef12\n', { path: '/root/.netrc' }))[0]?.rule, 'netrc')
    assert.equal((await findSecrets('relay.example.org user:abcdef12\n', { path: '/etc/postfix/sasl_passwd' }))[0]?.rule, 'sasl-passwd')
    assert.deepEqual(await findSecrets('relay.example.org user:abcdef12\n', { path: '/etc/postfix/transport' }), [])
    assert.equal((await findSecrets('bob:abJnggxhB/yWI\n', { path: '/etc/apache2/.htpasswd' }))[0]?.rule, 'password-hash')
  })

  it('leaves placeholders, references, switches and look-alike keys alone', async () => {
    const text = [
      'PasswordAuthentication yes',
      'password_file = /etc/app/pw',
      'bypass = true',
      'smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd',
      'LoadCredential=db:/etc/credstore/db',
      'password: ${DB_PASSWORD}',
      'secret = $dir/private/key.pem',
      '  --password PASSWORD   read the password from the terminal',
      'secret:',
      '  name: app-secret',
      '#BindPasswd: secret',
      '',
    ].join('\n')
    assert.deepEqual(await findSecrets(text), [])
    assert.deepEqual(await findSecrets('passwd:         files systemd\n', { path: '/etc/nsswitch.conf' }), [])
  })

  it('finds nothing in text it redacted itself', async () => {
    for (const planted of [...plantedFiles(), ...plantedLogLines(), ...plantedCommandLines()]) {
      const redacted = await redactSecrets(planted.text, { path: planted.path })
      assert.deepEqual(await findSecrets(redacted, { path: planted.path }), [], `${planted.kind}: ${redacted}`)
    }
  })

  it('cannot be switched off by a comment in the scanned text', async () => {
    const text = `# secretlint-disable\ntoken = gh${'p'}_${'a1B2c3D4e5'.repeat(3)}abcdef\n`
    assert.equal((await findSecrets(text)).length, 1)
  })

  it('reports one finding for a secret two rules match, and redacts all of it', async () => {
    const key = `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCYz'.padEnd(40, 'Q')}`
    const findings = await findSecrets(key)
    assert.equal(findings.length, 1)
    assert.equal(await redactSecrets(key), `aws_secret_access_key = ${REDACTED}`)
  })

  it('leaves nothing behind in the process: a scan costs the same after 10,000 others', async () => {
    // secretlint 12's profiler put ~100 performance marks per scan into Node's global timeline and
    // scanned them all again on each one: late in a long process (the test suite, a TUI session, a
    // snapshot of many files) each scan took seconds. The source and the bundle every plugin and
    // the CLI load must both leave no mark.
    await findSecrets('password = hunter2x\n', { path: '/etc/app.conf' })
    await findSecretsBundled('password = hunter2x\n', { path: '/etc/app.conf' })
    await new Promise((r) => setImmediate(r))
    const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('@core>'))
    assert.deepEqual(marks.slice(0, 3).map((m) => m.name), [], `${marks.length} performance marks left by secretlint`)
  })
})
