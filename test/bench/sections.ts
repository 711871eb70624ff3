// The benchmark's sections, in the order they run. A section measures one thing and returns
// rows for the table (report.ts); run.ts gives it the context and catches its failure (a
// failed section becomes a row saying so: the bench reports, it never fails a build).
//
// To add one: write `async function (ctx: BenchContext): Promise<BenchRow[]>` in a module of
// its own, build its rows with row() from report.ts, and add an entry to SECTIONS below.
// `BENCH_ONLY=name,name npm run bench` runs only the sections named; a section marked
// `onlyWhenNamed` runs only then.
import type { Etckeeper } from './etckeeper.js'
import { rehearseSection } from './rehearse.js'
import type { BenchRow } from './report.js'
import { growthScaleSection } from './sections/growth-scale.js'
import { growthSection } from './sections/growth.js'
import { historySection } from './sections/history.js'
import { pluginSection } from './sections/plugin.js'
import { scaleSection } from './sections/scale.js'
import { sideBySideSection } from './sections/side-by-side.js'
import { startupSection } from './sections/startup.js'

export interface BenchContext {
  /** Runs per measurement (BENCH_RUNS; fewer with BENCH_QUICK=1). Report medians of them. */
  runs: number
  /** BENCH_QUICK=1: a short run to prove the bench works; figures are rougher. */
  quick: boolean
  /** How many snapshots the long sections make (BENCH_SNAPSHOTS; fewer with BENCH_QUICK=1). */
  snapshots: number
  /** One line of progress on stderr. */
  progress(message: string): void
  /** A note printed under the table and kept in the JSON (how something was measured). */
  note(text: string): void
  /** etckeeper, unpacked once per run (etckeeper.ts). */
  etckeeper(): Promise<Etckeeper>
}

export interface BenchSection {
  /** Short name, for BENCH_ONLY and the JSON. */
  name: string
  /** One line: what it measures. */
  describe: string
  /** Run only when BENCH_ONLY names it: too long for the whole bench (growth-scale, about an hour). */
  onlyWhenNamed?: boolean
  run(ctx: BenchContext): Promise<BenchRow[]>
}

export const SECTIONS: BenchSection[] = [
  startupSection,
  sideBySideSection('minbase', 'base', 'minbase root', { commands: false }),
  sideBySideSection('services', 'server', 'services root', { commands: true }),
  historySection,
  pluginSection,
  scaleSection,
  growthSection,
  rehearseSection,
  growthScaleSection,
]

/** Whether a run with BENCH_ONLY `only` (undefined: not set) runs `section`. */
export function runsIn(section: BenchSection, only: string[] | undefined): boolean {
  return only === undefined ? section.onlyWhenNamed !== true : only.includes(section.name)
}
