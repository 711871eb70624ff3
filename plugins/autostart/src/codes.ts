/**
 * The autostart provider's own codes: those its diagnostics carry beyond the SDK's (ERROR_CODES),
 * with what each means and the next step. They start with AUTOSTART_, but for
 * RC_LOCAL_MODE_ADJUSTED, named before that rule and kept (a code is stable). A plugin declares its
 * codes in one table (docs/plugin-authoring.md); core/test/error-codes-registered.test.ts checks
 * that every code this plugin emits is here or in the SDK's table.
 */
export const AUTOSTART_CODES = {
  AUTOSTART_NAME_SECRET: "An autostart entry has a name that holds a secret: the twin leaves it out and nothing is planned for it; rename it and snapshot again",
  AUTOSTART_NOT_MIRRORED: "An autostart entry is not mirrored (the message says why: a link, too large, not text…): nothing of it is planned; change it on the machine if needed",
  AUTOSTART_UNREADABLE_KEPT: "Autostart entries in other users' homes were not read (TwinSync runs as another user than root): the twin keeps them as the last snapshot recorded them; run as root to record and compare them",
  AUTOSTART_ENABLED_IGNORED: "autostart.json says an entry is enabled (or disabled) but its file says otherwise: the file wins; edit Hidden= (or X-GNOME-Autostart-enabled=) in the twin's copy of the file",
  RC_LOCAL_MODE_ADJUSTED: "rc-local.json's mode and \"executable\" disagree: \"executable\" wins (execute bits follow the read bits); make them agree in the twin",
} as const
