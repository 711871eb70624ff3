import { strict as assert } from 'node:assert'
import type { Change, ConfigCheck, HostPort } from '@twinsync/sdk'
import { withNamedFiles } from '../src/apply/named-config.js'

/** A machine of a few files and links (a fake host port: stat, lstat, readlink, readdir, readTextIfExists). */
function machine(files: Record<string, string>, programs: string[], links: Record<string, string> = {}): HostPort {
  const dirs = new Set<string>()
  for (const path of [...Object.keys(files), ...Object.keys(links)]) for (let d = path.slice(0, path.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d)
  const stat = async (path: string) =>
    programs.includes(path) ? { type: 'file', mode: 0o755, size: 1 } : files[path] !== undefined ? { type: 'file', mode: 0o644, size: files[path].length } : dirs.has(path) ? { type: 'directory', mode: 0o755, size: 0 } : undefined
  return {
    stat,
    lstat: async (path: string) => (links[path] !== undefined ? { type: 'symlink', mode: 0o777, size: 0 } : stat(path)),
    readlink: async (path: string) => links[path],
    readdir: async (path: string) => [
      ...[...dirs].filter((d) => d.slice(0, d.lastIndexOf('/')) === path).map((d) => ({ name: d.slice(path.length + 1), type: 'directory' })),
      ...Object.keys(files).filter((f) => f.slice(0, f.lastIndexOf('/')) === path).map((f) => ({ name: f.slice(path.length + 1), type: 'file' })),
      ...Object.keys(links).filter((f) => f.slice(0, f.lastIndexOf('/')) === path).map((f) => ({ name: f.slice(path.length + 1), type: 'symlink' })),
    ],
    readTextIfExists: async (path: string) => files[path],
  } as unknown as HostPort
}

const write = (path: string): Change => ({ id: `files:replace:${path}`, provider: 'files', category: 'files', operation: 'replace', resource: path, summary: path, data: { action: 'write', path } }) as unknown as Change

describe('withNamedFiles: files a service\'s configuration names outside its folders are its own', () => {
  const nginx: ConfigCheck = { service: 'nginx', paths: ['/etc/nginx/**'], argv: ['nginx', '-t'], units: ['nginx.service'] }
  const units: ConfigCheck = { service: 'systemd units', paths: ['/etc/systemd/system/*.service'], argv: ['systemd-analyze', 'verify', '{unit}'] }
  const files = {
    '/etc/nginx/sites-available/site': 'server {\n  include /etc/letsencrypt/options-ssl-nginx.conf;\n  ssl_certificate "/etc/ssl/site.pem";\n}\n',
    '/etc/systemd/system/x.service': '[Service]\nEnvironmentFile=/etc/default/x\n',
  }

  it('adds a named file to the service whose whole-configuration checker is installed, as a whole word only', async () => {
    const host = machine(files, ['/usr/sbin/nginx', '/usr/bin/systemd-analyze'])
    const changes = ['/etc/letsencrypt/options-ssl-nginx.conf', '/etc/ssl/site.pem', '/etc/ssl/site.pem.bak', '/etc/default/x', '/etc/motd'].map(write)
    const out = await withNamedFiles(host, [nginx, units], changes)
    assert.deepEqual(out[0]?.paths, ['/etc/nginx/**', '/etc/letsencrypt/options-ssl-nginx.conf', '/etc/ssl/site.pem'])
    // A per-file checker cannot judge a file it is not given: /etc/default/x stays unclaimed.
    assert.equal(out[1], units)
  })

  it('adds a folder deleted whole when its configuration names a file below it (session 45: the delete went live unchecked)', async () => {
    const host = machine(files, ['/usr/sbin/nginx'])
    const del: Change = { id: 'files:delete:/etc/letsencrypt', provider: 'files', category: 'files', operation: 'delete', resource: '/etc/letsencrypt', summary: '', data: { action: 'delete', path: '/etc/letsencrypt', below: [{ path: '/etc/letsencrypt/options-ssl-nginx.conf' }] } } as unknown as Change
    const other: Change = { ...del, id: 'files:delete:/etc/other', resource: '/etc/other', data: { action: 'delete', path: '/etc/other', below: [{ path: '/etc/other/x.conf' }] } } as unknown as Change
    assert.deepEqual((await withNamedFiles(host, [nginx], [del, other]))[0]?.paths, ['/etc/nginx/**', '/etc/letsencrypt'])
  })

  it('adds a file a link of the service\'s folders leads to, and what a linked folder holds; reads a linked file\'s includes (session 45: changed unchecked)', async () => {
    const host = machine(
      { ...files, '/etc/nginx/nginx.conf': 'http {\n  include /etc/nginx/conf.d/*.conf;\n}\n', '/etc/nginx-sites/app.conf': 'server {\n  include /srv/snippets/*.conf;\n}\n', '/srv/nginx-conf/old.conf': 'server {}\n' },
      ['/usr/sbin/nginx'],
      { '/etc/nginx/sites-enabled/app': '../../nginx-sites/app.conf', '/etc/nginx/conf.d': '/srv/nginx-conf' },
    )
    const changes = ['/etc/nginx-sites/app.conf', '/srv/nginx-conf/x.conf', '/srv/snippets/a.conf', '/etc/nginx-sites/other.conf'].map(write)
    assert.deepEqual((await withNamedFiles(host, [nginx], changes))[0]?.paths, ['/etc/nginx/**', '/etc/nginx-sites/app.conf', '/srv/nginx-conf/x.conf', '/srv/snippets/a.conf'])
  })

  // Session 46 (session 45's review, L1): a service folder that is a link was not read; every link under a pattern's folder was taken whole.
  it("reads a service's folder that is itself a link (/etc/nginx -> /srv/nginx), and takes all below it", async () => {
    const moved = machine(
      { '/srv/nginx/nginx.conf': 'http {\n  include /etc/letsencrypt/options.conf;\n  include /etc/nginx/sites-enabled/*;\n}\n', '/srv/nginx/sites-enabled/app': 'server {}\n' },
      ['/usr/sbin/nginx'],
      { '/etc/nginx': '/srv/nginx' },
    )
    assert.deepEqual((await withNamedFiles(moved, [nginx], ['/etc/letsencrypt/options.conf', '/srv/nginx/sites-enabled/app', '/srv/other.conf'].map(write)))[0]?.paths, ['/etc/nginx/**', '/srv/nginx/sites-enabled/app', '/etc/letsencrypt/options.conf'])
  })

  it('takes a linked folder\'s files only where the configuration reads them (an include, absolute or relative), and no link the pattern does not match', async () => {
    const x: ConfigCheck = { service: 'x', paths: ['/etc/x/*.conf'], argv: ['xd', '-t'] }
    const host = machine(
      { '/etc/nginx/nginx.conf': 'http {\n  include /etc/nginx/sites-enabled/*;\n}\n', '/etc/nginx/sites-enabled/app': 'server {\n  include snippets/tls.conf;\n  root /etc/nginx/html;\n}\n', '/srv/snippets/tls.conf': '', '/var/www/index.html': '', '/etc/x/a.conf': '', '/srv/readme.txt': '', '/srv/b.conf': '' },
      ['/usr/sbin/nginx', '/usr/sbin/xd'],
      { '/etc/nginx/snippets': '/srv/snippets', '/etc/nginx/html': '/var/www', '/etc/x/readme': '/srv/readme.txt', '/etc/x/b.conf': '/srv/b.conf' },
    )
    const out = await withNamedFiles(host, [nginx, x], ['/srv/snippets/tls.conf', '/srv/snippets/other.conf', '/var/www/index.html', '/srv/readme.txt', '/srv/b.conf'].map(write))
    assert.deepEqual(out.map((c) => c.paths), [['/etc/nginx/**', '/srv/snippets/tls.conf'], ['/etc/x/*.conf', '/srv/b.conf']])
  })

  // Session 46's review (R6): relative includes were read from the first pattern's folder alone.
  it("reads a relative include from every pattern's folder, not the first one's alone", async () => {
    const myd: ConfigCheck = { service: 'myd', paths: ['/etc/myd/extra/*.conf', '/etc/myd/**'], argv: ['myd', '-t'] }
    const host = machine({ '/etc/myd/myd.conf': 'include conf.d/*.conf\n', '/srv/myd-conf/a.conf': '', '/etc/myd/extra/e.conf': '' }, ['/usr/sbin/myd'], { '/etc/myd/conf.d': '/srv/myd-conf' })
    const out = await withNamedFiles(host, [myd], ['/srv/myd-conf/a.conf'].map(write))
    assert.deepEqual(out[0]?.paths, ['/etc/myd/extra/*.conf', '/etc/myd/**', '/srv/myd-conf/a.conf'])
  })

  it('adds nothing when the checker is not installed, or no file of the plan is outside every service', async () => {
    assert.deepEqual((await withNamedFiles(machine(files, []), [nginx], [write('/etc/ssl/site.pem')]))[0], nginx)
    assert.deepEqual((await withNamedFiles(machine(files, ['/usr/sbin/nginx']), [nginx], [write('/etc/nginx/nginx.conf')]))[0], nginx)
  })
  it('adds a file an include names by a glob or a folder, anywhere, but not by a commented-out include (session 19)', async () => {
    const sshd: ConfigCheck = { service: 'sshd', paths: ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/**'], argv: ['sshd', '-t'], units: ['ssh.service'] }
    const sudo: ConfigCheck = { service: 'sudo', paths: ['/etc/sudoers', '/etc/sudoers.d/*'], argv: ['visudo', '-c'] }
    const apache: ConfigCheck = { service: 'apache2', paths: ['/etc/apache2/**'], argv: ['apache2ctl', 'configtest'], units: ['apache2.service'] }
    const host = machine(
      {
        '/etc/nginx/conf.d/le.conf': 'include /etc/letsencrypt/*.conf;\n  include "/srv/conf/site-[ab].conf";\n# include /srv/old/*.conf;\n',
        '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nInclude /srv/ssh/*.conf\n',
        '/etc/sudoers': 'root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n#includedir /srv/sudoers/\n',
        '/etc/apache2/apache2.conf': 'IncludeOptional /srv/apache/*/site?.conf\n',
      },
      ['/usr/sbin/nginx', '/usr/sbin/sshd', '/usr/sbin/visudo', '/usr/sbin/apache2ctl'],
    )
    const paths = [
      '/etc/letsencrypt/options.conf',
      '/etc/letsencrypt/live/x/fullchain.conf',
      '/srv/conf/site-a.conf',
      '/srv/conf/site-c.conf',
      '/srv/old/x.conf',
      '/srv/ssh/x.conf',
      // glob(3) skips a name that begins with a dot: sshd never reads it (session 20).
      '/srv/ssh/.x.conf',
      '/srv/sudoers/admins',
      '/srv/sudoers/admins.bak',
      '/srv/sudoers/admins~',
      '/srv/apache/a/site1.conf',
      '/srv/apache/site1.conf',
    ]
    const out = await withNamedFiles(host, [nginx, sshd, sudo, apache], paths.map(write))
    assert.deepEqual(out[0]?.paths, ['/etc/nginx/**', '/etc/letsencrypt/options.conf', '/srv/conf/site-a.conf'])
    assert.deepEqual(out[1]?.paths, [...sshd.paths, '/srv/ssh/x.conf'])
    assert.deepEqual(out[2]?.paths, [...sudo.paths, '/srv/sudoers/admins'])
    assert.deepEqual(out[3]?.paths, [...apache.paths, '/srv/apache/a/site1.conf'])
  })

  it('names a file outside /etc only by an include: an exact path there is no include', async () => {
    const host = machine({ '/etc/nginx/nginx.conf': 'error_log /srv/log/error.log;\n' }, ['/usr/sbin/nginx'])
    assert.deepEqual((await withNamedFiles(host, [nginx], [write('/srv/log/error.log')]))[0], nginx)
  })
})
