/**
 * This plugin's own codes, each starting with its provider's name (DNF_), with what it means and
 * the next step (docs/plugin-authoring.md). Where the SDK has a code that says it (NAME_INVALID,
 * TWIN_INVALID, PROVIDER_FAILED), the plugin uses that one instead.
 */
export const DNF_CODES = {
  DNF_VERSION_DIFFERS: 'A note: the twin has another version of an rpm package than the machine; nothing is changed for it (dnf installs the repository\'s version)',
  DNF_MULTIPLE_INSTANCES: 'An rpm package is installed more than once (several versions or architectures): the twin keeps the first; remove the others on the machine (dnf remove --duplicates) if they are left over',
} as const
