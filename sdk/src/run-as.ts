/**
 * Whose homes a collect reads. A run as root reads root's home and every user's from uid 1000
 * (the files provider's `~/` includes, XDG autostart folders). A run as another user reads its
 * own home only: the others are not its to read (Debian makes homes 0700; /root is 0700), so
 * trying them made every such run fail whole with EACCES (session 19), and a twin made by a user
 * is that user's (~/.local/share/twinsync/twin). One rule for every provider.
 *
 * Returns the uid whose homes alone are in scope, or undefined when every user's are (root).
 */
export function ownHomesOnly(): number | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0
  return uid === 0 ? undefined : uid
}
