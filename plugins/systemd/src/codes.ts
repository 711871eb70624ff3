/**
 * The systemd provider's own codes: those its diagnostics carry beyond the SDK's (ERROR_CODES),
 * each starting with SYSTEMD_, with what it means and the next step. A plugin declares its codes
 * in one table (docs/plugin-authoring.md); core/test/error-codes-registered.test.ts checks that
 * every code this plugin emits is here or in the SDK's table.
 */
export const SYSTEMD_CODES = {
  SYSTEMD_NAME_SECRET: "A unit, timer or .wants link has a name that holds a secret: the twin leaves the unit out, nothing is planned for it and it runs on as it is; rename it (then systemctl daemon-reload) and snapshot again",
  SYSTEMD_RUNTIME_UNREADABLE: "The runtime state of units (running, failed) could not be read (the message says why): only their enablement is recorded; check systemctl on the target",
  SYSTEMD_CONFIG_AGE_UNKNOWN: "Could not tell whether running services run their current configuration (the message says why): no restart is planned for that; check systemctl on the target",
  SYSTEMD_RUNTIME_OFFLINE: "A note: starts, stops and restarts need a running system, so only enablement is planned for this target (a root that is not /); apply on the running machine to start or stop services",
  SYSTEMD_RUNTIME_MASK_OFFLINE: "A note: a mask until reboot needs a running system, so nothing is planned for it on this target; apply on the running machine, or mask the unit for good in the twin",
  SYSTEMD_TRANSIENT_NOT_STARTED: "A note: the twin records a unit made at run time (systemd-run) as running; it has no unit file to start it from, so no start is planned; nothing to do",
  SYSTEMD_UNIT_FILE_CONTRADICTION: "The plan deletes a unit's file and also enables or starts it: the twin asks for both, so apply refuses the plan (PLAN_INVALID); fix the twin so it asks for one",
} as const
