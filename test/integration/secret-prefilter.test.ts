import { strict as assert } from 'node:assert'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { useCliRoot } from '../support/cli.js'
import { assertPrefiltersFindTheSame } from '../support/prefilter-check.js'
import { rootTexts } from '../support/root-texts.js'

/** What the comparison reads of the root: where configuration, state and text are (each file up to 128 KB, as latin1, as the files provider reads it). */
const READ = ['etc', 'root', 'var', 'usr/share/perl5', 'usr/share/bash-completion']
const MAX_BYTES = 128 * 1024

/**
 * The hand rules' prefilters (sdk/src/rule-prefilter.ts) skip a text or a line only where the rule
 * could report nothing: on a real root the detector finds exactly what it finds with every rule
 * run on every whole text. sdk/test/secrets.test.ts does the same for the secret fixtures,
 * secrets-places.test.ts and secrets-server.test.ts for what they plant.
 */
describe('secret detector prefilters on the minbase root: the same findings as every rule on every whole text', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ image: 'base' })

  it("in every document of its first snapshot and in the root's text files", async () => {
    const { rootfs, twinDir } = root()
    const texts: Array<[string, string]> = []
    const tree = await runOk(['git', '-C', twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'])
    for (const path of tree.stdout.split('\n').filter((p) => p !== '')) {
      texts.push([path, (await runOk(['git', '-C', twinDir, 'show', `HEAD:${path}`])).stdout])
    }
    const documents = texts.length
    texts.push(...(await rootTexts(rootfs.dir, READ, MAX_BYTES)))
    const findings = await assertPrefiltersFindTheSame(texts)
    assert.ok(documents > 20 && texts.length > 800 && findings > 0, `${documents} documents, ${texts.length} texts, ${findings} findings`)
  })
})
