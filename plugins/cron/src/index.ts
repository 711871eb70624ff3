import type { Provider } from '@twinsync/sdk'
import { CronProvider } from './provider.js'

export { CronProvider } from './provider.js'
export { startupEntries, type StartupEntry } from './startup-entry.js'
export { parseCrontab, type CrontabFormat, type CrontabSource, type ParsedCrontab } from './crontab-parser.js'
export { isValidSchedule, scheduleProblem, SCHEDULE_KEYWORDS } from './schedule.js'
export { stripCronHeader } from './crontab-header.js'
export type { CrontabChangeData } from './change.js'
export { CronJob, CronProblem, CronState, CronVariable, IgnoredCronFile, UserCrontab } from './state.js'

export const providers: Provider[] = [new CronProvider()]
