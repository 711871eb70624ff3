import { strict as assert } from 'node:assert'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { PlantedRoot } from '../support/planted-root.js'

const words = (seed: string): string => `${fakeChars(`s43-${seed}1`, 6)} ${fakeChars(`s43-${seed}2`, 7)} ${fakeChars(`s43-${seed}3`, 5)}`.toLowerCase()

/**
 * Session 43, through the CLI on the minbase root: the `.htaccess` walk keeps its folders by their
 * stamps in the files provider's cache (kept-listings.ts), and the guarantee stays: an `.htaccess`
 * put deep in a site that an unchanged snapshot had walked and kept, naming a new users file (of
 * words, world-readable: no mode and no name says it is one), is read by the next snapshot, and the
 * users file is held out of the twin.
 */
describe('the .htaccess walk kept between snapshots: a new .htaccess deep in a kept site is read (session 43)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot

  before(async () => {
    root = await PlantedRoot.create({ image: 'base', include: ['/etc', '/srv'] })
  })
  after(async () => {
    await root?.cleanup()
  })

  it('an unchanged snapshot keeps the walked folders; the next holds the file a new .htaccess names', async () => {
    const { secret, plant } = root
    await plant('/etc/apache2/sites-available/site.conf', '<VirtualHost *:80>\n  DocumentRoot /srv/www/site\n  <Directory /srv/www/site>\n    AllowOverride AuthConfig\n  </Directory>\n</VirtualHost>\n')
    await plant('/srv/www/site/.htaccess', 'AuthType Basic\nAuthUserFile /etc/apache2/members.list\nRequire valid-user\n')
    await plant('/etc/apache2/members.list', `${secret("the site's AuthUserFile", words('members'))}\n`)
    for (const page of ['index.html', 'docs/index.html', 'docs/guide/index.html', 'docs/guide/part/index.html', 'shop/index.html']) await plant(`/srv/www/site/${page}`, '<h1>site</h1>\n')
    await root.snapshotInit()
    const unchanged = await root.twinsync(['snapshot', '--json'])
    assert.equal(unchanged.code, 0, unchanged.stderr)
    assert.equal((JSON.parse(unchanged.stdout) as { commit?: string }).commit, undefined, 'an unchanged snapshot committed')
    const record = await readFile(join(root.cli.twinDir, '.git/twinsync/cache/files/access-folders-v1'), 'utf8')
    assert.ok(record.includes('"/srv/www/site/docs/guide/part"'), 'the walked folders are not kept')

    await plant('/srv/www/site/docs/guide/part/.htaccess', 'AuthType Basic\nAuthUserFile /etc/apache2/staff.list\nRequire valid-user\n')
    await plant('/etc/apache2/staff.list', `${secret('a new .htaccess deep down names it', words('staff'))}\n`)
    const next = await root.twinsync(['snapshot', '--json'])
    assert.equal(next.code, 0, next.stderr)
    await root.assertKeptOut(['/etc/apache2/members.list', '/etc/apache2/staff.list'], ['/etc/apache2/sites-available/site.conf', '/srv/www/site/.htaccess', '/srv/www/site/docs/guide/part/.htaccess'])
  })
})
