// A separate process that tries to take a twin lock: prints "got" or the error code. A winner
// holds the lock until the file argv[3] exists (the test makes it once every taker has answered),
// so no taker can come late enough to find it free again, however slowly the processes start.
import { existsSync } from 'node:fs'
import { TwinLock } from '../../src/twin/twin-lock.js'

const [path, releaseWhen] = process.argv.slice(2)
const lock = new TwinLock(path as string)
try {
  await lock.acquire('test')
  process.stdout.write('got\n')
  while (!existsSync(releaseWhen as string)) await new Promise((r) => setTimeout(r, 20))
  await lock.release()
} catch (error) {
  process.stdout.write(`${(error as { code?: string }).code ?? (error as Error).message}\n`)
}
