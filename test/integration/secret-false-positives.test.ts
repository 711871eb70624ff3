import { strict as assert } from 'node:assert'
import { findSecrets } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { FilesProvider, type Manifest } from '@twinsync/plugin-files'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs, type RootfsImage } from '../bed/index.js'
import { cliSandbox, json } from '../support/cli.js'
import { rootTexts } from '../support/root-texts.js'

/** Where the files provider and the other plugins read configuration a person writes. */
const SCANNED = ['etc', 'usr/local', 'root', 'home', 'var/spool/cron', 'srv', 'opt', 'var/www']

/**
 * Every finding of the detector in a stock root, as "path:line rule". Real secrets (host keys the
 * installer made) are expected; every false positive is listed by name, so a new one fails here.
 */
// The server-node root is the server root plus Debian's nodejs and npm: not scanned again; nor is
// the checkers root (the server root plus more services, for the checker sandbox's tests).
const EXPECTED: Record<Exclude<RootfsImage, 'server-node' | 'checkers'>, { secrets: string[]; falsePositives: string[] }> = {
  base: { secrets: [], falsePositives: [] },
  server: {
    secrets: [
      '/etc/ssh/ssh_host_ecdsa_key:2 private-key',
      '/etc/ssh/ssh_host_ed25519_key:2 private-key',
      '/etc/ssh/ssh_host_rsa_key:2 private-key',
      '/etc/ssl/private/ssl-cert-snakeoil.key:2 private-key',
    ],
    // OpenSSL's example CMP section: `secret = pass:insta`. The file is exactly as the openssl
    // package ships it, so the files provider mirrors it anyway (a package's file is public).
    falsePositives: ['/etc/ssl/openssl.cnf:351 credential-assignment', '/etc/ssl/openssl.cnf:365 credential-assignment'],
  },
}

async function scan(root: string): Promise<string[]> {
  const found: string[] = []
  for (const [path, text] of await rootTexts(root, SCANNED, 1 << 20)) {
    for (const f of await findSecrets(text, { path })) found.push(`${path}:${f.line} ${f.rule}`)
  }
  return found
}

describe('secret detector on stock Debian roots: every finding is known', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  for (const image of ['base', 'server'] as const) {
    describe(`the ${image} root`, () => {
      let rootfs: Rootfs
      before(async () => {
        rootfs = await freshRootfs(image)
      })
      after(async () => {
        await rootfs?.cleanup()
      })

      it(`finds the real secrets and only the ${EXPECTED[image].falsePositives.length} known false positives`, async () => {
        const expected = [...EXPECTED[image].secrets, ...EXPECTED[image].falsePositives].sort()
        assert.deepEqual((await scan(rootfs.dir)).sort(), expected)
      })

      it('takes a snapshot that redacts nothing and keeps out only what a path rule names', async () => {
        const cli = await cliSandbox()
        try {
          const r = await cli.twinsync(['snapshot', '--init', '--json', '--root', rootfs.dir, '--repo', cli.twinDir])
          assert.equal(r.code, 0, r.stderr)
          const codes = json<{ diagnostics: Array<{ code: string }> }>(r).diagnostics.map((d) => d.code)
          assert.ok(!codes.some((c) => c.startsWith('SECRET_')), codes.join(', '))
          const manifest = JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout) as Manifest
          const byContent = manifest.entries.filter((e) => e.secret === true && e.secretReason !== 'path rule').map((e) => `${e.path} ${e.secretReason}`)
          assert.deepEqual(byContent, [])
        } finally {
          await cli.cleanup()
        }
      })

      const files = new Set(EXPECTED[image].falsePositives.map((f) => f.split(':')[0] as string))
      if (files.size > 0) it('lets the files provider mirror every file whose findings are all known false positives', async () => {
        const { documents } = await new FilesProvider().collect({ ctx: createTestContext(rootfs.dir, { config: { include: [...files] } }) })
        const manifest = JSON.parse(String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)) as Manifest
        for (const path of files) assert.equal(manifest.entries.find((e) => e.path === path)?.content, 'mirrored', path)
      })
    })
  }
})
