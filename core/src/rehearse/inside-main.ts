// The process the host starts inside the rehearsal container (`node inside-main.js`): reads an
// InsideRequest as JSON on stdin, rehearses it with TwinSync's own applier against the
// container's root, and writes the InsideResult as JSON on stdout (logs go to stderr).
import { isTwinSyncError } from '@twinsync/sdk/light'
import { strayStdoutToStderr, writeOut } from '../own-stdout.js'
import { rehearseInside, type InsideRequest } from './inside.js'

// stdout is the result's JSON alone: a plugin loaded in here that prints (console.log in its
// apply) goes to stderr, not before the JSON the host parses (own-stdout.ts).
strayStdoutToStderr()

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

try {
  const request = JSON.parse(await readStdin()) as InsideRequest
  const result = await rehearseInside(request)
  writeOut(JSON.stringify({ result }))
} catch (error) {
  const e = error as Error
  const known = isTwinSyncError(error) ? error.toJSON() : { code: 'INTERNAL', message: e.message, stack: e.stack }
  writeOut(JSON.stringify({ error: known }))
  process.exitCode = 3
}
