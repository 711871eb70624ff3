/**
 * The files provider's own codes: those its diagnostics and errors carry beyond the SDK's
 * (ERROR_CODES), each starting with FILES_, with what it means and the next step. A plugin declares
 * its codes in one table (docs/plugin-authoring.md); core/test/error-codes-registered.test.ts
 * checks that every code this plugin emits is here or in the SDK's table.
 */
export const FILES_CODES = {
  FILES_MANIFEST_INVALID: "The twin's files manifest (system/files/manifest.json or one of its parts) is not what the files provider reads (not JSON, a wrong key or type, more entries than it takes): nothing of it is planned and apply refuses the plan (PLAN_INVALID); fix it in the twin, or discard the files edits",
  FILES_MANIFEST_PART_UNKNOWN: "A part of the files manifest the provider does not know (a name it never writes, or not a regular file): nothing of it is planned and apply refuses the plan; remove or rename it in the twin",
  FILES_MANIFEST_PART_MISPLACED: "A part of the files manifest lists a path that belongs in another part: nothing of it is planned and apply refuses the plan; move the entry to the part the message names",
  FILES_MANIFEST_DUPLICATE: "The files manifest lists one path twice, asking different things of it: nothing of it is planned and apply refuses the plan; keep the entry you mean and delete the other, or discard the files edits",
  FILES_MANIFEST_DUPLICATE_MERGED: "A note: the files manifest lists one path twice, both asking the same; read as one, and the next snapshot writes it once; nothing to do",
  FILES_PACKAGES_UNREADABLE: "dpkg's database (/var/lib/dpkg) could not be read, so no file's origin can be told: the files provider collected nothing and its part of the twin stays as it was; check it (dpkg --audit) and snapshot again",
  FILES_UNREADABLE_KEPT: "A path under the include set could not be read (EACCES, EIO, ELOOP…, or only root may read it): the twin keeps its last snapshot of it, status is not in sync and nothing under it is planned; make it readable (or run as root) and snapshot again, or ignore it",
  FILES_UNREADABLE_NOT_KEPT: "A path could not be read and the last snapshot's files manifest, which would keep it, is not valid: the files were not collected; make the path readable or fix the manifest, then snapshot again",
  FILES_UNREADABLE_NOT_PLANNED: "A change at a path that could not be read on the machine is left out of the plan (what is there is unknown): make it readable and plan again",
  FILES_NAME_NOT_UTF8: "A name under the include set is not UTF-8: the twin cannot hold it and leaves it out; rename it (ls -b shows its bytes) or ignore it, then snapshot again",
  FILES_NAME_GIT_REFUSES: "A name under the include set is one git refuses in a tree (.git in another spelling): left out with everything below it; rename it or ignore it",
  FILES_GIT_REFUSES_CONTENT: "A .gitmodules or .gitattributes under the include set whose content git's fsck refuses: left out, since a mirror that checks what it is sent would refuse every push holding it; correct or remove it, or ignore it (forget takes it out of a snapshot that holds it)",
  FILES_PATH_TOO_LONG: "A path under the include set is longer than the twin can hold: left out with everything below it; move it up or ignore the folder",
  FILES_NAME_SECRET: "A name under the include set (or a symlink's target) holds a secret: left out with everything below it (a name is never redacted); rename it or ignore its folder, then snapshot again",
  FILES_NAME_SECRET_NOT_PLANNED: "A change acts at a name that holds a secret, which no snapshot takes into the twin: left out; rename it on the machine, or discard the twin's files edits",
  FILES_TOKEN_FILE: "A file is held out of the twin as a secret by its shape (a bare token, or a whole file that is one token or password), a guess rather than a finding: its content is not mirrored; if it holds no secret, add it to files.secrets.allow",
  FILES_USER_UNKNOWN: "A user named by the files provider's configuration is not in the target's /etc/passwd: their files are not mirrored; fix the name in the configuration",
  FILES_XATTR_TOOLS_MISSING: "A note: getfattr or getcap is not installed, so extended attributes, POSIX ACLs or capabilities are not recorded; install attr (and libcap2-bin) to record them",
  FILES_REMOVED_IN_TWIN: "A note: a file was removed from the twin, so a plan deletes it from the machine; put it back in the twin to keep it",
  FILES_LEFT_ALONE: "A note: a path the plan leaves as it is (not known to differ, or already said by SECRET_CHANGED); nothing to do",
  FILES_TWIN_NAME_UNREADABLE: "A twin file cannot be read by its name (not UTF-8, or not a regular file): it is not applied; rename it in the twin to the machine path it stands for, or remove it",
  FILES_OUTSIDE_SCOPE: "A change of a path outside the files provider's scope (not in files.include, or ignored) is left out: a plan never makes one; widen the scope in the configuration if you mean it",
  FILES_TOO_LARGE_NOT_PLANNED: "A change of a file larger than the twin holds the content of is left out: change it on the machine by hand",
  FILES_NOT_MIRRORED_NOT_PLANNED: "A change of a file whose content is not mirrored (a secret, binary or left out) is left out: change it on the machine by hand",
  FILES_NOT_TEXT_NOT_PLANNED: "A change that would write content the twin holds only as a marker (binary, not text) is left out: change it on the machine by hand",
  FILES_TWIN_SYMLINK_NOT_PLANNED: "A change from a symlink in the twin's filesystem/ (git keeps links, a pull may bring them) is left out: describe links in the files manifest instead",
  FILES_NOT_VALIDATED: "A file was written without its content being validated (the validator could not run; the message says why): check the file by hand",
  FILES_DELETE_KEPT: "A folder was not deleted: it holds entries the plan did not name or that changed since, which are kept; look at them and delete by hand, or plan again",
} as const
