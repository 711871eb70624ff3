import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { removeFile } from './remove-file.js'

/**
 * Speed (issue 22): a new twin's repository made as `git init --initial-branch=main` makes it
 * on Linux, without running git: HEAD naming the unborn `main`, the config with the values
 * git probes for (file modes kept, symbolic links possible, names case-sensitive: checked
 * here the way git checks them), and the object and ref folders. A process fewer in
 * `twinsync init` and every first snapshot (5–10 ms of Node's CPU to spawn, 10–25 ms of wall
 * on the shared machine), and no sample hooks, description or exclude file copied from git's
 * template: none of them does anything, and TwinSync commits without hooks.
 *
 * Where git's result would differ, git makes it (false is returned, nothing written): the
 * environment moves or shapes the repository (GIT_DIR, GIT_TEMPLATE_DIR, GIT_DEFAULT_HASH,
 * `-c` settings), a config file git reads at init names a template, a shared repository or an
 * include, the file system does not keep modes, symbolic links or case, or `.git` is there.
 */
export function initInNode(dir: string): boolean {
  if (GIT_ENV.some((name) => process.env[name] !== undefined) || configShapesInit()) return false
  const git = join(dir, '.git')
  try {
    mkdirSync(git)
  } catch {
    return false // there already (git re-initialises it), or no place for it: git says why
  }
  try {
    const config = join(git, 'config')
    writeFileSync(config, CONFIG)
    if (!normalFileSystem(git, config)) {
      rmSync(git, { recursive: true, force: true })
      return false
    }
    for (const folder of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(git, folder), { recursive: true })
    // HEAD last: until it is there, git does not take the folder for a repository.
    writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/main\n')
    return true
  } catch (error) {
    rmSync(git, { recursive: true, force: true })
    throw error
  }
}

/** What `git init` writes into a new repository's config on Linux, as it writes it. */
const CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n'

/** Environment variables that change where or how `git init` makes the repository. */
const GIT_ENV = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_TEMPLATE_DIR',
  'GIT_DEFAULT_HASH',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG',
]

/**
 * Whether a config file `git init` reads could change what it makes: one naming a template
 * folder, a shared repository, an include (which could name either), or the default hash.
 * Asked of the system, global and XDG files as git finds them; a file that cannot be read
 * counts as none, as for git.
 */
function configShapesInit(): boolean {
  const home = process.env.HOME ?? homedir()
  const files = [
    process.env.GIT_CONFIG_GLOBAL ?? join(home, '.gitconfig'),
    join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), 'git', 'config'),
    ...(process.env.GIT_CONFIG_NOSYSTEM === undefined || /^(?:0|false|no|off|)$/i.test(process.env.GIT_CONFIG_NOSYSTEM) ? [process.env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig'] : []),
  ]
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'latin1')
    } catch {
      continue
    }
    if (/templatedir|sharedrepository|include|objectformat/i.test(text)) return true
  }
  return false
}

/**
 * git init's probes (setup.c, create_default_files): a file's executable bit can be flipped
 * and read back (else `core.filemode = false`), a symbolic link can be made (else
 * `core.symlinks = false`), and another case of a name is another file (else
 * `core.ignorecase = true`).
 */
function normalFileSystem(git: string, config: string): boolean {
  const before = lstatSync(config)
  chmodSync(config, before.mode ^ 0o100)
  const flipped = lstatSync(config)
  chmodSync(config, before.mode)
  if (flipped.mode === before.mode) return false
  const link = join(git, `tXXXXXX`)
  try {
    symlinkSync('testing', link)
    if (!lstatSync(link).isSymbolicLink()) return false
  } catch {
    return false
  } finally {
    removeFile(link)
  }
  return lstatSync(join(git, 'CoNfIg'), { throwIfNoEntry: false }) === undefined
}
