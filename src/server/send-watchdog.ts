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
  written: number;
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
 * nothing is queued and the client is rightly idle. Progress is a write
 * completing, so a reader slower than one write (up to 1 MiB) per `idleMs`
 * counts as stalled.
 */
export function watchSend(res: ServerResponse, idleMs: number): SendWatch {
  const socket = res.socket;
  if (idleMs <= 0 || !socket) return {};
  const w: Watched = { res, socket, idleMs, written: socket.bytesWritten, idleSince: Date.now() };
  watched.add(w);
  res.once('close', () => watched.delete(w));
  ticker ??= setInterval(tick, TICK_MS).unref();
  return w;
}

function tick(): void {
  const now = Date.now();
  for (const w of watched) {
    // bytesWritten counts what Berth has handed the socket; both copies stop handing it more while it holds a write (or 2 MiB) the client has not taken.
    const written = w.socket.bytesWritten;
    if (written !== w.written || w.socket.writableLength === 0) {
      w.written = written;
      w.idleSince = now;
    } else if (now - w.idleSince >= w.idleMs) {
      watched.delete(w);
      w.cut = new StalledReader(`the client took no response byte for ${Math.round(w.idleMs / 1000)}s`);
      w.res.destroy(w.cut);
    }
  }
  if (watched.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}
