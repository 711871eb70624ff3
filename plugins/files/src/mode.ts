/** Modes are written as four octal digits ("0440", "4755") so a person reads them as `ls -l` and chmod do. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

export function parseMode(mode: string): number {
  if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`Not an octal mode: ${mode}`)
  return parseInt(mode, 8)
}

/** Setuid, setgid and sticky: a change to these bits deserves a second look in a plan. */
export function specialBits(mode: number): number {
  return mode & 0o7000
}
