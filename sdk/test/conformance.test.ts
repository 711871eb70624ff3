import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApplicableProvider, Change, TwinDocument } from '../src/index.js'
import { TwinSyncError, errorDiagnostic, stableStringify, warningDiagnostic } from '../src/index.js'
import { checkConformance, createTestContext } from '../src/conformance-kit.js'

interface Tags {
  tags: string[]
}
type Flaw = 'writes-in-collect' | 'execs-in-collect' | 'rmdirs-in-collect' | 'unsorted-json' | 'no-provider-field' | 'not-idempotent' | 'runs-hostile' | 'throws-on-empty-root' | 'outside-lane' | 'apply-misses' | 'unstable-ids' | 'id-without-provider' | 'reapply-writes'

const NAME = /^[a-z0-9-]+$/

/** A provider over /etc/tags (one tag a line), with the flaws asked for. */
function tagsProvider(flaws: Flaw[] = []): ApplicableProvider<Tags> {
  const has = (f: Flaw) => flaws.includes(f)
  let plans = 0
  let applies = 0
  const read = async (ctx: Parameters<ApplicableProvider['collect']>[0]['ctx']): Promise<Tags> => ({
    tags: ((await ctx.host.readTextIfExists('/etc/tags')) ?? '').split('\n').filter(Boolean).sort(),
  })
  return {
    name: 'tags',
    version: '1.0.0',
    category: 'files',
    description: 'tags',
    twinPaths: ['system/tags.json'],
    async detect({ ctx }) {
      const st = await ctx.host.stat('/etc/tags')
      if (st === undefined && has('throws-on-empty-root')) throw new Error('ENOENT /etc/tags')
      return { detected: st !== undefined, diagnostics: [] }
    },
    async collect({ ctx }) {
      const state = await read(ctx)
      if (has('execs-in-collect')) await ctx.host.exec('true', [])
      // Nothing there: only the kit's watch on the port can tell.
      if (has('rmdirs-in-collect')) await ctx.host.rmdir('/etc/tags.d')
      if (has('writes-in-collect')) await ctx.host.writeFileAtomic('/etc/tags.seen', 'x')
      const content = has('unsorted-json') ? JSON.stringify({ tags: state.tags, b: 1, a: 2 }) : stableStringify(state)
      return { state, documents: [{ path: has('outside-lane') ? 'system/other.json' : 'system/tags.json', content }], diagnostics: [] }
    },
    async load({ twin }) {
      const text = (await twin.readText('system/tags.json')) ?? (await twin.readText('system/other.json'))
      return { state: text === undefined ? undefined : { tags: (JSON.parse(text) as Tags).tags }, diagnostics: [] }
    },
    diff({ desired, actual }) {
      plans++
      const diagnostics = desired.tags.filter((t) => !NAME.test(t)).map((t) => errorDiagnostic('NAME_INVALID', `bad tag ${JSON.stringify(t)}`))
      const changes: Change[] = desired.tags
        .filter((t) => NAME.test(t) && !actual.tags.includes(t))
        .map((t) => ({ id: has('id-without-provider') ? `add:${t}` : has('unstable-ids') ? `tags:add:${t}:${plans}` : `tags:add:${t}`, provider: 'tags', category: 'files', operation: 'add', resource: t, summary: `add ${t}`, risk: 'low', data: { tag: t } }))
      if (has('no-provider-field')) for (const c of changes) delete (c as Partial<Change>).provider
      return { changes, diagnostics }
    },
    async apply({ changes, ctx }) {
      const live = await read(ctx)
      const results = []
      for (const c of changes) {
        const tag = (c.data as { tag: string }).tag
        if (has('runs-hostile')) await ctx.host.exec('echo', [tag])
        if (!NAME.test(tag)) throw new TwinSyncError('NAME_INVALID', `bad tag ${tag}`)
        if (live.tags.includes(tag) && !has('not-idempotent')) {
          results.push({ id: c.id, status: 'unchanged' as const })
          continue
        }
        if (!has('apply-misses')) live.tags.push(tag)
        results.push({ id: c.id, status: 'applied' as const })
      }
      await ctx.host.writeFileAtomic('/etc/tags', live.tags.sort().join('\n') + '\n')
      if (has('reapply-writes')) await ctx.host.writeFileAtomic('/etc/tags.applied', `${++applies}\n`)
      return { results, diagnostics: [] }
    },
  }
}

