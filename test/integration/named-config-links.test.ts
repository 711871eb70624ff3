// Session 46 (session 45's review, L1): which files a link in a service's folders makes that
// service's, with the real checkers (nginx -t, apache2ctl configtest) chrooted into a copy of the
// checkers root. A service folder that is itself a link (/etc/nginx -> nginx-real) was not read,
// so a file its configuration includes from elsewhere went live unchecked; and every link under a
// service's folder was taken whole, so a web page below /etc/apache2/htdocs -> /etc/www joined
// apache's group (checked by configtest, rejected with it, and a reload after it).
import { strict as assert } from 'node:assert'
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { useCliRoot } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

const OPTIONS = '/etc/tls-opts/nginx.conf'

describe('links in a service\'s folders: the folder itself a link, a linked folder the configuration does not read (checkers root, chroot, real nginx -t and apache2ctl)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    image: 'checkers',
    prepare: async (dir) => {
      // /etc/nginx a link to the real folder, whose nginx.conf includes a file outside it.
      await rename(join(dir, 'etc/nginx'), join(dir, 'etc/nginx-real'))
      await symlink('nginx-real', join(dir, 'etc/nginx'))
      const conf = join(dir, 'etc/nginx-real/nginx.conf')
      await writeFile(conf, (await readFile(conf, 'utf8')).replace('http {', `http {\n\tinclude ${OPTIONS};`))
      await mkdir(join(dir, 'etc/tls-opts'))
      await writeFile(join(dir, OPTIONS), 'ssl_session_timeout 1d;\n')
      // Web pages reached through a link in apache's folder, which no Include reads.
      await mkdir(join(dir, 'etc/www'))
      await writeFile(join(dir, 'etc/www/index.html'), '<p>old</p>\n')
      await symlink('/etc/www', join(dir, 'etc/apache2/htdocs'))
    },
  })

  it("a broken file nginx.conf includes, with /etc/nginx a link: nginx -t rejects it and it is put back (before: live unchecked, exit 0)", async () => {
    await writeTwinFile(root().twinDir, `filesystem${OPTIONS}`, 'not_a_directive on;\n')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = steps.get(`files:replace:${OPTIONS}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /unknown directive "not_a_directive" in \/etc\/tls-opts\/nginx\.conf/)
    assert.equal(await root().live(OPTIONS), 'ssl_session_timeout 1d;\n')
    await writeTwinFile(root().twinDir, `filesystem${OPTIONS}`, 'ssl_session_timeout 1d;\n')
  })

  it("a web page below a link in apache's folder that no Include reads is no file of apache's: written without its checker (before: in apache's group, checked by configtest)", async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/www/index.html', '<p>new</p>\n')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 0, out)
    const step = steps.get('files:replace:/etc/www/index.html')
    assert.notEqual(step?.status, 'failed', out)
    assert.doesNotMatch(step?.message ?? '', /configtest|nginx -t|checked/, out)
    assert.equal(await root().live('etc/www/index.html'), '<p>new</p>\n')
  })
})
