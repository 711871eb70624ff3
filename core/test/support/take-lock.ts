// A separate process that tries to take a twin lock: prints "got" or the error code, holds it for argv[3] ms.
import { TwinLock } from '../../src/twin/twin-lock.js'

const [path, holdMs] = process.argv.slice(2)
const lock = new TwinLock(path as string)
try {
  await lock.acquire('test')
  process.stdout.write('got\n')
  await new Promise((r) => setTimeout(r, Number(holdMs ?? 0)))
  await lock.release()
} catch (error) {
  process.stdout.write(`${(error as { code?: string }).code ?? (error as Error).message}\n`)
}
