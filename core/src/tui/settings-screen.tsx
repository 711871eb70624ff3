import { useState } from 'react'
import { Box, Text, useInput } from 'ink'
import { ErrorBox } from './error-box.js'
import { useBodyHeight, useCursor, useTask, windowStart } from './hooks.js'
import type { Hint } from './key-hints.js'
import { isBack, useNavigation } from './navigation.js'
import { NOT_LINKED, useServices, type SettingsState, type SettingsValues } from './services.js'
import { Row, Screen } from './screen.js'
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
  | { kind: 'github' }
  | { kind: 'save' }

const SECTION: Record<Item['kind'], string> = {
  include: 'Files: paths mirrored (include)',
  'add-include': 'Files: paths mirrored (include)',
  ignore: 'Files: ignore rules (added to the built-in ones)',
  'add-ignore': 'Files: ignore rules (added to the built-in ones)',
  limit: 'Limits',
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
  const height = useBodyHeight() - 5
  const twin = services.location()
  const from = twin.source === 'flag' ? 'from --repo' : twin.source === 'config' ? 'from `repo:` in this file' : 'the default; --repo or `repo:` in this file moves it'
  const [values, setValues] = useState<SettingsValues>(state.values)
  const [dirty, setDirty] = useState(false)
  const [editing, setEditing] = useState<Item | undefined>(undefined)
  const [message, setMessage] = useState<{ text?: string; error?: unknown } | undefined>(undefined)
  const [warnedDiscard, setWarnedDiscard] = useState(false)

  const include = values.include ?? state.defaultInclude
  const items: Item[] = [
    ...include.map((value, index): Item => ({ kind: 'include', index, value, isDefault: values.include === undefined })),
    { kind: 'add-include' },
    ...values.ignore.map((value, index): Item => ({ kind: 'ignore', index, value })),
    { kind: 'add-ignore' },
    ...LIMITS.map((key): Item => ({ kind: 'limit', key })),
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
      },
      (error: unknown) => setMessage({ error }),
    )
  }
  const finishEdit = (item: Item, text: string | undefined) => {
    setEditing(undefined)
    if (text === undefined) return
    const value = text.trim()
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

  useInput(
    (input, key) => {
      const current = items[latestIndex()]
      if (isBack(input, key)) {
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
        else setEditing(current)
      }
    },
    { isActive: editing === undefined },
  )

  // Render lines: a header wherever the section changes, then the item.
  const lines: Array<{ header?: string; item?: number }> = []
  items.forEach((item, i) => {
    const section = SECTION[item.kind]
    const previous = i === 0 ? undefined : SECTION[items[i - 1]!.kind]
    if (section !== previous && section !== '') lines.push({ header: section })
    lines.push({ item: i })
  })
  const selectedLine = lines.findIndex((l) => l.item === index)
  const start = windowStart(selectedLine, lines.length, height)
  const hints: readonly Hint[] = editing
    ? [['Enter', 'keep'], ['Esc', 'cancel'], ['empty', 'remove / default']]
    : [['↑↓', 'move'], ['Enter', 'edit'], ['d', 'delete'], ['r', 'default paths'], ['s', 'save'], ['Esc/q', 'back']]
  return (
    <Screen title={`Settings — ${state.path}${dirty ? ' (unsaved)' : ''}`} hints={hints}>
      <Text wrap="truncate-end">
        Twin: {twin.dir} ({from})
      </Text>
      <Box flexDirection="column">
        {lines.slice(start, start + height).map((l, i) =>
          l.header !== undefined ? (
            <Text key={`h${start + i}`} bold underline>
              {l.header}
            </Text>
          ) : (
            <Row key={`i${start + i}`} selected={l.item === index} dim={isDim(items[l.item!]!)}>
              {itemText(items[l.item!]!, values, state, status?.remote?.linked)}
            </Row>
          ),
        )}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        {editing !== undefined ? <TextInput label={editLabel(editing)} initial={editInitial(editing, values)} onDone={(v) => finishEdit(editing, v)} /> : null}
        {message?.text !== undefined ? <Text wrap="wrap">{message.text}</Text> : null}
        {message?.error !== undefined ? <ErrorBox error={message.error} title="Not saved" /> : null}
      </Box>
    </Screen>
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
    case 'github':
      return `${linked === undefined ? 'GitHub mirror: checking…' : linked ? 'GitHub mirror: linked' : NOT_LINKED}: Enter to link, create or test`
    case 'save':
      return '[ Save ]'
  }
}

function editLabel(item: Item): string {
  return item.kind === 'limit' ? item.key : item.kind === 'include' || item.kind === 'add-include' ? 'Path (/… or ~/…)' : 'Ignore rule (glob)'
}

function editInitial(item: Item, values: SettingsValues): string {
  if (item.kind === 'include' || item.kind === 'ignore') return item.value
  if (item.kind === 'limit') return values.limits[item.key] === undefined ? '' : String(values.limits[item.key])
  return item.kind === 'add-include' ? '/' : ''
}
