/**
 * Errors a person can act on. A `TwinSyncError` carries a stable code, a message and the next
 * step to try; the CLI prints it without a stack trace and exits with `exitCode` (2: refused).
 * Anything else that escapes is our bug and is reported as such.
 */
export const ERROR_CODES = {
  USAGE: 'The command line is not valid',
  PATH_INVALID: 'A path is not absolute, contains "..", a NUL byte or is otherwise malformed',
  PATH_OUTSIDE_ROOT: 'A path (or a symlink on the way to it) leads outside the target root',
  PATH_THROUGH_SYMLINK: 'A change would act below a symlinked folder of the machine (other than /bin, /lib… of merged /usr, /var/run, /var/lock); nothing is written through one',
  READ_REFUSED: 'A file to read is not a regular file at that very path: it is (or became) a symbolic link, a FIFO or a device, or a folder on the way is (or became) a symbolic link; TwinSync reads nothing through a link, and nothing of it was read',
  ROOT_NOT_FOUND: 'The target root directory does not exist or is not a directory',
  REPO_NOT_DIRECTORY: 'The twin repository path exists and is not a directory',
  REPO_NOT_INITIALIZED: 'There is no twin repository at the given path yet',
  REPO_NOT_TWIN: 'The directory exists but is not a TwinSync twin',
  REPO_INVALID: 'The twin repository is damaged or has an unknown format',
  REPO_PLACE_INVALID: 'The twin repository location cannot hold a twin: not absolute, a symlink, or inside (or around) a mirrored path',
  TWIN_NOT_OWNED: 'Root was asked to work in a twin another user owns, without that user asking through sudo (SUDO_UID); nothing was read or changed',
  TWIN_LEFT_BY_ROOT: "Files of a user's twin are root's, left by a `sudo twinsync` run that did not hand the twin back (it was killed); the user's run cannot write them",
  CONFIG_INVALID: 'The configuration file does not match the schema',
  CONFIG_UNREADABLE: 'The configuration file cannot be read or is not valid YAML',
  PROVIDER_UNKNOWN: 'A provider name does not match any loaded provider',
  PROVIDER_FAILED: 'A provider failed while collecting or applying',
  PROVIDER_NOT_DETECTED: 'A provider is not present on the target (its detect() says so): it has nothing of the machine to collect, adopt or apply there (the providers command lists which are)',
  CLAIM_CONFLICT: 'Two providers claim the same machine path',
  PLUGIN_SDK_MISMATCH: 'A plugin declares an @twinsync/sdk range that this TwinSync\'s SDK does not satisfy; it is not loaded',
  PLUGIN_SDK_LINK: 'A plugin cannot be given TwinSync\'s own @twinsync/sdk (its folder is not writable); it is not loaded',
  PLUGIN_SOURCE_MISSING: 'The tarball or directory given to `plugins install` does not exist',
  PLUGIN_SDK_PACK_FAILED: "npm could not pack TwinSync's SDK for a new plugin (`plugins new`); nothing was written",
  PROVIDER_MISSING: 'The twin has documents of a provider that is not installed or failed to load',
  COMMAND_NOT_FOUND: 'A program TwinSync needs is not installed on the target or the host',
  COMMAND_FAILED: 'A program TwinSync ran exited with an error',
  GIT_MISSING: 'git is not installed',
  GIT_FAILED: 'A git operation on the twin repository failed (git says why)',
  HOST_READ_ONLY: 'Code that may only read (planning) tried to change the target; nothing was changed',
  REPO_DAMAGED: 'The twin repository is damaged (a missing or corrupt git object, a broken index)',
  LOCK_HELD: 'Another TwinSync run holds the twin lock',
  DISK_FULL: 'The disk under the twin or the target is full; the message says what was done before it filled',
  APPLY_INTERRUPTED: 'An apply was interrupted; finish it (`twinsync apply`) or go back (`twinsync revert`) first',
  NAME_INVALID: 'A name (package, unit, user) contains characters that are not allowed',
  ABORTED: 'The run was cancelled',
  REMOTE_NOT_CONFIGURED: 'No mirror (GitHub or git remote) is linked to the twin',
  REMOTE_INVALID: 'A remote URL or repository name is not valid (or carries credentials)',
  REMOTE_AUTH: 'The mirror refused the token (missing, wrong, or without access)',
  REMOTE_UNREACHABLE: 'The mirror could not be reached (network down, server stopped, wrong host)',
  REMOTE_REJECTED: 'The mirror rejected the push (its history moved on, or its own rules: a hook, a protected branch)',
  REMOTE_FSCK_REFUSED: "The mirror checks what it is sent (receive.fsckObjects; GitHub does) and refused an object of the twin's history: every push holds it until `forget` takes it out",
  REMOTE_INSECURE: 'The token would be sent over plain http:// to a host that is not this machine',
  REMOTE_PUBLIC: 'The GitHub repository is public; TwinSync only mirrors to private repositories',
  REMOTE_DIVERGED: 'The twin and its mirror both have snapshots the other lacks',
  REMOTE_FAILED: 'A git operation with the mirror failed',
  TWIN_REF_LOCKED: 'A ref lock in the twin (`.git/<ref>.lock`) may be a git command at work; TwinSync removes only the ones it can prove stale (its own killed run\'s, or held by no git process)',
  TWIN_MOVE_FAILED: 'A move of the working twin could not write a file (an immutable or read-only folder, a full disk, an I/O error): a snapshot\'s is undone and the twin is the snapshot before it; a pull\'s that could not be put back stays recorded, read by nothing, until the next run can put it back',
  TWIN_SYMLINK: 'A path inside the twin is (or passes through) a symlink; TwinSync never follows one',
  TWIN_STATE_LINK: "A place TwinSync keeps its own state in inside the twin's .git (.git itself, .git/twinsync and what is in it, refs/twinsync and its reflogs, .git/info and its attributes file) is a symlink or the wrong kind of file: TwinSync writes and reads nothing through it; nothing was read or written",
  TWIN_NOT_REGULAR: 'A twin path holds a FIFO, a socket or a device node (put there by hand: git cannot carry one): neither read (nor opened) as a document nor taken for a deleted one; remove it (`rm`) and run the command again',
  TWIN_FILE_TOO_LARGE: 'A file inside the twin is larger than a twin document may be',
  TWIN_UNSAFE: 'A twin arriving from the mirror holds entries TwinSync refuses (symlinks outside filesystem/, submodules, odd names)',
  TWIN_INVALID: "A document or record in the twin is not what TwinSync or its provider takes (an unknown key, a value of the wrong type, more entries than it takes, text that is not UTF-8, a record of the run-once commands that is not the shape TwinSync writes): nothing is planned from it, and apply refuses the plan",
  TWIN_OTHER_MACHINE: 'The twin (or the mirror a pull brings) was made of another machine than the target, and the target has not claimed it',
  MACHINE_ID_UNKNOWN: 'The target has no machine id that says which machine it is',
  TWIN_DIRTY: 'The twin has uncommitted edits that an operation would overwrite',
  SECRET_IN_PUSH: 'What is about to be pushed contains a secret',
  FORGET_INVALID: '`twinsync forget` was given neither a path nor a --rule, or a path that is the twin\'s own record (twin.json, the record of the run-once commands)',
  FORGET_NOTHING: 'No snapshot holds the paths or findings `twinsync forget` was asked to remove',
  FORGET_UNFINISHED: 'A forget did not finish (it was interrupted, or the twin\'s files could not be brought to the rewritten history): the twin may still hold what it forgot, and nothing else uses the twin until `forget` is run again',
  TOKEN_MISSING: 'No token was found for the mirror',
  LABEL_EXISTS: 'A snapshot label of that name already exists',
  SNAPSHOT_UNKNOWN: 'No snapshot (commit) of that name in the twin',
  SNAPSHOT_AMBIGUOUS: 'A name of a snapshot is both a label (or another ref) and the start of another snapshot\'s id: named by the whole id or the label\'s full ref instead',
  ITEM_UNKNOWN: 'No drift or pending item of that change id or domain (`twinsync status` lists them)',
  ITEM_INSEPARABLE: 'An item shares its twin file with others in a way that cannot be taken apart; decide for the whole domain',
  CONFIG_CANNOT_PUT_BACK: 'A change its service\'s checker judges before it is live would replace or delete more than can be kept to put back if the check fails (a file over 16 MiB, a folder holding more than 16 MiB or 10,000 entries): the plan leaves it out and applies the rest, and an apply that finds it grew so since does not write it',
  CONTENT_INVALID: 'A file the plan would write has content its domain does not accept (a bad cron schedule)',
  PLAN_INVALID: 'A plan file or a plans/*.yaml instruction is malformed',
  PLAN_CYCLE: 'The changes of a plan depend on each other in a circle',
  PLAN_NOT_WRITTEN: '`plan --out FILE` could not write the plan there (its folder is missing, it is a folder, the disk is full, no rights); nothing was written',
  PLAN_TAMPERED: 'A saved plan file was changed after it was written (its seal does not match)',
  PLAN_STALE: 'The machine changed since the plan was made',
  PLAN_OUTSIDE_SCOPE: 'A plan holds a change outside what its provider manages (a files path not in files.include, or ignored): a forged or outdated plan',
  CONFIRMATION_REQUIRED: 'Applying needs a yes: answer the prompt, or pass --yes',
  HIGH_RISK_NOT_ACCEPTED: 'The plan holds changes that run code as root or open a login, and they were not accepted by name: type "yes" at the prompt, or pass --yes --accept-high-risk',
  REHEARSAL_UNAVAILABLE: 'A rehearsal cannot run here (not root, no systemd-nspawn, no overlay file system, a target without systemd)',
  REHEARSAL_BOOT_FAILED: 'The rehearsal container did not boot',
  REHEARSAL_FAILED: 'The rehearsal of the plan failed, so it was not applied to the machine',
  XATTR_REFUSED: 'The twin asks for an extended attribute TwinSync does not set (trusted.*, a security label, an unknown namespace) or gives a malformed value or capability',
  TWIN_SPARSE: 'The working twin is a sparse checkout: files git leaves out are missing, and TwinSync would read them as deleted',
  SCRIPT_INVALID: 'A plan names a script outside the twin\'s scripts/ folder, or one that does not exist',
  SCHEDULE_UNSAFE: 'The schedule would run as root a node or twinsync that a user other than root can change (its file or a folder on its way)',
  INTERNAL: 'TwinSync hit a bug (exit 1, never a refusal): run the command again with TWINSYNC_DEBUG=1 and report what it prints',
  // Codes of the diagnostics (errors, warnings, notes) in a plan, a status, a snapshot, an apply's
  // results and its messages: not thrown, said beside what the command did. A provider's own codes
  // start with its name (FILES_…, APT_…) and are its plugin's (docs/plugin-authoring.md).
  CHANGE_INVALID: 'A change handed to a provider is not one it makes (a forged or hand-edited plan): it is left out or fails, nothing of it is done; make a new plan',
  USER_UNKNOWN: 'The target has no user (or group) a change names as owner (it is not in the target\'s /etc/passwd or /etc/group): the change fails and stays pending; add the user on the machine, or fix the owner in the twin, and apply again',
  APPLY_FAILED: 'A provider failed a change for a reason that carries no code of its own (its message says why): the change stays pending; fix what the message names and apply again',
  NEED_UNUSABLE: 'A path a change needed was changed earlier in the same apply and cannot be used (apt could not read the repository of a new sources file): that earlier change is put back and both stay pending; fix the file in the twin and apply again',
  NO_LONGER_TRACKED: "A note of history, show and diff: a resource is in the older snapshot and not the newer because it is no longer tracked (now ignored), not because it left the machine; nothing to do",
  SECRET_CHANGED: "A note of history, show, diff and status: a secret's content changed (its keyed hash differs); the twin never holds the content, so nothing can be planned for it; change it on the machine if it should be otherwise",
  UNHELD_CREATE: "A resource differs where the twin holds none of its content (binary, too large, a secret): a plan would have to create it and cannot; status lists it as drift and a plan names it \"not put back\"; adopt it or change the machine by hand",
  UNHELD_REPLACE: "A resource differs where the twin holds none of its content (binary, too large, a secret): a plan would have to replace it and cannot; status lists it as drift and a plan names it \"not put back\"; adopt it or change the machine by hand",
  UNHELD_DELETE: "A resource differs where the twin holds none of its content (binary, too large, a secret): a plan would have to delete it and cannot; status lists it as drift and a plan names it \"not put back\"; adopt it or change the machine by hand",
  PENDING_INTENT: "A plan's note: a change the twin asks for is still pending, with why (it failed or was left out of the last apply); its next step is the plan's",
  NEEDS_ROOT: "A plan's note: a change a run that is not root's cannot apply (a package, a service, a path the user may not write): apply as root (sudo, with the same --root, --repo and --config)",
  TWIN_EMPTY: "The twin holds nothing of this machine, so nothing was compared (status is not in sync): take a snapshot first",
  TWIN_HAS_NO_STATE: "A plan's note: the twin has no document of a provider, so nothing is planned for it; a snapshot records it",
  TWIN_EDIT_KEPT: "An edit saved in the twin while a snapshot moved it (or before a stopped snapshot was finished) is kept, pending against the new snapshot: review it with the plan; nothing was lost",
  TWINSYNC_OWN_FILE: "A planned change of TwinSync's own configuration or state (it would choose what TwinSync mirrors, pushes or runs) is left out: a twin never sets it; change it on the machine by hand if you mean it, or discard the twin's edit",
  SECRET_REDACTED: 'A provider wrote a secret into a twin document; it was redacted before the commit (the message names where and by which rule): mark the file secret (files.secrets.paths) to keep its content out entirely',
  SECRET_IN_NAME: 'A provider wrote a document whose name holds a secret; it is left out of the twin (a name is never redacted): rename it on the machine, or ignore it',
  SECRET_REDACTED_NOT_PLANNED: 'A change would write a redacted secret (the twin holds only its marker) back to the machine: it is not planned; change that value on the machine itself, or discard the twin\'s edit',
  SECRET_IN_NAME_NOT_PLANNED: 'A change acts on a name that holds a secret, which no snapshot takes into the twin: it is left out; rename it on the machine, or discard the twin\'s edits of that domain',
  SECRET_IN_MIRROR: "The mirror already holds secrets today's secret rules find (pushed before the rules knew them, or brought by a pull): remove them from the twin's history with forget and push again",
  FORGOTTEN_NOT_DELETED: "The delete of a path a forget took out of the twin's history is left out (a forget is not a delete of the machine's file): take a snapshot so the twin says what the machine has; ignore the path first to keep it out",
  COMMAND_RAN_BEFORE: "A run-once command of plans/ is planned again though the twin's record says it ran before (that record was changed or reset): to keep it from running, put the record's entry back as the warning says",
  COMMAND_RAN_UNCHECKED: "A run-once command holding a secret is taken as run because the twin's committed record says so, and this machine keeps no record of its own of the text that ran (a twin restored from its mirror, or that record unreadable): a change of its secret alone would not run it again; to run it, edit the action (a new description will do) or take its entry out of system/journal/commands.json",
  LOCAL_RUNS_KEPT_ASIDE: "This machine's record of what ran here (.git/twinsync/ran-here.json) could not be read and was kept aside beside it (its name is in the message), and a new one written: nothing to do unless you want to look at the old file",
  DESCRIPTION_EDIT_NOT_APPLIED: "An edit of a document that only describes the machine (no provider applies that value): it is never applied and stays pending; make the change on the machine as the next step says, or discard the edit",
  PROVIDER_DISABLED_EDIT_NOT_APPLIED: 'An edit of a disabled provider\'s part of the twin: never applied while the provider is disabled in the configuration; enable it again, or discard the edit',
  UNREAD_FILE_NOT_APPLIED: 'An edit of a twin file its provider does not read (it does not apply from that file): never applied, it stays pending; make the edit in the file the provider reads, or discard it',
  INTENT_NOT_KEPT: "What an apply asks at a place of the twin that could not be recorded as pending (the message says why): if the change does not happen, the twin will not ask for it again; make the change in the twin again after the apply",
  CONFIG_COMPILED: "A plan's note: a service reads this file compiled (a postmap database); apply builds it after writing the file, before the service's checker runs",
  CONFIG_NOT_CHECKED: "A configuration went live without its service's checker's verdict: the checker is not installed in the target, or it already fails on the live configuration and says nothing new about the change; check the service by hand",
  CONFIG_CHECK_UNSANDBOXED: "A service's checker ran without TwinSync's sandbox (the reason is said): what the configuration makes it load or run ran as root, with the network; run TwinSync as root on a kernel with overlayfs and util-linux installed",
  CONFIG_CHECK_TIMEOUT: "A service's checker gave no answer on the new configuration in time: the configuration was not made live (its files are put back) and the change stays pending; see why the checker hangs and apply again",
  CONFIG_CHECK_OFFLINE: "A service's checker could not resolve a name the new configuration uses (checkers run in TwinSync's sandbox, which has no network): the configuration was not made live and the change stays pending; use addresses the checker can reach offline (an IP, /etc/hosts) or check the service by hand",
  CONFIG_RESTORED: "Configuration an interrupted apply wrote, or one its checker rejected in an earlier apply that did not put all of it back, went back to the previous files (its checker rejects it now or cannot run, or a reload failed): the changes stay pending in the twin; fix them there and apply again",
  CONFIG_RESTORE_SKIPPED: "A configuration an interrupted apply wrote was rejected, and some of its files were left as they are (another hand changed them since): each such file is the machine's from now on; the next plan shows what the twin asks for",
  CONFIG_CHECK_FAILED: "A service's checker passed on files changed by hand, then rejected the configuration once the put-back an earlier apply left half done was finished, or another service's files it reads were put back: nothing is undone and nothing reloaded the service; fix what the checker names by hand until it passes, or fix the twin and apply",
  CONFIG_CHECK_FINISHED: "An apply killed before its configuration check ended: the check now passes on the live configuration, so the files stay; nothing to do",
  CONFIG_RELOAD_FINISHED: "An apply killed before its reloads ended: the check and the reloads ran again with the files live and the units are back as before, so the files stay; nothing to do",
  CONFIG_UNJUDGED: "Configuration an earlier apply left unjudged by its checker, or not put back: the next apply checks it (and puts it back if rejected) before anything else; apply",
  REHEARSAL_UNIT_FAILED: 'A unit failed in the rehearsal that had not failed before the plan ran (its journal is shown): the plan was not applied; fix what the journal says and rehearse again',
  MIRROR_HEAD_UNBORN: "After a first push, the mirror's HEAD names a branch it does not have, so a clone of it checks out nothing: make the twin's branch the mirror's default branch where it lives",
  MIRROR_AUDIT_NOT_KEPT: "A push's look at what the mirror holds could not be kept in the twin (a full or read-only disk): the push's outcome stands and the next push looks again; free space or make the folder writable",
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface TwinSyncErrorOptions {
  /** The next command or action that would help, written for a person. */
  nextStep?: string
  /** Extra machine-readable facts (paths, names) that go into `--json` output. */
  details?: Record<string, unknown>
  cause?: unknown
  exitCode?: number
}

export class TwinSyncError extends Error {
  readonly code: ErrorCode | (string & {})
  readonly nextStep: string | undefined
  readonly details: Record<string, unknown> | undefined
  readonly exitCode: number

  constructor(code: ErrorCode | (string & {}), message: string, options: TwinSyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TwinSyncError'
    this.code = code
    this.nextStep = options.nextStep
    this.details = options.details
    this.exitCode = options.exitCode ?? 2
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.nextStep === undefined ? {} : { nextStep: this.nextStep }),
      ...(this.details === undefined ? {} : { details: this.details }),
    }
  }
}

export function isTwinSyncError(error: unknown): error is TwinSyncError {
  return error instanceof TwinSyncError || (error instanceof Error && error.name === 'TwinSyncError' && 'code' in error)
}

// The spelling of unseen characters rides on this entry, the one every command loads (`@twinsync/sdk/errors`): the core's terminal rule (core/src/terminal-text.ts) spells with it from the start, the SDK's differ (text-diff.ts) too.
export { spellCharacter, spelledLine } from './spelled-text.js'
