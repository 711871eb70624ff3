import { strict as assert } from 'node:assert'
import type { Change, ConfigCheck, HostPort } from '@twinsync/sdk'
import { withNamedFiles } from '../src/apply/named-config.js'

/** A machine of a few files (a fake host port: stat, readdir, readTextIfExists). */
function machine(files: Record<string, string>, programs: string[]): HostPort {
  const dirs = new Set<string>()
  for (const path of Object.keys(files)) for (let d = path.slice(0, path.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d)
  return {
    stat: async (path: string) =>
      programs.includes(path) ? { type: 'file', mode: 0o755, size: 1 } : files[path] !== undefined ? { type: 'file', mode: 0o644, size: files[path].length } : dirs.has(path) ? { type: 'directory', mode: 0o755, size: 0 } : undefined,
    readdir: async (path: string) => [
      ...[...dirs].filter((d) => d.slice(0, d.lastIndexOf('/')) === path).map((d) => ({ name: d.slice(path.length + 1), type: 'directory' })),
      ...Object.keys(files).filter((f) => f.slice(0, f.lastIndexOf('/')) === path).map((f) => ({ name: f.slice(path.length + 1), type: 'file' })),
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

  it('adds nothing when the checker is not installed, or no file of the plan is outside every service', async () => {
    assert.deepEqual((await withNamedFiles(machine(files, []), [nginx], [write('/etc/ssl/site.pem')]))[0], nginx)
    assert.deepEqual((await withNamedFiles(machine(files, ['/usr/sbin/nginx']), [nginx], [write('/etc/nginx/nginx.conf')]))[0], nginx)
  })
})
