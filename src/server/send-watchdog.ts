import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Why a response was cut off: its client stopped taking it. */
export class StalledReader extends Error {
  override readonly name = 'StalledReader';
}

declare module 'fastify' {
  interface FastifyReply {
    /** `http.sendIdleTimeout` in ms (0: never), read by sendBody. */
    berthSendIdleMs: number;
  }
}

/** A primitive on the reply prototype: free per request, unlike a hook. */
export function declareSendIdle(app: FastifyInstance, idleMs: number): void {
  app.decorateReply('berthSendIdleMs', idleMs);
}

/** What sendBody asks after a copy failed: whether the watchdog cut it, and why. */
export interface SendWatch {
  readonly cut?: StalledReader;
}

interface Watched {
  cut?: StalledReader;
  res: ServerResponse;
  socket: Socket;
  idleMs: number;
  onCut: (reason: string) => void;
  taken: number;
  queued: number;
  idleSince: number;
}

/** One timer for every body being sent, not one per response: a pull of a small image sends several blobs. */
const TICK_MS = 250;
const watched = new Set<Watched>();
let ticker: NodeJS.Timeout | undefined;

/**
 * Cuts off a response whose client has stopped taking it for `idleMs`, so a
 * client that stops reading but keeps its connection open cannot hold a
 * connection, an open file or a pull-through fill (which other pulls of the
 * blob wait on) forever. Only a response with bytes waiting for the client
 * counts: while Berth waits on its own source (a slow upstream, a slow store)
 * nothing is queued and the client is rightly idle. `onCut` is told why, also
 * when the cut comes after the last write (the tail still queued).
 */
export function watchSend(res: ServerResponse, idleMs: number, onCut: (reason: string) => void): SendWatch {
  const socket = res.socket;
  // A response that is already gone will never emit 'close' again: watched, it would stay in the set for good.
  // A pipelined request's response has no socket until the one before it is done; the one before it is watched.
  if (idleMs <= 0 || !socket || res.destroyed || socket.destroyed) return {};
  const w: Watched = { res, socket, idleMs, onCut, ...progressOf(socket), idleSince: Date.now() };
  watched.add(w);
  res.once('close', () => watched.delete(w));
  ticker ??= setInterval(tick, TICK_MS).unref();
  return w;
}

/**
 * How far the client has got, as Node's own socket timeout judges it: the
 * bytes whose writes completed, and what libuv still holds of the write in
 * progress (it shrinks whenever the kernel takes more). The kernel wakes the
 * writer only once a share of its send buffer is free, so progress shows in
 * steps of up to about 1 MiB: a reader must take that much per `idleMs`
 * (17 KiB/s at the default 60 s), like nginx's `send_timeout`.
 */
function progressOf(socket: Socket): { taken: number; queued: number } {
  const handle = (socket as Socket & { _handle?: { writeQueueSize?: number } })._handle;
  return { taken: socket.bytesWritten - socket.writableLength, queued: handle?.writeQueueSize ?? 0 };
}

function tick(): void {
  const now = Date.now();
  for (const w of watched) {
    if (w.res.destroyed || w.socket.destroyed) {
      watched.delete(w);
      continue;
    }
    const { taken, queued } = progressOf(w.socket);
    if (taken !== w.taken || queued !== w.queued || w.socket.writableLength === 0) {
      w.taken = taken;
      w.queued = queued;
      w.idleSince = now;
    } else if (now - w.idleSince >= w.idleMs) {
      watched.delete(w);
      const reason = `the client took nothing of the response for ${w.idleMs < 1000 ? `${w.idleMs} ms` : `${Math.round(w.idleMs / 1000)} s`}`;
      w.cut = new StalledReader(reason);
      w.onCut(reason);
      w.res.destroy(w.cut);
    }
  }
  if (watched.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}
