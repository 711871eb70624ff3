import { strict as assert } from 'node:assert'
import type { HostPort } from '@twinsync/sdk'
import { validateContent, validatorFor } from '../src/validation.js'

/** Which files are checked before they are written, and with what: read from the one table of services. */
describe('files: new content checked before it is written (from DEBIAN_CONFIG_CHECKS)', () => {
  const argv = (path: string) => {
    const v = validatorFor(path)
    return v === undefined ? undefined : [v.tool, ...v.args('/tmp/NEW')]
  }

  it('checks sudoers files with visudo -c -f and the main sshd_config with sshd -t -f', () => {
    assert.deepEqual(argv('/etc/sudoers'), ['visudo', '-c', '-f', '/tmp/NEW'])
    assert.deepEqual(argv('/etc/sudoers.d/ops'), ['visudo', '-c', '-f', '/tmp/NEW'])
    assert.deepEqual(argv('/etc/ssh/sshd_config'), ['sshd', '-t', '-f', '/tmp/NEW'])
  })

  it('checks the account files with pwck and grpck, read only, against the shadow files as they are', () => {
    assert.deepEqual(argv('/etc/passwd'), ['pwck', '-q', '-r', '/tmp/NEW', '/etc/shadow'])
    assert.deepEqual(argv('/etc/group'), ['grpck', '-q', '-r', '/tmp/NEW', '/etc/gshadow'])
    assert.equal(argv('/etc/shadow'), undefined)
  })

  it('checks a PAM file with the PAM check script (includes left to the check of the whole folder after the writes), named by its words', () => {
    const v = validatorFor('/etc/pam.d/sudo')
    assert.deepEqual([v?.tool, ...(v?.args('/tmp/NEW') ?? []).slice(-2)], ['sh', '--new', '/tmp/NEW'])
    assert.equal(v?.name, 'the PAM check of /etc/pam.d (types, controls, modules, includes)')
    assert.equal(validatorFor('/etc/pam.d/sub/x'), undefined)
    assert.equal(validatorFor('/etc/sudoers')?.name, 'visudo')
  })

  it('does not check alone what is no complete configuration: an sshd drop-in, a file below sudoers.d, any other file', () => {
    assert.equal(argv('/etc/ssh/sshd_config.d/x.conf'), undefined)
    assert.equal(argv('/etc/sudoers.d/sub/x'), undefined)
    assert.equal(argv('/etc/nginx/nginx.conf'), undefined)
  })

  it('rejects new content on what the checker only warns about, as the check after the write does (sshd -t exits 0 on a HostKey it cannot load)', async () => {
    const files = new Map<string, string>([['/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n']])
    // A fake host: sshd is installed, and `sshd -t -f FILE` warns (exit 0) when FILE names a HostKey that is not there.
    const host = {
      stat: async (path: string) => (path === '/usr/sbin/sshd' ? { type: 'file', mode: 0o755 } : undefined),
      writeFileAtomic: async (path: string, text: string) => void files.set(path, text),
      remove: async (path: string) => void files.delete(path),
      readTextIfExists: async (path: string) => files.get(path),
      exec: async (_tool: string, args: string[]) => {
        const text = files.get(args.at(-1) as string) ?? ''
        return { exitCode: 0, stdout: '', stderr: text.includes('HostKey /etc/ssh/nope') ? 'Unable to load host key: /etc/ssh/nope\n' : '' }
      },
    } as unknown as HostPort
    const broken = await validateContent(host, '/etc/ssh/sshd_config', 'HostKey /etc/ssh/nope\n')
    assert.deepEqual(broken, { status: 'invalid', tool: 'sshd', output: 'Unable to load host key: /etc/ssh/nope' })
    assert.deepEqual(await validateContent(host, '/etc/ssh/sshd_config', 'HostKey /etc/ssh/ssh_host_ed25519_key\n'), { status: 'valid', tool: 'sshd' })
  })
})