type ScopeFlaw = 'no-out-of-scope' | 'apply-anywhere' | 'blind-out-of-scope' | 'flags-own' | 'unnamed'
interface Notes {
  files: Record<string, string>
}
const NOTES_DIR = '/etc/notes.d'

/** A provider of the files under /etc/notes.d (it claims them), listed by path in system/notes.json, with the scope flaws asked for. */
function notesProvider(flaws: ScopeFlaw[] = []): ApplicableProvider<Notes> {
  const has = (f: ScopeFlaw) => flaws.includes(f)
  const inside = (ctx: Parameters<ApplicableProvider['collect']>[0]['ctx'], path: string) => ctx.claims.ownerOf(path) === 'notes'
  const provider: ApplicableProvider<Notes> = {
    name: 'notes',
    version: '1.0.0',
    category: 'files',
    description: 'notes',
    twinPaths: ['system/notes.json'],
    claims: [`${NOTES_DIR}/*`],
    async detect({ ctx }) {
      return { detected: (await ctx.host.stat(NOTES_DIR)) !== undefined, diagnostics: [] }
    },
    async collect({ ctx }) {
      const files: Record<string, string> = {}
      for (const e of (await ctx.host.readdir(NOTES_DIR)).sort((a, b) => (a.name < b.name ? -1 : 1))) files[`${NOTES_DIR}/${e.name}`] = (await ctx.host.readTextIfExists(`${NOTES_DIR}/${e.name}`)) ?? ''
      return { state: { files }, documents: [{ path: 'system/notes.json', content: stableStringify({ files }) }], diagnostics: [] }
    },
    async load({ twin }) {
      const text = await twin.readText('system/notes.json')
      return { state: text === undefined ? undefined : (JSON.parse(text) as Notes), diagnostics: [] }
    },
    diff({ desired, actual }) {
      const changes: Change[] = Object.entries(desired.files)
        .filter(([path, text]) => actual.files[path] !== text)
        .map(([path, text]) => ({ id: `notes:write:${path}`, provider: 'notes', category: 'files', operation: 'write', resource: path, summary: `write ${path}`, risk: 'low', data: { path, text } }))
      return { changes, diagnostics: [] }
    },
    async apply({ changes, ctx }) {
      const results = []
      for (const c of changes) {
        const { path, text } = c.data as { path: string; text: string }
        if (!has('apply-anywhere') && !inside(ctx, path)) {
          results.push({ id: c.id, status: 'failed' as const, message: `${path} is not under ${NOTES_DIR}` })
          continue
        }
        if ((await ctx.host.readTextIfExists(path)) === text) {
          results.push({ id: c.id, status: 'unchanged' as const })
          continue
        }
        await ctx.host.writeFileAtomic(path, text)
        results.push({ id: c.id, status: 'applied' as const })
      }
      return { results, diagnostics: [] }
    },
  }
  if (has('no-out-of-scope')) return provider
  provider.outOfScope = async ({ changes, ctx }) => {
    if (has('blind-out-of-scope')) return []
    return changes
      .filter((c) => has('flags-own') || !inside(ctx, (c.data as { path: string }).path))
      .map((c) =>
        warningDiagnostic('NOTES_OUTSIDE', `${c.summary}: left out, not under ${NOTES_DIR}`, {
          ...(has('unnamed') ? {} : { change: c.id }),
          detail: `Keep notes under ${NOTES_DIR}.`,
        }),
      )
  }
  return provider
}

const addNote = (docs: readonly TwinDocument[]): TwinDocument[] => {
  const state = JSON.parse(String(docs.find((d) => d.path === 'system/notes.json')?.content)) as Notes
  return [{ path: 'system/notes.json', content: stableStringify({ files: { ...state.files, [`${NOTES_DIR}/b`]: 'note b\n' } }) }]
}
/** A forged twin: the notes list asks for root's authorized_keys. */
const plantKey = (docs: readonly TwinDocument[]): TwinDocument[] => {
  const state = JSON.parse(String(docs.find((d) => d.path === 'system/notes.json')?.content)) as Notes
  return [{ path: 'system/notes.json', content: stableStringify({ files: { ...state.files, '/root/.ssh/authorized_keys': 'ssh-ed25519 AAAA attacker\n' } }) }]
}

