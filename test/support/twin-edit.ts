// Edit a twin the way a person would: change a mirrored file, a JSON document, add a plan.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export async function writeTwinFile(twin: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(twin, path)), { recursive: true })
  await writeFile(join(twin, path), content)
}

export async function editTwinJson<T>(twin: string, path: string, edit: (value: T) => void): Promise<void> {
  const value = JSON.parse(await readFile(join(twin, path), 'utf8')) as T
  edit(value)
  await writeFile(join(twin, path), JSON.stringify(value, null, 2) + '\n')
}
