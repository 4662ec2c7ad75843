import type { IncomingMessage } from 'node:http';

/** Why a request was cut off: its client stopped sending its body. */
export class StalledBody extends Error {
  override readonly name = 'StalledBody';
}

/**
 * Cuts off a request whose client stopped sending its body for `idleMs`, so
 * a stalled upload cannot hold a connection, a file descriptor and an upload
 * claim forever. Only a hungry request counts as stalled: while Berth itself
 * is not reading (the store is slow, a handler awaits the database) the body
 * buffer is full and the client is rightly held back. The upload session
 * stays where its last complete chunk left it, so the client can resume.
 */
export function watchBody(req: IncomingMessage, idleMs: number): void {
  if (idleMs <= 0) return;
  let seen = req.socket.bytesRead;
  let idleSince = Date.now();
  const timer = setInterval(() => {
    if (req.complete || req.destroyed) return clearInterval(timer);
    const read = req.socket.bytesRead;
    const hungry = req.readableLength < req.readableHighWaterMark;
    if (read !== seen || !hungry) {
      seen = read;
      idleSince = Date.now();
    } else if (Date.now() - idleSince >= idleMs) {
      clearInterval(timer);
      req.destroy(new StalledBody(`no request body byte for ${Math.round(idleMs / 1000)}s`));
    }
  }, Math.max(50, Math.floor(idleMs / 4)));
  timer.unref();
  req.once('close', () => clearInterval(timer));
}

/** A failure that only means the client went away (hung up, or stalled and was cut off): not Berth's fault. */
export function isClientGone(err: unknown, req: IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return err instanceof StalledBody || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNABORTED' || (req.destroyed && !req.complete);
}
