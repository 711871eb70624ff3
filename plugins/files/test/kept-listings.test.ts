import { strict as assert } from 'node:assert'
import { rmSync, utimesSync } from 'node:fs'
import { MemoryCache, RACY_MS, type HostPort } from '@twinsync/sdk'
import { createTestContext } from '@twinsync/sdk/conformance'
import { namedCredentialFiles } from '../src/named-credentials.js'
import { TargetRoot } from './target-root.js'

const SITE = '/srv/www/site'
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A site whose `.htaccess` files Apache reads (AuthConfig), 37 folders: the site, d0–d5, each with e0–e4. */
function site(): TargetRoot {
  const root = new TargetRoot()
    .file('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n')
    .file('/etc/group', 'root:x:0:\n')
    .file('/var/lib/dpkg/status', '')
    .file('/var/lib/dpkg/diversions', '')
    .file('/etc/apache2/sites-available/site.conf', `<VirtualHost *:80>\n\tDocumentRoot ${SITE}\n\t<Directory ${SITE}>\n\t\tAllowOverride AuthConfig\n\t</Directory>\n</VirtualHost>\n`)
    .file(`${SITE}/.htaccess`, 'AuthType Basic\nAuthUserFile /etc/apache2/site.passwd\nRequire valid-user\n')
    .file(`${SITE}/d0/.htaccess`, 'AuthUserFile /etc/apache2/d0.passwd\n')
    .file(`${SITE}/d2/.htaccess`, 'AuthUserFile /etc/apache2/d2.passwd\n')
    .file('/opt/elsewhere/.htaccess', 'AuthUserFile /etc/apache2/linked.passwd\n')
  for (let d = 0; d < 6; d++) for (let e = 0; e < 5; e++) root.dirAt(`${SITE}/d${d}/e${e}`)
  return root
}

/** The machine's host, the folders it listed since the last call of `listed` (sorted). */
function counting(root: TargetRoot): { host: HostPort; listed: () => string[] } {
  const host = createTestContext(root.dir).host
  let folders: string[] = []
  const proxy = new Proxy(host, { get: (h, k) => (k === 'readdir' ? (p: string) => (folders.push(p), h.readdir(p)) : Reflect.get(h, k)) }) as HostPort
  return {
    host: proxy,
    listed: () => {
      const out = folders.filter((f) => f === SITE || f.startsWith(`${SITE}/`)).sort()
      folders = []
      return out
    },
  }
}

/**
 * Session 43: the `.htaccess` walk keeps the folders it listed with their stamps in the provider's
 * cache (kept-listings.ts): an unchanged site is not listed again (each folder one lstat), and
 * whatever a person changes is seen at the next look all the same: a new `.htaccess` deep down, a
 * new folder holding one, one edited in place (its folder's stamp does not move: the file's own
 * stat data does), a folder made a link to elsewhere (not followed). A folder changed too recently
 * to trust its times is listed again each look; a damaged record, or another AccessFileName, lists
 * every folder.
 */
describe('the .htaccess walk keeps its folders by their stamps (session 43)', () => {
  it('an unchanged site is not listed again; a new .htaccess deep down, a new folder with one, one edited in place and a folder made a link are seen at the next look', async () => {
    const root = site()
    try {
      const { host, listed } = counting(root)
      const cache = new MemoryCache()
      const look = async () => (await namedCredentialFiles(host, cache)).filter((p) => p.startsWith('/etc/apache2/')).sort()
      // Folders made just now are too recent to trust (git's racy-clean rule): past that.
      await pause(3 * RACY_MS)
      assert.deepEqual(await look(), ['/etc/apache2/d0.passwd', '/etc/apache2/d2.passwd', '/etc/apache2/site.passwd'])
      assert.equal(listed().length, 37)
      assert.deepEqual(await look(), ['/etc/apache2/d0.passwd', '/etc/apache2/d2.passwd', '/etc/apache2/site.passwd'])
      assert.deepEqual(listed(), [], 'an unchanged site listed again')

      root.file(`${SITE}/d3/e2/.htaccess`, 'AuthUserFile /etc/apache2/deep.passwd\n')
      root.file(`${SITE}/d4/new/.htaccess`, 'AuthUserFile /etc/apache2/new-folder.passwd\n')
      root.file(`${SITE}/d0/.htaccess`, 'AuthUserFile /etc/apache2/edited.passwd\n')
      rmSync(root.path(`${SITE}/d2`), { recursive: true })
      root.link(`${SITE}/d2`, '/opt/elsewhere')
      assert.deepEqual(await look(), ['/etc/apache2/deep.passwd', '/etc/apache2/edited.passwd', '/etc/apache2/new-folder.passwd', '/etc/apache2/site.passwd'])
      // Only the folders whose names changed: the site (d2 made a link), d3/e2, d4 and the new d4/new; not d0 (its .htaccess edited in place).
      assert.deepEqual(listed(), [SITE, `${SITE}/d3/e2`, `${SITE}/d4`, `${SITE}/d4/new`])

      // Past the racy window, one more look keeps whatever was too recent; then nothing is listed.
      await pause(3 * RACY_MS)
      await look()
      listed()
      assert.deepEqual(await look(), ['/etc/apache2/deep.passwd', '/etc/apache2/edited.passwd', '/etc/apache2/new-folder.passwd', '/etc/apache2/site.passwd'])
      assert.deepEqual(listed(), [])

      // A folder whose times are in the future is never trusted: listed each look.
      const future = new Date(Date.now() + 3_600_000)
      utimesSync(root.path(`${SITE}/d1`), future, future)
      await look()
      assert.deepEqual(listed(), [`${SITE}/d1`])
      await look()
      assert.deepEqual(listed(), [`${SITE}/d1`])
    } finally {
      root.remove()
    }
  })

  it('a damaged record, or another AccessFileName, lists every folder again', async () => {
    const root = site()
    try {
      const { host, listed } = counting(root)
      const cache = new MemoryCache()
      await pause(3 * RACY_MS)
      await namedCredentialFiles(host, cache)
      assert.equal(listed().length, 37)
      await cache.write('access-folders-v1', '{"names":[".htaccess"],"folders":[["/srv/www/site",[1,2]]]}')
      await namedCredentialFiles(host, cache)
      assert.equal(listed().length, 37, 'a damaged record')
      root.file('/etc/apache2/conf-enabled/access-name.conf', 'AccessFileName .htaccess .webaccess\n')
      root.file(`${SITE}/d5/e4/.webaccess`, 'AuthUserFile /etc/apache2/other-name.passwd\n')
      const named = await namedCredentialFiles(host, cache)
      assert.equal(listed().length, 37, 'another AccessFileName')
      assert.ok(named.includes('/etc/apache2/other-name.passwd'))
    } finally {
      root.remove()
    }
  })
})
