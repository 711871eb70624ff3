import { compareStrings, mirrorPath, appendAll, sortBy, stableStringify, type TwinDocument } from '@twinsync/sdk'
import { parseCrontab } from './crontab-parser.js'
import { CRON_JSON, type CronState, type IgnoredCronFile, type UserCrontab } from './state.js'

// cron reads only /etc/cron.d files whose names are made of these (run-parts' rule): a
// "php.dpkg-old" or "job.sh" there is silently skipped, which is worth showing.
const CRON_D_NAME = /^[A-Za-z0-9_-]+$/

export function cronReadsCronDFile(name: string): boolean {
  return CRON_D_NAME.test(name)
}

/** A system cron file's text: /etc/crontab or a file of /etc/cron.d. */
export interface SystemCronFile {
  path: string
  content: string
}

/**
 * The cron state from the crontab texts, the same whether they were read from the machine
 * (collect) or from the twin (load): parse every file, then sort every list by a key that
 * means something, so equal machines give byte-identical twins.
 */
export function buildCronState(
  crontabs: readonly UserCrontab[],
  systemFiles: readonly SystemCronFile[],
  ignored: readonly IgnoredCronFile[],
): CronState {
  const state: CronState = { crontabs: sortBy(crontabs, (c) => c.user), jobs: [], environment: [], problems: [], ignored: sortBy(ignored, (i) => i.path) }
  // appendAll, never push(...list): a spread of more than about 120,000 elements throws RangeError
  // (session 38: a pulled crontab of 400,000 jobs ended every plan in "The cron provider failed in
  // load(): Maximum call stack size exceeded"; a twin's is capped, MAX_CRON_LINES, a machine's is not).
  const add = (parsed: ReturnType<typeof parseCrontab>) => {
    appendAll(state.jobs, parsed.jobs)
    appendAll(state.environment, parsed.environment)
    appendAll(state.problems, parsed.problems)
  }
  for (const crontab of state.crontabs) add(parseCrontab(crontab.content, { path: crontab.path, format: 'user', user: crontab.user }))
  for (const file of systemFiles) add(parseCrontab(file.content, { path: file.path, format: 'system' }))
  const bySourceLine = <T extends { source: string; line: number }>(a: T, b: T) => compareStrings(a.source, b.source) || a.line - b.line
  state.jobs.sort(bySourceLine)
  state.environment.sort(bySourceLine)
  state.problems.sort(bySourceLine)
  return state
}

/** The twin documents of a state: each user crontab mirrored, and cron.json describing all jobs. */
export function cronDocuments(state: CronState): TwinDocument[] {
  const summary = {
    crontabs: state.crontabs.map(({ user, path }) => ({ user, path })),
    jobs: state.jobs,
    environment: state.environment,
    problems: state.problems,
    ignored: state.ignored,
  }
  return [
    ...state.crontabs.map((c) => ({ path: mirrorPath(c.path), content: c.content })),
    { path: CRON_JSON, content: stableStringify(summary) },
  ]
}
