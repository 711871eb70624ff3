import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import { ErrorBox } from './error-box.js'
import { useBodyHeight, useCursor, useTask, useTerminalSize, windowStart } from './hooks.js'
import type { Hint } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import type { TwinPlace } from '../services/twin-place.js'
import { NOT_LINKED, useServices, type SettingsState, type SettingsValues } from './services.js'
import { Row, Screen } from './screen.js'
import { Confirm } from './confirm.js'
import { TextInput } from './text-input.js'
import { useStatus } from './status-line.js'

const LIMITS = ['maxFileSize', 'logLines', 'logBytes', 'topProcesses'] as const
type LimitKey = (typeof LIMITS)[number]

type Item =
  | { kind: 'include'; index: number; value: string; isDefault: boolean }
  | { kind: 'add-include' }
  | { kind: 'ignore'; index: number; value: string }
  | { kind: 'add-ignore' }
  | { kind: 'limit'; key: LimitKey }
  | { kind: 'repo' }
  | { kind: 'github' }
  | { kind: 'save' }

const SECTION: Record<Item['kind'], string> = {
  include: 'Files: paths mirrored (include)',
  'add-include': 'Files: paths mirrored (include)',
  ignore: 'Files: ignore rules (added to the built-in ones)',
  'add-ignore': 'Files: ignore rules (added to the built-in ones)',
  limit: 'Limits',
  repo: 'Twin repository (where the twin lives)',
  github: 'GitHub',
  save: '',
}

/** Settings: the files provider's paths and ignore rules, the limits; checked before saving. */
export function SettingsScreen() {
  const services = useServices()
  const loaded = useTask(() => services.loadSettings())
  const state = loaded.state?.status === 'done' ? loaded.state.value : undefined
  return state === undefined ? (
    <Screen title="Settings" hints={[['Esc/q', 'back']]}>
      {loaded.state?.status === 'failed' ? <ErrorBox error={loaded.state.error} title="Cannot read the settings" /> : <Text>Reading the configuration…</Text>}
      <BackOnly />
    </Screen>
  ) : (
    <SettingsEditor state={state} />
  )
}

function BackOnly() {
  const nav = useNavigation()
  useInput((input, key) => (isBack(input, key) ? nav.back() : undefined))
  return null
}