const addTag = (docs: readonly TwinDocument[]): TwinDocument[] => {
  const doc = docs.find((d) => d.path === 'system/tags.json')
  const state = JSON.parse(String(doc?.content ?? '{"tags":[]}')) as Tags
  return [{ path: 'system/tags.json', content: stableStringify({ tags: [...state.tags, 'zeta'].sort() }) }]
}
const hostileEdit = (_docs: readonly TwinDocument[], name: string): TwinDocument[] => [{ path: 'system/tags.json', content: stableStringify({ tags: ['alpha', name] }) }]

describe('conformance kit', function () {
  this.timeout(60_000)
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kit-'))
    await mkdir(join(root, 'etc'))
    await writeFile(join(root, 'etc/tags'), 'alpha\nbeta\n')
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  const check = (flaws: Flaw[]) => {
    const provider = tagsProvider(flaws)
    return checkConformance(provider, createTestContext(root, { providers: [provider] }), { edit: addTag, apply: true, hostileEdit })
  }

  it('passes a provider that keeps every promise', async () => {
    assert.deepEqual(await check([]), [])
  })

  const cases: Array<[Flaw, RegExp]> = [
    ['writes-in-collect', /collect\(\) changed the target \(created \/etc\/tags\.seen\).*collect must only read/],
    ['execs-in-collect', /collect\(\) called exec\("true"\): collect only reads; run read-only programs with ctx\.host\.query/],
    ['rmdirs-in-collect', /collect\(\) called rmdir\("\/etc\/tags\.d"\): collect only reads/],
    ['unsorted-json', /system\/tags\.json is not in stable form .*write it with stableStringify/],
    ['outside-lane', /system\/other\.json is outside the provider's twinPaths/],
    ['no-provider-field', /change "tags:add:zeta" does not match the change schema .*every change needs id, provider/],
    ['not-idempotent', /applying the same changes twice: tags:add:zeta is applied, expected unchanged/],
    ['apply-misses', /after apply, a new collect still differs from the twin \(tags:add:zeta\)/],
    ['runs-hostile', /apply\(\) of a change naming .* called exec\(.*echo.*\) before refusing it/],
    ['unstable-ids', /planning the same twin twice gave different changes \(tags:add:zeta:\d+ \/ tags:add:zeta:\d+\)/],
    ['id-without-provider', /change id "add:zeta" \(resource "zeta"\) is not a valid id: write "tags:<operation>:<resource>"/],
    ['reapply-writes', /applying the same changes a second time changed the target \(changed \/etc\/tags\.applied\)/],
    ['throws-on-empty-root', /detect\(\) on an empty root threw .*return \{ detected: false, reason \}/],
  ]
  for (const [flaw, message] of cases) {
    it(`catches a provider that ${flaw.replace(/-/g, ' ')}, saying what to fix`, async () => {
      const problems = await check([flaw])
      assert.ok(problems.some((p) => message.test(p)), problems.join('\n'))
    })
  }

  it('catches a description declared for another document than its own, or without where the real thing lives', async () => {
    const provider = { ...tagsProvider([]), describes: [{ path: 'system/startup/cron.json', appliedFrom: 'the crontab files' }, { path: 'system/tags.json', keys: ['count'], appliedFrom: ' ' }] }
    const problems = await checkConformance(provider, createTestContext(root, { providers: [provider] }), { edit: addTag, apply: true, hostileEdit })
    assert.ok(problems.some((p) => /describes names system\/startup\/cron\.json, which is outside the provider's twinPaths/.test(p)), problems.join('\n'))
    assert.ok(problems.some((p) => /describes system\/tags\.json with an empty appliedFrom/.test(p)), problems.join('\n'))
    const fine = { ...tagsProvider([]), describes: [{ path: 'system/tags.json', keys: ['count'], appliedFrom: 'the tags are /etc/tags' }] }
    assert.deepEqual(await checkConformance(fine, createTestContext(root, { providers: [fine] }), { edit: addTag, apply: true, hostileEdit }), [])
  })

  it("catches codes TwinSync would not list as the provider's: without its name first, one of TwinSync's own, or saying nothing", async () => {
    const provider = { ...tagsProvider([]), codes: { TAGS_UNKNOWN: 'A tag the machine does not know: the twin keeps it; remove it from system/tags.json', UNKNOWN_TAG: 'A tag…', PLAN_INVALID: 'Taken', TAGS_EMPTY: ' ' } }
    const problems = await checkConformance(provider, createTestContext(root, { providers: [provider] }), { edit: addTag, apply: true, hostileEdit })
    assert.deepEqual(problems, [
      'codes: "UNKNOWN_TAG" does not start with TAGS_ (the provider\'s name)',
      'codes: "PLAN_INVALID" is one of TwinSync\'s own codes (describe lists them): use it without declaring it, or name yours apart',
      'codes: "TAGS_EMPTY" does not say what it means (its description is not a text, or empty)',
    ])
    const fine = { ...tagsProvider([]), codes: { TAGS_UNKNOWN: 'A tag the machine does not know: the twin keeps it; remove it from system/tags.json' } }
    assert.deepEqual(await checkConformance(fine, createTestContext(root, { providers: [fine] }), { edit: addTag, apply: true, hostileEdit }), [])
  })

  it('catches unapplied() naming places of an unchanged twin, of another document, or without a next step', async () => {
    const provider = { ...tagsProvider([]), unapplied: () => [{ path: 'system/startup/cron.json', at: [], nextStep: ' ' }] }
    const problems = await checkConformance(provider, createTestContext(root, { providers: [provider] }), { edit: addTag, apply: true, hostileEdit })
    assert.ok(problems.some((p) => /unapplied\(\) of an unchanged twin names places \(system\/startup\/cron\.json#\)/.test(p)), problems.join('\n'))
    assert.ok(problems.some((p) => /unapplied\(\) names system\/startup\/cron\.json, which is outside the provider's twinPaths/.test(p)), problems.join('\n'))
    assert.ok(problems.some((p) => /unapplied\(\) names system\/startup\/cron\.json without a nextStep/.test(p)), problems.join('\n'))
    const fine = { ...tagsProvider([]), unapplied: () => [] }
    assert.deepEqual(await checkConformance(fine, createTestContext(root, { providers: [fine] }), { edit: addTag, apply: true, hostileEdit }), [])
  })

  describe('a provider whose twin can ask for paths outside what it manages (outOfScope)', () => {
    beforeEach(async () => {
      await mkdir(join(root, 'etc/notes.d'))
      await writeFile(join(root, 'etc/notes.d/a'), 'note a\n')
    })
    const checkNotes = (flaws: ScopeFlaw[]) => {
      const provider = notesProvider(flaws)
      return checkConformance(provider, createTestContext(root, { providers: [provider] }), { edit: addNote, apply: true, outsideEdit: plantKey })
    }

    it('passes a provider that names what is outside its claims and refuses it in apply', async () => {
      assert.deepEqual(await checkNotes([]), [])
    })

    const scopeCases: Array<[ScopeFlaw[], RegExp[]]> = [
      [
        ['no-out-of-scope', 'apply-anywhere'],
        [
          /the outsideEdit documents planned notes:write:\/root\/\.ssh\/authorized_keys and your provider has no outOfScope\(\): .*implement outOfScope/,
          /apply\(\) of notes:write:\/root\/\.ssh\/authorized_keys, outside what your provider manages, called writeFileAtomic\("\/root\/\.ssh\/authorized_keys"\)/,
          /apply\(\) of notes:write:\/twinsync-conformance-outside\/b, outside what your provider manages, called writeFileAtomic/,
        ],
      ],
      [['blind-out-of-scope'], [/outOfScope\(\) did not name notes:write:\/root\/\.ssh\/authorized_keys \(\/root\/\.ssh\/authorized_keys\), notes:write:\/twinsync-conformance-outside\/b .*name every such change/]],
      [['flags-own'], [/outOfScope\(\) names changes your own diff planned from the edited twin \(notes:write:\/etc\/notes\.d\/b\)/]],
      [['unnamed'], [/outOfScope\(\) returned a diagnostic that names no change it was asked about \(NOTES_OUTSIDE: .*set change to the id/]],
    ]
    for (const [flaws, messages] of scopeCases) {
      it(`catches a provider that ${flaws.join(' and ').replace(/-/g, ' ')}, saying what to fix`, async () => {
        const problems = await checkNotes(flaws)
        for (const message of messages) assert.ok(problems.some((p) => message.test(p)), `${message}\n${problems.join('\n')}`)
      })
    }
  })

  it('fills the provider config defaults into the test context', async () => {
    const { Type } = await import('../src/index.js')
    const provider = { ...tagsProvider(), configSchema: Type.Object({ depth: Type.Integer({ default: 3 }) }) }
    assert.deepEqual(createTestContext(root, { providers: [provider] }).config, { depth: 3 })
  })
})
