// Test roots with a real rpm database and local dnf repositories of rpmbuild-made packages.
// Needs rpm (rpmbuild), dnf and createrepo_c on the machine (Debian: rpm dnf createrepo-c).
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestPackage {
  name: string
  version: string
  requires?: string
}

/** A tiny noarch rpm made with rpmbuild: one file, /usr/share/NAME/README. */
export async function buildRpm(top: string, pkg: TestPackage): Promise<string> {
  await mkdir(join(top, 'SPECS'), { recursive: true })
  const spec = join(top, 'SPECS', `${pkg.name}.spec`)
  await writeFile(
    spec,
    [
      `Name: ${pkg.name}`,
      `Version: ${pkg.version}`,
      'Release: 1',
      'Summary: TwinSync test package',
      'License: MIT',
      'BuildArch: noarch',
      ...(pkg.requires === undefined ? [] : [`Requires: ${pkg.requires}`]),
      '%description',
      'TwinSync test package.',
      '%install',
      `mkdir -p %{buildroot}/usr/share/${pkg.name}`,
      `echo ${pkg.name} > %{buildroot}/usr/share/${pkg.name}/README`,
      '%files',
      `/usr/share/${pkg.name}/README`,
      '',
    ].join('\n'),
  )
  await run('rpmbuild', ['--quiet', '--define', `_topdir ${top}`, '-bb', spec])
  return join(top, 'RPMS', 'noarch', `${pkg.name}-${pkg.version}-1.noarch.rpm`)
}

/** A local repository (createrepo_c) holding the given packages. */
export async function makeRepo(dir: string, top: string, pkgs: readonly TestPackage[]): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const p of pkgs) await run('cp', [await buildRpm(top, p), dir])
  await run('createrepo_c', ['--quiet', dir])
}

export const repoFile = (id: string, dir: string): string => `[${id}]\nname=${id}\nbaseurl=file://${dir}\ngpgcheck=0\nenabled=1\n`

/** An empty rpm database under `root`, and a .repo file for `repoDir`. */
export async function initRpmRoot(root: string, repoDir: string): Promise<void> {
  await run('rpm', ['--root', root, '--initdb'])
  await mkdir(join(root, 'etc/yum.repos.d'), { recursive: true })
  await writeFile(join(root, 'etc/yum.repos.d/local.repo'), repoFile('local', repoDir))
}

export async function dnfInstall(root: string, ...names: string[]): Promise<void> {
  await run('dnf', ['-y', '-q', `--installroot=${root}`, 'install', ...names], { maxBuffer: 16 << 20 })
}
