/**
 * The apt provider's own codes: those its diagnostics carry beyond the SDK's (ERROR_CODES), each
 * starting with APT_, with what it means and the next step. A plugin declares its codes in one
 * table (docs/plugin-authoring.md); core/test/error-codes-registered.test.ts checks that every code
 * this plugin emits is here or in the SDK's table.
 */
export const APT_CODES = {
  APT_NAME_SECRET: "An installed package's name holds a secret (only a package built locally can be so named): the twin leaves it out, nothing is planned for it; rebuild it under another name or remove it, then snapshot again",
  APT_PACKAGE_UNFINISHED: "A note: a package is not fully installed (half-configured, unpacked…); finish it on the target (dpkg --configure -a, or apt-get -f install)",
  APT_ARCHITECTURE_DIFFERS: "The twin was taken on another architecture than this machine's: packages keep their names, but architecture-specific versions may not exist here; check the plan",
  APT_VERSION_DIFFERS: "A note: the twin has another version of a package than the machine, and nothing is changed for it; set \"pinVersion\": true in its twin entry (or pin it in apt-pins.json) to install exactly the twin's",
  APT_VERSION_FROM_ARCHIVE: "A note: the package is installed from the archive's candidate, not the twin's exact version; pin it to install exactly that version",
  APT_PIN_UNLISTED: "system/packages/apt-pins.json pins a package apt.json does not list: the pin is ignored; add the package to apt.json, or delete the pin",
  APT_PIN_IN_SNAPSHOT: "apt.json holds \"pinVersion\", which the next snapshot rewrites without it: pin the package in system/packages/apt-pins.json instead",
} as const
