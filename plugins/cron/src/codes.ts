/**
 * The cron provider's own codes: those its diagnostics carry beyond the SDK's (ERROR_CODES), each
 * starting with CRON_, with what it means and the next step. A plugin declares its codes in one
 * table (docs/plugin-authoring.md); core/test/error-codes-registered.test.ts checks that every code
 * this plugin emits is here or in the SDK's table.
 */
export const CRON_CODES = {
  CRON_NAME_SECRET: "A cron file (or a user's crontab) has a name that holds a secret: the twin leaves it and its jobs out, nothing is planned for it and cron runs it on; rename it and snapshot again",
  CRON_UNREADABLE_KEPT: "The users' crontabs (/var/spool/cron/crontabs) could not be read: the twin keeps them as the last snapshot recorded them and status is not in sync; run as root, or make them readable, and snapshot again",
  CRON_LINE_INVALID: "A line of a cron file cron would not read as a job (the message says why): it is kept as written; fix the line on the machine or in the twin",
  CRON_SCHEDULE_INVALID: "A user's crontab in the twin has a line cron refuses (a bad schedule): an error in the plan, so apply refuses the plan (PLAN_INVALID), and a step that meets it fails; fix the line in the twin",
  CRON_FILE_SKIPPED: "A file the plan writes into /etc/cron.d has a name cron never reads (only letters, digits, _ and -): its jobs will not run; rename it in the twin",
  CRON_SCRIPT_SKIPPED: "A script the plan writes into /etc/cron.hourly, daily, weekly or monthly has a name run-parts never runs (a \".\" or other characters): rename it in the twin",
  CRON_USER_UNKNOWN: "A job of a cron file names a user the machine's /etc/passwd does not have: cron skips it; add the user, or fix the line in the twin",
} as const
