/**
 * Calls `stop` on the first Ctrl-C (SIGINT) or SIGTERM and stops listening at
 * once, so that a second one ends the process as usual. Returns the function
 * that stops listening when the work ends before either arrives.
 */
export function onStopSignal(stop: () => void): () => void {
  const unlisten = () => {
    process.off('SIGINT', handle);
    process.off('SIGTERM', handle);
  };
  const handle = () => {
    unlisten();
    stop();
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return unlisten;
}

/** Settles on the first Ctrl-C or SIGTERM (for servers that run until stopped). */
export function stopSignal(): Promise<void> {
  return new Promise((resolve) => onStopSignal(resolve));
}
