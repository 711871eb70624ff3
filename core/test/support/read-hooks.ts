/**
 * Hooks run while a plan's providers read the twin (a provider's load paused at them, no sleeps
 * racing): `run` does nothing until `armed` (the rig's own snapshot is made first), nor inside a
 * hook (what a hook does, setting the edits aside and putting them back, loads the providers too).
 */
export class ReadHooks {
  armed = false
  inHook = false

  async run(hook: (() => Promise<void>) | undefined): Promise<void> {
    if (!this.armed || this.inHook || hook === undefined) return
    this.inHook = true
    try {
      await hook()
    } finally {
      this.inHook = false
    }
  }
}
