import { fileURLToPath } from 'node:url';

/** Absolute path of the repository's work tree (this file lives in test/bed/). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
