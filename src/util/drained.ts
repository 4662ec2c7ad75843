import type { Writable } from 'node:stream';

/**
 * Until the stream wants more, or is gone. Plain listeners, not `once` with
 * an AbortSignal: this runs for every megabyte of a blob, and the signal's
 * AbortError and DOMException cost more than the wait.
 */
export function drained(stream: Writable): Promise<void> {
  if (stream.destroyed || !stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
