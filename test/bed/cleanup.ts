// Last-resort cleanup for everything the test bed starts (containers, tmux servers, temp trees).
//
// Tests are expected to close what they open in after/afterEach hooks. This registry is the
// safety net for when they cannot: a failed or timed-out test, an uncaught error, Ctrl-C, or
// mocha's `exit: true` calling process.exit() while a hook is still pending. Handlers run
// synchronously (an 'exit' listener cannot await) in reverse order of registration, so a
// container is stopped before the base tree it runs on is deleted.

type Finalizer = () => void;

const finalizers = new Map<number, Finalizer>();
let nextId = 0;
let installed = false;

/** Register a synchronous finalizer; returns a function that unregisters it (call it once the
 *  resource was closed the normal way). */
export function onExit(finalizer: Finalizer): () => void {
  install();
  const id = nextId++;
  finalizers.set(id, finalizer);
  return () => {
    finalizers.delete(id);
  };
}

/** Run every pending finalizer now (newest first). Errors are reported, not thrown: one broken
 *  resource must not keep the others alive. */
export function runFinalizersSync(): void {
  const ids = [...finalizers.keys()].sort((a, b) => b - a);
  for (const id of ids) {
    const finalizer = finalizers.get(id);
    finalizers.delete(id);
    try {
      finalizer?.();
    } catch (error) {
      process.stderr.write(`test bed cleanup failed: ${String(error)}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runFinalizersSync);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      runFinalizersSync();
      process.exit(code);
    });
  }
}