function SettingsEditor({ state }: { state: SettingsState }) {
  const services = useServices()
  const nav = useNavigation()
  // Linked or not: the status line's fact (one source), not whether a mirror port is wired.
  const status = useStatus()
  const body = useBodyHeight()
  const { columns } = useTerminalSize()
  const twin = services.location()
  const from = twin.source === 'flag' ? 'from --repo, for this run only' : twin.source === 'config' ? 'from `repo:` in this file' : 'the default'
  const [values, setValues] = useState<SettingsValues>(state.values)
  const [dirty, setDirty] = useState(false)
  const [editing, setEditing] = useState<Item | undefined>(undefined)
  const [message, setMessage] = useState<{ text?: string; error?: unknown } | undefined>(undefined)
  const [warnedDiscard, setWarnedDiscard] = useState(false)
  // A new place for the twin, checked and waiting for a yes; then, when nothing is there yet, the offer to create it.
  const [proposed, setProposed] = useState<TwinPlace | undefined>(undefined)
  const [offerInit, setOfferInit] = useState(false)

  const include = values.include ?? state.defaultInclude
  const items: Item[] = [
    ...include.map((value, index): Item => ({ kind: 'include', index, value, isDefault: values.include === undefined })),
    { kind: 'add-include' },
    ...values.ignore.map((value, index): Item => ({ kind: 'ignore', index, value })),
    { kind: 'add-ignore' },
    ...LIMITS.map((key): Item => ({ kind: 'limit', key })),
    { kind: 'repo' },
    { kind: 'github' },
    { kind: 'save' },
  ]
  const [index, setIndex, latestIndex] = useCursor(items.length)
  const current = items[index]

  const change = (next: SettingsValues) => {
    setValues(next)
    setDirty(true)
    setWarnedDiscard(false)
    setMessage(undefined)
  }
  const withInclude = (f: (list: string[]) => string[]) => change({ ...values, include: f([...include]) })
  const save = () => {
    setMessage({ text: 'Checking and saving…' })
    services.saveSettings(values).then(
      ({ path }) => {
        setDirty(false)
        setMessage({ text: `Saved ${path}; the next snapshot and plan use it.` })
        // What is mirrored or ignored decides what counts as drift: checked again with the new file.
        status?.refresh()
      },
      (error: unknown) => setMessage({ error }),
    )
  }
  const finishEdit = (item: Item, text: string | undefined) => {
    setEditing(undefined)
    if (text === undefined) return
    const value = text.trim()
    if (item.kind === 'repo') return value === '' || value === twin.dir ? undefined : propose(value)
    if (item.kind === 'include') withInclude((l) => (value === '' ? l.filter((_, i) => i !== item.index) : l.map((v, i) => (i === item.index ? value : v))))
    else if (item.kind === 'add-include' && value !== '') withInclude((l) => [...l, value])
    else if (item.kind === 'ignore') change({ ...values, ignore: value === '' ? values.ignore.filter((_, i) => i !== item.index) : values.ignore.map((v, i) => (i === item.index ? value : v)) })
    else if (item.kind === 'add-ignore' && value !== '') change({ ...values, ignore: [...values.ignore, value] })
    else if (item.kind === 'limit') {
      if (value === '') change({ ...values, limits: { ...values.limits, [item.key]: undefined } })
      else if (!/^\d+$/.test(value)) setMessage({ text: `${item.key} must be a whole number (or empty for the default); not changed.` })
      else change({ ...values, limits: { ...values.limits, [item.key]: Number(value) } })
    }
  }

  // The same rule as `init` and `snapshot` (TwinPlaceWorkflow), asked before anything is written.
  const propose = (dir: string) => {
    setOfferInit(false)
    setMessage({ text: `Checking ${dir}…` })
    services.checkTwinPlace(dir).then(
      (place) => {
        setMessage(undefined)
        setProposed(place)
      },
      (error: unknown) => setMessage({ error, text: `The twin stays at ${twin.dir}.` }),
    )
  }
  const move = (place: TwinPlace) => {
    setProposed(undefined)
    const old = twin.dir
    setMessage({ text: `Writing \`repo: ${place.dir}\`…` })
    services.moveTwin(place.dir).then(
      ({ path }) => {
        status?.refresh()
        const next = place.holds === 'twin' ? 'Every screen now uses the twin there.' : 'There is no twin there yet: press i to create it now (as `twinsync init` does), or later from Init.'
        setMessage({ text: `The twin is now ${place.dir} (\`repo:\` in ${path}). The twin at ${old} stays where it is; nothing was moved or deleted. ${next}` })
        setOfferInit(place.holds !== 'twin')
      },
      (error: unknown) => setMessage({ error, text: `The twin stays at ${old}.` }),
    )
  }
  const createTwin = () => {
    setOfferInit(false)
    setMessage({ text: `Creating the twin at ${twin.dir}…` })
    services.initTwin().then(
      (r) => {
        status?.refresh()
        setMessage({ text: r.created ? `Created the twin at ${r.repo}; Push snapshot records this machine into it.` : `The twin at ${r.repo} already exists.` })
      },
      (error: unknown) => setMessage({ error }),
    )
  }

  useInput(
    (input, key) => {
      const current = items[latestIndex()]
      if (offerInit && input === 'i') createTwin()
      else if (isBack(input, key)) {
        if (dirty && !warnedDiscard) {
          setWarnedDiscard(true)
          setMessage({ text: 'Unsaved changes: press s to save, or Esc again to leave without saving.' })
        } else nav.back()
      } else if (key.upArrow) setIndex((i) => i - 1)
      else if (key.downArrow) setIndex((i) => i + 1)
      else if (key.pageUp) setIndex((i) => i - height)
      else if (key.pageDown) setIndex((i) => i + height)
      else if (input === 's') save()
      else if (input === 'r') change({ ...values, include: undefined })
      else if (input === 'd' && current !== undefined) {
        if (current.kind === 'include') withInclude((l) => l.filter((_, i) => i !== current.index))
        else if (current.kind === 'ignore') change({ ...values, ignore: values.ignore.filter((_, i) => i !== current.index) })
        else if (current.kind === 'limit') change({ ...values, limits: { ...values.limits, [current.key]: undefined } })
      } else if (key.return && current !== undefined) {
        if (current.kind === 'save') save()
        else if (current.kind === 'github') nav.push({ name: 'github' })
        else if (current.kind === 'repo' && twin.source === 'flag') {
          setMessage({ text: `This run's twin comes from --repo; start \`twinsync tui\` without --repo to change \`repo:\` here.` })
        } else setEditing(current)
      }
    },
    { isActive: editing === undefined && proposed === undefined },
  )

  // Render lines: a header wherever the section changes, then the item.
  const lines: Array<{ header?: string; item?: number }> = []
  items.forEach((item, i) => {
    const section = SECTION[item.kind]
    const previous = i === 0 ? undefined : SECTION[items[i - 1]!.kind]
    if (section !== previous && section !== '') lines.push({ header: section })
    lines.push({ item: i })
  })
  // The list gives up rows to what is shown beneath it (a question, a message, an error box).
  const rows = (text: string | undefined) => (text === undefined ? 0 : Math.ceil(text.length / Math.max(20, columns - 2)))
  const beneath = (proposed !== undefined ? 5 : 0) + (editing !== undefined ? 1 : 0) + rows(message?.text) + (message?.error !== undefined ? 6 : 0)
  const height = Math.max(3, body - 2 - Math.max(2, beneath))
  const selectedLine = lines.findIndex((l) => l.item === index)
  const start = windowStart(selectedLine, lines.length, height)
  const hints: readonly Hint[] = editing
    ? [['Enter', 'keep'], ['Esc', 'cancel'], ['empty', 'remove / default']]
    : proposed !== undefined
      ? [['y', 'use it'], ['n', 'keep the twin where it is']]
      : [...(offerInit ? [['i', 'create the twin there'] as Hint] : []), ['↑↓', 'move'], ['Enter', 'edit'], ['d', 'delete'], ['r', 'default paths'], ['s', 'save'], ['Esc/q', 'back']]
  return (
    <Screen title={`Settings — ${state.path}${dirty ? ' (unsaved)' : ''}`} hints={hints}>
      <Box flexDirection="column">
        {lines.slice(start, start + height).map((l, i) =>
          l.header !== undefined ? (
            <Text key={`h${start + i}`} bold underline>
              {l.header}
            </Text>
          ) : (
            <Row key={`i${start + i}`} selected={l.item === index} dim={isDim(items[l.item!]!)}>
              {items[l.item!]!.kind === 'repo' ? `${twin.dir}   (${from})` : itemText(items[l.item!]!, values, state, status?.remote?.linked)}
            </Row>
          ),
        )}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        {proposed !== undefined ? <MoveQuestion place={proposed} from={twin.dir} onAnswer={(yes) => (yes ? move(proposed) : (setProposed(undefined), setMessage({ text: `The twin stays at ${twin.dir}.` })))} /> : null}
        {editing !== undefined ? <TextInput label={editLabel(editing)} initial={editInitial(editing, values, twin.dir)} onDone={(v) => finishEdit(editing, v)} /> : null}
        {message?.text !== undefined ? <Text wrap="wrap">{message.text}</Text> : null}
        {message?.error !== undefined ? <ErrorBox error={message.error} title="Not saved" /> : null}
      </Box>
    </Screen>
  )
}

