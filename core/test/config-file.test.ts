import { strict as assert } from 'node:assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Type from 'typebox'
import { isTwinSyncError } from '@twinsync/sdk'
import { parseDocument } from 'yaml'
import { checkProviderSections, holdsNothing, loadConfigFile } from '../src/config/config-file.js'

describe('configuration file', () => {
  let dir: string
  const file = (name: string) => join(dir, name)
  const write = async (text: string) => {
    await writeFile(file('config.yaml'), text)
    return file('config.yaml')
  }
  const rejectsWith = (code: string, pattern: RegExp) => (e: unknown) => isTwinSyncError(e) && e.code === code && pattern.test(e.message)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-config-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('reads a valid file', async () => {
    const config = await loadConfigFile(await write('repo: /srv/twin\nlimits:\n  logLines: 50\n'))
    assert.equal(config.values.repo, '/srv/twin')
    assert.equal(config.values.limits?.logLines, 50)
  })

  it('reads a file of nothing but blanks, comments and one `{}` as an empty configuration without yaml, exactly as yaml reads it; anything else through yaml', async () => {
    // What yaml makes of a text: an empty configuration, or something else (values or an error).
    const yamlEmpty = (text: string) => {
      const doc = parseDocument(text, { prettyErrors: true })
      const values = doc.errors.length === 0 ? (doc.toJS() ?? {}) : undefined
      return typeof values === 'object' && values !== null && !Array.isArray(values) && Object.keys(values).length === 0
    }
    const blanks = ['', ' ', '\t', '\r', '\u00a0', '\u2028', '\ufeff', '\f', '\v']
    const pieces = ['{}', '{ }', '{\t}', '# c', '#', 'a: 1', '{', '}', '{}#x', '---', '%YAML 1.2', '[]', '~']
    const texts: string[] = []
    for (const a of blanks) for (const p of pieces) for (const b of blanks) for (const end of ['', '\n', '\r\n', '\n# after\n', '\n{}\n']) texts.push(`${a}${p}${b}${end}`)
    let fast = 0
    for (const text of texts) {
      if (!holdsNothing(text)) continue
      fast++
      assert.ok(yamlEmpty(text), `yaml reads ${JSON.stringify(text)} as something, not nothing`)
    }
    assert.ok(fast > 100, 'the fast path is taken')
    for (const text of ['{}\n', '# only a comment\n', '']) assert.deepEqual(await loadConfigFile(await write(text)), { path: file('config.yaml'), values: {} })
    assert.equal(holdsNothing('{}# c'), false)
    assert.equal(holdsNothing('{}\n{}'), false)
    await assert.rejects(loadConfigFile(await write('{}\n{}\n')), rejectsWith('CONFIG_UNREADABLE', /config\.yaml:\d+:\d+/))
  })

  it('names the line of a YAML syntax error', async () => {
    const path = await write('repo: /srv/twin\nlimits:\n  logLines: [1, 2\n')
    await assert.rejects(loadConfigFile(path), rejectsWith('CONFIG_UNREADABLE', /config\.yaml:\d+:\d+/))
  })

  it('names an unknown key nested in a known section', async () => {
    const path = await write('limits:\n  logLinez: 5\n')
    await assert.rejects(loadConfigFile(path), rejectsWith('CONFIG_INVALID', /"limits\.logLinez": unknown key/))
  })

  it('names a key with a value of the wrong type', async () => {
    const path = await write('limits:\n  maxFileSize: big\n')
    await assert.rejects(loadConfigFile(path), rejectsWith('CONFIG_INVALID', /"limits\.maxFileSize"/))
  })

  it('refuses a file that is not a mapping', async () => {
    await assert.rejects(loadConfigFile(await write('- a\n- b\n')), rejectsWith('CONFIG_INVALID', /mapping/))
  })

  it('refuses a missing file named explicitly, but not a missing default one', async () => {
    await assert.rejects(loadConfigFile(file('absent.yaml')), rejectsWith('CONFIG_UNREADABLE', /absent\.yaml/))
  })

  it('checks provider sections against their schemas and refuses unknown top-level keys', async () => {
    const schemas = new Map([['files', { configSchema: Type.Object({ include: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }) }]])
    await checkProviderSections(await loadConfigFile(await write('files:\n  include: [/etc]\n')), schemas)
    const bad = await loadConfigFile(await write('files:\n  include: /etc\n'))
    await assert.rejects(checkProviderSections(bad, schemas), rejectsWith('CONFIG_INVALID', /"files\.include"/))
    const unknown = await loadConfigFile(await write('fiels:\n  include: [/etc]\n'))
    await assert.rejects(checkProviderSections(unknown, schemas), rejectsWith('CONFIG_INVALID', /unknown key "fiels"/))
  })

  it("says a schema's own words (errorMessage) for a value it refuses, rather than the bare rule", async () => {
    const schemas = new Map([['files', { configSchema: Type.Object({ include: Type.Array(Type.String({ pattern: '^/(?!proc)', errorMessage: 'an absolute path, not /proc' })) }, { additionalProperties: false }) }]])
    const bad = await loadConfigFile(await write('files:\n  include: [/etc, /proc]\n'))
    await assert.rejects(checkProviderSections(bad, schemas), rejectsWith('CONFIG_INVALID', /"files\.include\.1": an absolute path, not \/proc$/))
  })

  it("fills a provider section's defaults in before checking it: required keys with defaults may be left out", async () => {
    const schemas = new Map([['dnf', { configSchema: Type.Object({ timeoutMs: Type.Integer({ minimum: 1, default: 60000 }), repos: Type.Array(Type.String(), { default: [] }) }, { additionalProperties: false }) }]])
    await checkProviderSections(await loadConfigFile(await write('dnf:\n  repos: [local]\n')), schemas)
    await checkProviderSections(await loadConfigFile(await write('dnf: {}\n')), schemas)
    const bad = await loadConfigFile(await write('dnf:\n  timeoutMs: 0\n'))
    await assert.rejects(checkProviderSections(bad, schemas), rejectsWith('CONFIG_INVALID', /"dnf\.timeoutMs"/))
  })

  it("reads a provider's schema only when the file has its section (a plugin's schema built when first read is never built otherwise)", async () => {
    const unread = {
      get configSchema(): never {
        throw new Error('the schema of a provider the file does not name was read')
      },
    }
    const providers = new Map([
      ['dnf', { configSchema: Type.Object({ timeoutMs: Type.Integer({ minimum: 1, default: 60000 }) }, { additionalProperties: false }) }],
      ['flatpak', unread],
    ])
    await checkProviderSections(await loadConfigFile(await write('limits:\n  maxFileSize: 1000\ndnf:\n  timeoutMs: 5\n')), providers)
    await assert.rejects(checkProviderSections(await loadConfigFile(await write('dnf:\n  timeoutMs: 0\n')), providers), rejectsWith('CONFIG_INVALID', /"dnf\.timeoutMs"/))
    await assert.rejects(checkProviderSections(await loadConfigFile(await write('flatpk: {}\n')), providers), rejectsWith('CONFIG_INVALID', /unknown key "flatpk".*/))
    await assert.rejects(checkProviderSections(await loadConfigFile(await write('flatpak: {}\n')), providers), /the schema of a provider the file does not name was read/, 'named: read')
  })
})
