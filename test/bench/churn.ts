// What changes on a machine between two hourly snapshots, on an offline root: a setting in a
// config file, one of a few rotating drop-in files, and new lines in the syslog. (The process
// list cannot change on an offline root: the repository-growth section runs in a booted
// container for that.)
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Change the root the way an hour of ordinary life would (i counts the hours). */
export async function churnOffline(root: string, i: number): Promise<void> {
  await writeFile(join(root, 'etc/twinsync-bench.conf'), `setting = ${i}\n`)
  await mkdir(join(root, 'etc/twinsync-bench.d'), { recursive: true })
  await writeFile(join(root, `etc/twinsync-bench.d/rotating-${i % 5}.conf`), `# written in hour ${i}\nvalue = ${i * 7919 % 1000}\n`)
  await appendFile(join(root, 'var/log/syslog'), syslogLines(i, 20))
}

/** n plausible syslog lines for hour i. */
export function syslogLines(i: number, n: number): string {
  const lines: string[] = []
  for (let k = 0; k < n; k++) {
    const t = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000 + k * 170_000).toISOString()
    lines.push(`${t} server CRON[${1000 + ((i * n + k) % 30000)}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)`)
  }
  return lines.join('\n') + '\n'
}
