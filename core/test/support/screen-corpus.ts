// A child process of core/test/regexp-tier-up.test.ts (V8's flags set before it by
// run-flags.cjs, or left as V8's defaults): the secret detector over the corpus of the
// repository's secret fixtures; its findings, text by text, written as JSON to `OUT`.
import { writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

const { findSecrets } = await import('@twinsync/sdk')
const samples = await import('../../../test/fixtures/secrets/samples.js')

const texts = samples.plantedCorpus()
const inputs = JSON.parse(gunzipSync(await import('node:fs').then((fs) => fs.readFileSync(new URL('../../../test/fixtures/secrets/secretlint-inputs.json.gz', import.meta.url)))).toString('utf8')) as Array<{ name: string; base64: string }>
for (const { name, base64 } of inputs) {
  const bytes = Buffer.from(base64, 'base64')
  // As the files provider reads a file, and one long line (a subject of 1,000 characters or more is compiled at once either way).
  texts.push([name, bytes.toString('latin1')], [name, `${'x'.repeat(1_000)} ${bytes.toString('utf8').replace(/\r?\n/g, ' ')}`])
}
const found: unknown[] = []
for (const [path, text] of texts) found.push(await findSecrets(text, path === undefined ? {} : { path }))
writeFileSync(process.env.OUT as string, JSON.stringify({ texts: texts.length, found }))
