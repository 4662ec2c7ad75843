import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface SessionRow {
  subject: string;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

/** When a session ends: unused for `idleMs`, or `lifetimeMs` after its login. */
export interface SessionLimits {
  idleMs: number;
  lifetimeMs: number;
  perUser: number;
}

/** The web UI's login sessions, shared by every replica through the metadata database. */
export class SessionQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: SessionLimits,
  ) {}

  /** Stores a new session, ends the user's oldest beyond `perUser`, and forgets every expired one. */
  async create(idHash: string, subject: string, csrf: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('ui_sessions').where((eb) => eb.or([eb('last_seen_at', '<', now - this.limits.idleMs), eb('created_at', '<', now - this.limits.lifetimeMs)])).execute();
      await trx.insertInto('ui_sessions').values({ id_hash: idHash, subject, csrf, created_at: now, last_seen_at: now }).execute();
      const keep = trx.selectFrom('ui_sessions').select('id_hash').where('subject', '=', subject).orderBy('created_at', 'desc').orderBy('id_hash').limit(this.limits.perUser);
      await trx.deleteFrom('ui_sessions').where('subject', '=', subject).where('id_hash', 'not in', keep).execute();
    });
  }

  /** The live session with this hash, or undefined when there is none or it expired. */
  async find(idHash: string, now: number): Promise<SessionRow | undefined> {
    const r = await this.db
      .selectFrom('ui_sessions')
      .select(['subject', 'csrf', 'created_at', 'last_seen_at'])
      .where('id_hash', '=', idHash)
      .where('last_seen_at', '>=', now - this.limits.idleMs)
      .where('created_at', '>=', now - this.limits.lifetimeMs)
      .executeTakeFirst();
    return r && { subject: r.subject, csrf: r.csrf, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at) };
  }

  async touch(idHash: string, now: number): Promise<void> {
    await this.db.updateTable('ui_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  }

  async remove(idHash: string): Promise<void> {
    await this.db.deleteFrom('ui_sessions').where('id_hash', '=', idHash).execute();
  }
}