/** What changing the place means, before it is written: nothing moves, and what the new place holds. */
function MoveQuestion({ place, from, onAnswer }: { place: TwinPlace; from: string; onAnswer: (yes: boolean) => void }) {
  const holds =
    place.holds === 'twin'
      ? `${place.dir} holds a twin${place.info?.hostname ? ` of ${place.info.hostname}` : ''}: TwinSync will use it as it is.`
      : `${place.dir} ${place.holds === 'empty' ? 'is an empty folder' : 'does not exist yet'}: a twin must be created there (init); you are offered that next.`
  useInput((_input, key) => (key.escape ? onAnswer(false) : undefined))
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">{holds}</Text>
      <Text wrap="wrap">The twin at {from} stays where it is: nothing is moved, copied or deleted.</Text>
      <Confirm question={`Use ${place.dir} from now on?`} onAnswer={onAnswer} />
    </Box>
  )
}

function isDim(item: Item): boolean {
  return item.kind === 'include' && item.isDefault
}

function itemText(item: Item, values: SettingsValues, state: SettingsState, linked: boolean | undefined): string {
  switch (item.kind) {
    case 'include':
      return `${item.value}${item.isDefault && item.index === 0 ? '   (the default list)' : ''}`
    case 'add-include':
      return '+ add a path'
    case 'ignore':
      return item.value
    case 'add-ignore':
      return '+ add an ignore rule'
    case 'limit': {
      const v = values.limits[item.key]
      return `${item.key.padEnd(13)} ${v === undefined ? `${state.defaultLimits[item.key]} (default)` : String(v)}`
    }
    case 'repo':
      return ''
    case 'github':
      return `${linked === undefined ? 'GitHub mirror: checking…' : linked ? 'GitHub mirror: linked' : NOT_LINKED}: Enter to link, create or test`
    case 'save':
      return '[ Save ]'
  }
}

function editLabel(item: Item): string {
  if (item.kind === 'repo') return 'Twin repository (absolute path)'
  return item.kind === 'limit' ? item.key : item.kind === 'include' || item.kind === 'add-include' ? 'Path (/… or ~/…)' : 'Ignore rule (glob)'
}

function editInitial(item: Item, values: SettingsValues, twinDir: string): string {
  if (item.kind === 'repo') return twinDir
  if (item.kind === 'include' || item.kind === 'ignore') return item.value
  if (item.kind === 'limit') return values.limits[item.key] === undefined ? '' : String(values.limits[item.key])
  return item.kind === 'add-include' ? '/' : ''
}
