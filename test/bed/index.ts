// The test bed: real tools for cross-package and end-to-end tests. See docs/testing.md.
export { onExit, runFinalizersSync } from './cleanup.js';
export { bootContainer, Container, NODE_IN_CONTAINER, REPO_IN_CONTAINER, TWINSYNC_IN_CONTAINER } from './container.js';
export type { BootOptions, ContainerRunOptions, WriteOptions } from './container.js';
export { CommandError, expectSuccess, run, runOk } from './exec.js';
export type { RunOptions, RunResult } from './exec.js';
export { GitRemote, startGitRemote } from './git-remote.js';
export type { GitRemoteOptions, GitRequest } from './git-remote.js';
export { repoRoot } from './repo.js';
export { findTool, requireRoot, requireTools } from './require.js';
export { chroot, chrootOk, extractRootfs, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, rootfsTarball, sharedRootfs } from './rootfs.js';
export type { ChrootOptions, FreshRootfsOptions, Rootfs, RootfsImage } from './rootfs.js';
export { makeTempDir, removeTree } from './tmp.js';
export { KEY_SPACING_MS, startTmux, TmuxSession } from './tmux.js';
export type { TmuxOptions } from './tmux.js';
