import { z } from 'zod';

/** `metadata.postgres`: the metadata index in PostgreSQL, shared by every replica. */
export const PostgresConfigSchema = z
  .object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL, e.g. postgres://berth:secret@db:5432/berth'),
    poolSize: z.number().int().positive().default(10),
  })
  .strict();

export type PostgresConfig = z.output<typeof PostgresConfigSchema>;
