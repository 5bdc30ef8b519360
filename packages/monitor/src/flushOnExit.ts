/** Something holding buffered lines that must reach the disk before the process goes away. */
export interface Flushable {
  flushSync(): void;
}

const open = new Set<Flushable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function flushAll(): void {
  for (const item of open) {
    try {
      item.flushSync();
    } catch {
      // Exiting anyway: one broken file must not stop the others from being flushed.
    }
  }
}

// Node emits 'exit' on process.exit(), on an uncaught exception and when the loop runs dry, but not when a
// signal kills the process. For signals we flush, then re-raise the signal if nobody else listens, so the
// process still dies the default way (and with the default exit status).
function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  process.on('exit', flushAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off('exit', flushAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Flushes `item` synchronously when the process exits or is told to stop by SIGINT/SIGTERM/SIGHUP. */
export function flushOnExit(item: Flushable): void {
  if (open.size === 0) install();
  open.add(item);
}

/** Stops flushing `item` on exit (it was closed). */
export function forgetOnExit(item: Flushable): void {
  if (open.delete(item) && open.size === 0) uninstall();
}
