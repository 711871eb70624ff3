import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REDACTED } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { LogFacts } from '../src/facts/log-facts.js'
import { ProcessFacts } from '../src/facts/process-facts.js'
import { screenDocument, writesRedaction } from '../src/snapshot/secret-guard.js'
import { plantedCommandLines, plantedLogLines } from '../../test/fixtures/secrets/samples.js'

describe('secrets in documents other than mirrored files', () => {
  it('redacts the values on log lines in place and keeps the rest of each line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twinsync-logs-'))
    try {
      mkdirSync(join(root, 'var/log'), { recursive: true })
      const lines = plantedLogLines()
      writeFileSync(join(root, 'var/log/syslog'), lines.map((l) => l.text).join('\n') + '\nsshd[1]: Accepted publickey for root\n')
      const { documents } = await new LogFacts().collect({ ctx: createTestContext(root) })
      const syslog = String(documents.find((d) => d.path === 'system/logs/syslog.txt')?.content)
      for (const l of lines) assert.ok(!syslog.includes(l.value), `${l.kind} left in the log`)
      assert.match(syslog, new RegExp(`myapp\\[311\\]: login to db failed: user=app password=${REDACTED} retrying`))
      assert.match(syslog, /sshd\[1\]: Accepted publickey for root/)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('redacts credentials on process command lines before cutting them', async function () {
    const planted = plantedCommandLines()[0] as { value: string; text: string }
    // A real process on this machine, with the secret in its argv.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', ...planted.text.split(' ').slice(1)], { stdio: 'ignore' })
    try {
      await new Promise((r) => setTimeout(r, 300))
      const ctx = createTestContext('/', { limits: { topProcesses: 100000 } })
      const { documents } = await new ProcessFacts().collect({ ctx })
      const top = String(documents[0]?.content)
      assert.ok(!top.includes(planted.value), 'the password is in top.json')
      assert.ok(top.includes(`--db-password=${REDACTED} --verbose`), 'the rest of the command line is kept')
    } finally {
      child.kill()
    }
  })

  it('redacts any provider document before it enters the twin, and names place and rule', async () => {
    const doc = { path: 'system/cron/cron.json', content: '{\n  "line": "0 3 * * * mysqldump -u root -pS3cretPw1 db"\n}\n' }
    const { doc: screened, diagnostics } = await screenDocument(doc, 'cron')
    assert.equal(String(screened.content), `{\n  "line": "0 3 * * * mysqldump -u root -p${REDACTED} db"\n}\n`)
    assert.equal(diagnostics[0]?.code, 'SECRET_REDACTED')
    assert.match(diagnostics[0]?.summary ?? '', /system\/cron\/cron\.json:2 \(command-line-flag\)/)
    assert.ok(!JSON.stringify(diagnostics).includes('S3cretPw1'))
    assert.ok(writesRedaction({ action: 'write', text: String(screened.content) }))
  })

  it('leaves the files provider\'s mirrored files to it, but screens files other plugins mirror', async () => {
    const doc = { path: 'filesystem/etc/ssl/openssl.cnf', content: 'secret = pass:insta\n' }
    assert.equal((await screenDocument(doc, 'files')).doc, doc)
    const crontab = { path: 'filesystem/var/spool/cron/crontabs/root', content: '*/5 * * * * /usr/bin/agent --token abcdef123456\n' }
    assert.equal(String((await screenDocument(crontab, 'cron')).doc.content), `*/5 * * * * /usr/bin/agent --token ${REDACTED}\n`)
  })
})
