import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../dialect.js';

/** An auto-incrementing integer primary key named `id`, in each dialect's own form. */
export function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, 'id'> {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}
