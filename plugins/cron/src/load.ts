import { machinePathOf, mirrorPath, type TwinReader } from '@twinsync/sdk'
import { buildCronState, cronReadsCronDFile, type SystemCronFile } from './model.js'
import { CRON_D_DIR, CRON_JSON, CRONTAB_DIR, SYSTEM_CRONTAB, type CronState, type UserCrontab } from './state.js'

/**
 * The desired cron state from the twin: the mirrored user crontabs are what apply installs; the
 * system files (mirrored by the files provider) are parsed too when the twin has them, so the
 * desired jobs can be shown. A twin with neither cron.json nor a crontab has no cron state.
 */
export async function loadCron(twin: TwinReader): Promise<CronState | undefined> {
  const crontabPrefix = mirrorPath(CRONTAB_DIR) + '/'
  const crontabs: UserCrontab[] = []
  for (const twinPath of await twin.list(crontabPrefix)) {
    const user = twinPath.slice(crontabPrefix.length)
    const content = await twin.readText(twinPath)
    if (user.includes('/') || content === undefined) continue
    crontabs.push({ user, path: machinePathOf(twinPath) as string, content })
  }
  if (crontabs.length === 0 && (await twin.readText(CRON_JSON)) === undefined) return undefined

  const systemFiles: SystemCronFile[] = []
  const main = await twin.readText(mirrorPath(SYSTEM_CRONTAB))
  if (main !== undefined) systemFiles.push({ path: SYSTEM_CRONTAB, content: main })
  const cronDPrefix = mirrorPath(CRON_D_DIR) + '/'
  for (const twinPath of await twin.list(cronDPrefix)) {
    if (!cronReadsCronDFile(twinPath.slice(cronDPrefix.length))) continue
    const content = await twin.readText(twinPath)
    if (content !== undefined) systemFiles.push({ path: machinePathOf(twinPath) as string, content })
  }
  return buildCronState(crontabs, systemFiles, [])
}
