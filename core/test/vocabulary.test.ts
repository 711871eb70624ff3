import { strict as assert } from 'node:assert'
import { findSecrets } from '@twinsync/sdk'
import { boundedList, countPhrase, countsPhrase, driftPhrase, observedPhrase, pastTense, pendingPhrase, plannedPhrase, snapshotSubject, type Wordable } from '../src/vocabulary.js'

/** The words a person reads, pinned per domain and direction (docs/user-guide.md, "Glossary"). */
describe('the vocabulary', () => {
  const c = (operation: string, resource: string, extra: Partial<Wordable> = {}): Wordable => ({ operation, resource, ...extra })

  // For each operation a provider plans: [the change, observed (between snapshots), drift (status), planned]
  const table: Array<[string, Wordable, string, string, string]> = [
    ['files', c('replace', '/etc/motd', { summary: 'Replace /etc/motd (live file is the package default of base-files)' }), '/etc/motd changed', '/etc/motd changed on the machine', 'replace /etc/motd (live file is the package default of base-files)'],
    ['files', c('create', '/etc/new.conf', { summary: 'Create /etc/new.conf' }), '/etc/new.conf added', '/etc/new.conf removed from the machine, still in the twin', 'create /etc/new.conf'],
    ['files', c('delete', '/etc/old.conf', { summary: 'Delete /etc/old.conf', before: 'file 0644 root:root 3 bytes' }), '/etc/old.conf removed', '/etc/old.conf added on the machine, not in the twin', 'delete /etc/old.conf'],
    ['files', c('chmod', '/etc/issue', { summary: 'Change mode of /etc/issue from 0644 to 0600', before: '0644', after: '0600' }), '/etc/issue mode changed (0644 → 0600)', '/etc/issue mode changed (0600 → 0644) on the machine', 'change mode of /etc/issue from 0644 to 0600'],
    ['files', c('mkdir', '/etc/app', { summary: 'Create directory /etc/app' }), '/etc/app added (a directory)', '/etc/app removed from the machine, still in the twin', 'create directory /etc/app'],
    ['files', c('attributes', '/usr/bin/ping', { summary: 'Change extended attributes of /usr/bin/ping: capabilities none → cap_net_raw=ep' }), '/usr/bin/ping extended attributes or capabilities changed', '/usr/bin/ping extended attributes or capabilities changed on the machine', 'change extended attributes of /usr/bin/ping: capabilities none → cap_net_raw=ep'],
    ['packages', c('install', 'hello', { summary: 'install hello (the candidate version)', after: 'the candidate version' }), 'hello installed', 'hello removed from the machine, still in the twin', 'install hello (the candidate version)'],
    ['packages', c('remove', 'tree', { summary: 'remove tree 2.1.0-1', before: '2.1.0-1' }), 'tree removed', 'tree installed on the machine, not in the twin', 'remove tree 2.1.0-1'],
    ['packages', c('install', 'hello', { summary: 'install hello 2.10-3 (live 2.10-2)', before: '2.10-2', after: '2.10-3' }), 'hello version changed (2.10-2 → 2.10-3)', 'hello version changed (2.10-3 → 2.10-2) on the machine', 'install hello 2.10-3 (live 2.10-2)'],
    ['packages', c('hold', 'nginx', { summary: 'hold nginx' }), 'nginx held', 'nginx no longer held on the machine', 'hold nginx'],
    ['packages', c('mark-manual', 'curl', { summary: 'mark curl as manually installed' }), 'curl marked as manually installed', 'curl marked as automatically installed on the machine', 'mark curl as manually installed'],
    ['services', c('enable', 'nginx.service', { summary: 'enable nginx.service', before: 'disabled', after: 'enabled' }), 'nginx.service enabled', 'nginx.service disabled on the machine', 'enable nginx.service'],
    ['services', c('disable', 'cron.service', { summary: 'disable cron.service' }), 'cron.service disabled', 'cron.service enabled on the machine', 'disable cron.service'],
    ['services', c('mask', 'foo.service', { summary: 'mask foo.service' }), 'foo.service masked', 'foo.service unmasked on the machine', 'mask foo.service'],
    ['services', c('unmask', 'cron.service', { summary: 'unmask and enable cron.service', before: 'masked', after: 'enabled' }), 'cron.service unmasked', 'cron.service masked on the machine', 'unmask and enable cron.service'],
    ['services', c('mask', 'foo.service', { summary: 'mask foo.service until reboot', before: 'enabled', after: 'masked-runtime' }), 'foo.service masked until reboot', 'foo.service unmasked (was masked until reboot) on the machine', 'mask foo.service until reboot'],
    ['services', c('mask', 'foo.service', { summary: 'mask foo.service for good (it is masked only until reboot now)', before: 'masked-runtime', after: 'masked' }), 'foo.service masked for good (was masked until reboot)', 'foo.service masked only until reboot (was masked for good) on the machine', 'mask foo.service for good (it is masked only until reboot now)'],
    ['services', c('unmask', 'cron.service', { summary: 'unmask cron.service (masked until reboot) and enable it', before: 'masked-runtime', after: 'enabled' }), 'cron.service unmasked (was masked until reboot)', 'cron.service masked until reboot on the machine', 'unmask cron.service (masked until reboot) and enable it'],
    ['services', c('start', 'nginx.service', { summary: 'start nginx.service' }), 'nginx.service started', 'nginx.service stopped on the machine', 'start nginx.service'],
    ['services', c('stop', 'nginx.service', { summary: 'stop nginx.service' }), 'nginx.service stopped', 'nginx.service started on the machine', 'stop nginx.service'],
    ['services', c('daemon-reload', 'manager', { summary: 'reload systemd after unit file changes (demo.service)' }), 'systemd unit files changed (demo.service)', 'systemd unit files changed (demo.service) on the machine', 'reload systemd after unit file changes (demo.service)'],
    ['services', c('reload', 'nginx.service', { summary: 'nginx.service runs an older configuration than /etc/nginx/nginx.conf (and 1 more): reload it' }), 'nginx.service runs an older configuration than /etc/nginx/nginx.conf (and 1 more)', 'nginx.service runs an older configuration than /etc/nginx/nginx.conf (and 1 more) on the machine', 'nginx.service runs an older configuration than /etc/nginx/nginx.conf (and 1 more): reload it'],
    ['services', c('restart', 'cron.service', { summary: 'cron.service runs an older configuration than /etc/default/cron: restart it' }), 'cron.service runs an older configuration than /etc/default/cron', 'cron.service runs an older configuration than /etc/default/cron on the machine', 'cron.service runs an older configuration than /etc/default/cron: restart it'],
    ['startup', c('create', '/var/spool/cron/crontabs/root', { summary: 'create the crontab of root' }), '/var/spool/cron/crontabs/root added', '/var/spool/cron/crontabs/root removed from the machine, still in the twin', 'create the crontab of root'],
    ['startup', c('enable', '/etc/xdg/autostart/a.desktop', { summary: 'enable the autostart entry /etc/xdg/autostart/a.desktop' }), '/etc/xdg/autostart/a.desktop enabled', '/etc/xdg/autostart/a.desktop disabled on the machine', 'enable the autostart entry /etc/xdg/autostart/a.desktop'],
    ['a plugin', c('purge', 'libfoo', { summary: 'purge libfoo' }), 'libfoo purged', 'libfoo differs on the machine (a plan would purge libfoo)', 'purge libfoo'],
  ]

  for (const [domain, change, observed, drift, planned] of table) {
    it(`${domain} ${change.operation}: "${observed}" / "${drift}" / "${planned}"`, () => {
      assert.equal(observedPhrase(change), observed)
      assert.equal(driftPhrase(change), drift)
      assert.equal(plannedPhrase(change), planned)
    })
  }

  it('status never uses plan words: drift is what the machine did, pending what the twin asks', () => {
    const remove = c('remove', 'tree', { summary: 'remove tree 2.1.0-1', before: '2.1.0-1' })
    assert.doesNotMatch(driftPhrase(remove), /^remove/)
    assert.equal(pendingPhrase(c('install', 'hello', { summary: 'install hello' })), 'the twin asks to install hello')
  })

  it('never touches a command: its summary is what runs', () => {
    assert.equal(plannedPhrase(c('run', 'Backup', { category: 'commands', summary: 'Backup --all' })), 'Backup --all')
  })

  it('a twin file is named by its machine path, and shortly by its name', () => {
    const twinFile = c('changed', 'filesystem/etc/nginx/nginx.conf', { twinFile: true })
    assert.equal(observedPhrase(twinFile), '/etc/nginx/nginx.conf changed')
    assert.equal(observedPhrase(twinFile, { short: true }), 'nginx.conf changed')
    assert.equal(observedPhrase(c('untrack', '/etc/x')), '/etc/x no longer tracked (still on the machine)')
  })

  it('counts items with their nouns, never documents', () => {
    assert.equal(countPhrase('files', 1), '1 file')
    assert.equal(countPhrase('packages', 2), '2 packages')
    assert.equal(countPhrase('services', 1), '1 unit')
    assert.equal(countPhrase('startup', 3), '3 startup entries')
    assert.equal(countPhrase('facts', 2), '2 fact files')
    assert.equal(countPhrase('packages', 1, { twinFiles: true }), '1 twin file (packages)')
    // A package installed and held is one package.
    assert.equal(countsPhrase({ packages: [c('install', 'hello'), c('hold', 'hello')], files: [c('replace', '/etc/motd')] }), '1 file, 1 package')
    assert.equal(countsPhrase({}), 'no changes')
  })

  it('puts unknown verbs in the past tense by rule', () => {
    assert.deepEqual(['purge', 'apply', 'reset', 'add', 'upgrade'].map(pastTense), ['purged', 'applied', 'reset', 'added', 'upgraded'])
  })

  it('bounds a diary subject, saying how many more', () => {
    assert.equal(boundedList(['a', 'b', 'c'], 80), 'a, b, c')
    assert.equal(boundedList(Array.from({ length: 40 }, (_, i) => `file${i}.conf changed`), 60), 'file0.conf changed, file1.conf changed +38 more')
    const subject = snapshotSubject([
      { name: 'files', changes: [c('replace', '/etc/nginx/nginx.conf')] },
      { name: 'apt', changes: [c('install', 'hello'), c('remove', 'nano')] },
    ])
    assert.equal(subject, 'files: nginx.conf changed · apt: hello installed, nano removed')
    const many = snapshotSubject([
      { name: 'files', changes: Array.from({ length: 200 }, (_, i) => c('replace', `/etc/conf${i}`)) },
      { name: 'apt', changes: Array.from({ length: 50 }, (_, i) => c('install', `pkg${i}`)) },
    ])
    assert.ok(many.length <= 120, many)
    assert.match(many, /^files: conf0 changed, .* \+\d+ more · apt: pkg0 installed, .* \+\d+ more$/)
  })

  // Session 23: a file a local user named "a\nb" or "\e]0;x\a" in a mirrored folder split the
  // commit subject in two, and put a raw escape sequence in the message `git log` prints to root.
  it('spells out control characters of names in a diary subject: one line, no escape sequence', () => {
    const subject = snapshotSubject([{ name: 'files', changes: [c('create', '/home/ann/.config/a\nb'), c('create', '/home/ann/.config/\x1b]0;x\x07'), c('create', '/etc/x\u202efdp.sh')] }])
    assert.doesNotMatch(subject, /[\0-\x1f\x7f\u202e]/)
    assert.match(subject, /a\\nb added/)
    assert.match(subject, /\\e\]0;x\\x07 added/)
  })
})

