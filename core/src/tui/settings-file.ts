import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Limits } from '@twinsync/sdk'
import { TwinSyncError, isTwinSyncError } from '@twinsync/sdk/light'
import { parseDocument, type Document } from 'yaml'
import { checkProviderSections, configLine, loadConfigFile } from '../config/config-file.js'
import type { ProviderRegistry } from '../providers/provider-registry.js'
import type { SettingsState, SettingsValues } from './services.js'

export const LIMIT_KEYS = ['maxFileSize', 'logLines', 'logBytes', 'topProcesses'] as const

export async function loadSettings(
  loadedPath: string | undefined,
  path: string,
  defaultInclude: readonly string[],
  defaultLimits: Limits,
): Promise<SettingsState> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  const values = (text === undefined ? {} : (parseDocument(text).toJS() ?? {})) as Record<string, unknown>
  const files = (values.files ?? {}) as { include?: string[]; ignore?: string[] }
  const limits = (values.limits ?? {}) as Partial<Limits>
  return {
    path,
    exists: loadedPath !== undefined || text !== undefined,
    values: { include: files.include === undefined ? undefined : [...files.include], ignore: [...(files.ignore ?? [])], limits: { ...limits } },
    defaultInclude,
    defaultLimits,
  }
}

/**
 * Change the settings the TUI edits in the YAML file, keeping its comments and every other key,
 * and check the result the way a command would load it before it replaces the file: written
 * next to it, loaded and checked against every provider's schema, then renamed over it.
 */
export async function saveSettings(path: string, values: SettingsValues, registry: Pick<ProviderRegistry, 'load'>): Promise<void> {
  await editConfigFile(path, registry, (doc) => {
    const remove = (path: string[]) => (doc.hasIn(path) ? doc.deleteIn(path) : undefined)
    if (values.include === undefined) remove(['files', 'include'])
    else doc.setIn(['files', 'include'], doc.createNode(values.include))
    if (values.ignore.length === 0) remove(['files', 'ignore'])
    else doc.setIn(['files', 'ignore'], doc.createNode(values.ignore))
    for (const key of LIMIT_KEYS) {
      const v = values.limits[key]
      if (v === undefined) remove(['limits', key])
      else doc.setIn(['limits', key], v)
    }
    for (const section of ['files', 'limits']) {
      const node = doc.get(section) as { items?: unknown[] } | undefined
      if (node !== undefined && Array.isArray(node.items) && node.items.length === 0) doc.delete(section)
    }
  })
}

/**
 * Write `repo:` (where the twin lives), keeping the rest of the file. The place itself is
 * checked by TwinPlaceWorkflow before this is called; here the file is checked as a command loads it.
 */
export async function saveTwinPlace(path: string, dir: string, registry: Pick<ProviderRegistry, 'load'>): Promise<void> {
  await editConfigFile(path, registry, (doc) => doc.set('repo', dir))
}

async function editConfigFile(path: string, registry: Pick<ProviderRegistry, 'load'>, edit: (doc: Document) => void): Promise<void> {
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return ''
    throw new TwinSyncError('CONFIG_UNREADABLE', `Cannot read the configuration file ${path}: ${error.message}`, {
      nextStep: `Fix the permissions of ${path}.`,
      details: { path },
    })
  })
  const doc = parseDocument(existing)
  if (doc.errors.length > 0) {
    throw new TwinSyncError('CONFIG_UNREADABLE', `${path}: ${doc.errors[0]?.message.split('\n')[0]}`, { nextStep: `Fix the YAML syntax in ${path} first.`, details: { path } })
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents
  edit(doc)
  const text = doc.toString()

  await mkdir(dirname(path), { recursive: true })
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  const mode = ((await stat(path).catch(() => undefined))?.mode ?? 0o644) & 0o777
  await writeFile(temp, text, { mode })
  try {
    await chmod(temp, mode)
    try {
      // The next step's `twinsync config --config FILE` names the real file, not the temporary one.
      const line = () => configLine()(path)
      const candidate = await loadConfigFile(temp, line)
      const { providers } = await registry.load()
      await checkProviderSections({ ...candidate, path }, new Map(providers.map((p) => [p.provider.name, p.provider])), line)
    } catch (error) {
      // Name the real file, not the temporary one, in the message and the next step.
      if (!isTwinSyncError(error)) throw error
      const fix = (s: string) => s.split(temp).join(path)
      throw new TwinSyncError(error.code, `Not saved: ${fix(error.message)}`, {
        ...(error.nextStep === undefined ? {} : { nextStep: fix(error.nextStep) }),
        details: { ...error.details, path },
      })
    }
    await rename(temp, path)
  } finally {
    await rm(temp, { force: true })
  }
}
