import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Identity } from '../access.js';
import { matchRoute } from '../routes/match.js';

export interface AuditEntry {
  event: 'login' | 'push' | 'delete' | 'denied';
  /** The user, or null for anonymous. */
  who: string | null;
  client: string;
  result: 'ok' | 'failed' | 'denied' | 'limited';
  repository?: string;
  /** The tag or digest pushed or deleted. */
  reference?: string;
  digest?: string;
  actions?: string[];
  status?: number;
  reason?: string;
}

/**
 * One structured line per login, push, delete and denied request: into the
 * server log (`"audit": true`) and, when configured, its own file. Never a
 * password or token: entries are built from names only.
 */
export class AuditLog {
  private readonly file: Logger | undefined;

  constructor(
    private readonly logger: Logger,
    path?: string,
    /** Told every entry (the metrics count failures and refusals). */
    private readonly observe: (entry: AuditEntry) => void = () => {},
  ) {
    this.file = path ? pino({ base: null }, pino.destination({ dest: path, mkdir: true, append: true, sync: true })) : undefined;
  }

  record(entry: AuditEntry): void {
    this.logger.info({ audit: true, ...entry }, 'audit');
    this.file?.info(entry);
    this.observe(entry);
  }

  /** Push (manifest PUT) and delete lines, written once the response says how it went. */
  install(app: FastifyInstance, who: (req: object) => Identity | undefined): void {
    // A callback hook: every request runs it, and most return at once.
    app.addHook('onResponse', (req, reply, done) => {
      if (req.method === 'PUT' || req.method === 'DELETE') this.recordChange(req, reply, who);
      done();
    });
  }

  private recordChange(req: FastifyRequest, reply: FastifyReply, who: (req: object) => Identity | undefined): void {
    const method = req.method;
    const route = matchRoute(req.url.split('?', 1)[0]!);
    const status = reply.statusCode;
    // Refusals were recorded as `denied` when the authorizer refused them.
    if (!route || status === 401 || status === 403 || status === 429) return;
    const isPush = route.kind === 'manifest' && method === 'PUT';
    const isDelete = method === 'DELETE' && (route.kind === 'manifest' || route.kind === 'blob');
    if (!isPush && !isDelete) return;
    const header = reply.getHeader('docker-content-digest');
    const digest = typeof header === 'string' ? header : /^[a-z0-9]+:[a-f0-9]+$/.test(route.ref) ? route.ref : undefined;
    this.record({
      event: isPush ? 'push' : 'delete',
      who: who(req)?.subject ?? null,
      client: req.ip,
      repository: route.name,
      reference: route.ref,
      ...(digest ? { digest } : {}),
      result: status < 400 ? 'ok' : 'failed',
      status,
    });
  }

  close(): void {
    this.file?.flush();
  }
}
