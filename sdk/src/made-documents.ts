import type { TwinDocument } from './twin-document.js'

/**
 * Speed (issue 22, session 8): the twin documents a provider's collect made last in this process,
 * so that its `load` can tell a twin document that is, character for character, one of them.
 * `plan` and `status` load the twin right after collecting the machine; on an unchanged machine
 * each document is the text collect just made. Such a text needs no check against the
 * document's schema (a provider's test checks that what its collect makes passes it): compiling
 * typebox's validator is most of a small document's load (apt's 26 KB `apt.json` on the services
 * root: compiling 2.2 ms, checking 0.3 ms, parsing 0.2 ms; systemd's three documents 1.3 + 0.5
 * ms; fresh process).
 *
 * The twin's own text is compared, never a record of it: any other text (a person's edit, a
 * pull, another machine's) is checked as before. Held through a WeakRef to the collect's list of
 * documents: nothing is kept once the caller drops what collect returned (a snapshot's large
 * documents are not kept to its end), and a document made as bytes is never taken as made.
 */
export class MadeDocuments {
  private last: WeakRef<readonly TwinDocument[]> | undefined

  /** The documents a collect returns (the same array), remembered until it is dropped. */
  remember<T extends readonly TwinDocument[]>(documents: T): T {
    this.last = new WeakRef(documents)
    return documents
  }

  /** The paths the last collect, still held by its caller, made documents at (session 39: the autostart cap leaves the machine's own out of its count); empty when none is held. */
  paths(): Set<string> {
    return new Set(this.last?.deref()?.map((d) => d.path) ?? [])
  }

  /** Whether `text` is exactly what the last collect, still held by its caller, made at `path`. */
  made(path: string, text: string): boolean {
    const documents = this.last?.deref()
    if (documents === undefined) return false
    for (const document of documents) if (document.path === path) return typeof document.content === 'string' && document.content === text
    return false
  }
}