describe('plannedPhrase: names from the twin that differ are never shown alike', () => {
  const phrase = (resource: string) => plannedPhrase({ category: 'files', operation: 'create', resource, summary: `Create ${resource}` })
  it('NFC and NFD forms of one word, control characters, bidi overrides, zero-width and trailing spaces are spelled out', () => {
    assert.equal(phrase('/etc/caf\u00e9'), 'create /etc/café')
    assert.equal(phrase('/etc/cafe\u0301'), 'create /etc/cafe\\u0301')
    assert.notEqual(phrase('/etc/caf\u00e9'), phrase('/etc/cafe\u0301'))
    assert.equal(phrase('/etc/a\nb'), 'create /etc/a\\nb')
    assert.equal(phrase('/etc/x\u202efdp.sh'), 'create /etc/x\\u202efdp.sh')
    assert.equal(phrase('/etc/mo\u200btd'), 'create /etc/mo\\u200btd')
    assert.equal(phrase('/etc/e\x1b[2Jx'), 'create /etc/e\\e[2Jx')
    assert.equal(phrase('/etc/motd  '), 'create /etc/motd\\x20\\x20')
    assert.equal(phrase('/etc/motd'), 'create /etc/motd')
  })
})

describe('the vocabulary and the push scan', () => {
  it('says a secret file changed in words the push scan does not take for a credential (a snapshot\'s commit subject carries them)', async () => {
    const said = observedPhrase({ operation: 'secret-changed', resource: '/etc/shadow' })
    assert.equal(said, '/etc/shadow changed (a secret; the twin holds only its keyed hash)')
    assert.deepEqual(await findSecrets(`files: ${said}`), [])
  })
})
