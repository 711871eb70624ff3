import { strict as assert } from 'node:assert'
// The SDK's source, not its bundle: withoutPrefilters switches the prefilters of the module findSecrets runs.
import { findSecrets } from '../../sdk/src/secrets.js'
import { withoutPrefilters } from '../../sdk/src/rule-prefilter.js'

/**
 * The secret detector's hand rules skip a text or a line only where they could report nothing
 * (sdk/src/rule-prefilter.ts): each text's findings (by its path, and without one, as a log line
 * or a document is screened) must be those of every rule run on every whole text. The number of findings.
 */
export async function assertPrefiltersFindTheSame(texts: Iterable<readonly [string, string | Buffer]>): Promise<number> {
  let findings = 0
  for (const [path, content] of texts) {
    const text = typeof content === 'string' ? content : content.toString('latin1')
    for (const options of [{ path }, {}]) {
      const found = await findSecrets(text, options)
      assert.deepEqual(found, await withoutPrefilters(() => findSecrets(text, options)), `${path}${options.path === undefined ? ' (no path)' : ''}`)
      findings += found.length
    }
  }
  return findings
}
