// Start-up: the floor any node program pays, and TwinSync's --version and a command that
// loads oclif and every provider's description.
import { measure, repeat } from '../measure.js'
import { row, type BenchRow } from '../report.js'
import type { BenchContext, BenchSection } from '../sections.js'
import { benchCli } from '../twinsync.js'

export const startupSection: BenchSection = {
  name: 'startup',
  describe: 'node -e 0, twinsync --version, twinsync describe',
  run: async (ctx: BenchContext): Promise<BenchRow[]> => {
    const cli = await benchCli()
    try {
      ctx.progress('start-up: node -e 0, --version, describe')
      const node = await repeat(ctx.runs, () => measure(['node', '-e', '0']))
      const version = await repeat(ctx.runs, () => cli.timed(['--version']))
      const describe = await repeat(ctx.runs, () => cli.timed(['describe']))
      const r = (what: string, m: typeof node) => row('startup', what, { twinsync: m.ms, runs: m.runs, peakMb: { twinsync: m.peakMb } })
      return [
        r('node -e 0 (the floor for any node program)', node),
        { ...r('twinsync --version', version), note: `${(version.ms / node.ms).toFixed(2)}× node -e 0` },
        r('twinsync describe (oclif and all providers loaded)', describe),
      ]
    } finally {
      await cli.cleanup()
    }
  },
}
