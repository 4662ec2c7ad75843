import { z } from 'zod';

/** `tls:` serve HTTPS with this PEM pair (the certificate file may hold the chain). */
export const TlsConfigSchema = z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict();
export type TlsConfig = z.output<typeof TlsConfigSchema>;
