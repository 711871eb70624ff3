import { strict as assert } from 'node:assert'
import { validatorFor } from '../src/validation.js'

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
})
