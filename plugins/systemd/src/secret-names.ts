import { warningDiagnostic, type Diagnostic } from '@twinsync/sdk'

/** A unit name that holds a secret: where it was found (the unit file's folder, or the `.wants` folder of a link) and the rule. */
export interface HeldUnitName {
  /** Undefined for a unit only the running manager lists. */
  folder?: string
  rule: string
}

/**
 * A unit (a service, a timer, a `.wants` link) whose name holds a secret is held out of the
 * systemd state, as the files provider holds the path out and autostart the entry: its name
 * would be a key of units.json and a line of systemd.json, which the core's guard could only
 * redact (`<redacted>.service`), and a redacted name is no unit name: `plan` refused the whole
 * systemd part with NAME_INVALID and `status` showed it as drift (session 24). Held out, it is
 * neither recorded nor compared nor planned; the unit runs on as the machine has it. The rule is
 * the SDK's one (secretRulesInNames: all the names as one text, then each name on a finding's
 * line alone). Said each collect by SYSTEMD_NAME_SECRET, naming the folder and the rule, never
 * the name.
 *
 * Cost: the unit files' names are screened when the unit directories change, their verdicts kept
 * with that part in unit-files-cache.ts (whose key carries the secret rules' version); the running
 * manager's units only for names the unit files did not answer (instances such as
 * getty@tty1.service), each collect. 246 unit names: 0.7–9 ms of CPU (sdk/src/secrets.ts).
 */
export function heldUnitDiagnostic(held: HeldUnitName, provider = 'systemd'): Diagnostic {
  const where = held.folder === undefined ? 'A unit the running manager lists has a name that' : `A unit name in ${held.folder}`
  return warningDiagnostic('SYSTEMD_NAME_SECRET', `${where} holds a secret (${held.rule}); the twin leaves the unit out`, {
    ...(held.folder === undefined ? {} : { path: held.folder }),
    provider,
    detail: `A name reaches the twin's documents, its file names and the diary line, which no redaction makes a unit name again. Nothing is planned for it, and it is no drift; it runs on as it is. Rename it (${held.folder === undefined ? '`systemctl list-units --all` shows it' : `\`ls -la ${held.folder}\` shows it`}; then \`systemctl daemon-reload\`), then snapshot again.`,
  })
}
