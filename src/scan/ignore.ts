import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { SecretFinding } from './inventory.js';
import type { Vulnerability } from './match.js';

const date = z.union([z.date(), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')]).transform((d) => (typeof d === 'string' ? new Date(`${d}T23:59:59Z`) : d));
const reason = z.string().trim().min(1, 'every ignore needs a reason');

const schema = z
  .object({
    vulnerabilities: z
      .array(z.object({ id: z.string().min(1), packages: z.array(z.string()).optional(), reason, expires: date.optional() }).strict())
      .default([]),
    secrets: z
      .array(
        z
          .object({ rule: z.string().min(1).optional(), paths: z.array(z.string()).optional(), reason, expires: date.optional() })
          .strict()
          .refine((e) => e.rule !== undefined || e.paths !== undefined, 'a secrets entry needs a rule, paths, or both'),
      )
      .default([]),
  })
  .strict();

export type IgnoreFile = z.infer<typeof schema>;

export class IgnoreFileError extends Error {
  override readonly name = 'IgnoreFileError';
}

/**
 * Accepted risks, each with the reason and, ideally, an expiry date after
 * which it stops hiding the finding (like Trivy's .trivyignore.yaml):
 *
 *   vulnerabilities:
 *     - { id: CVE-2023-4911, packages: [libc6], reason: "no setuid binaries", expires: 2025-06-30 }
 *   secrets:
 *     - { rule: private-key, paths: ["usr/share/app/test/**"], reason: "test fixture" }
 */
export function loadIgnoreFile(path: string): IgnoreFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IgnoreFileError(`cannot read the ignore file ${path}: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(parseYaml(text) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new IgnoreFileError(`${path}: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data;
}

export interface Ignored {
  id: string;
  reason: string;
}

/** Splits findings into kept and ignored; expired entries hide nothing and are reported in `expired`. */
export function applyIgnores(file: IgnoreFile, vulns: Vulnerability[], secrets: SecretFinding[], now = new Date()): { vulns: Vulnerability[]; secrets: SecretFinding[]; ignored: Ignored[]; expired: string[] } {
  const expired: string[] = [];
  const live = <T extends { expires?: Date | undefined }>(e: T, what: string) => {
    if (e.expires && e.expires < now) {
      expired.push(`ignore entry for ${what} expired on ${e.expires.toISOString().slice(0, 10)}; it no longer hides anything`);
      return false;
    }
    return true;
  };
  const vulnRules = file.vulnerabilities.filter((e) => live(e, e.id));
  const secretRules = file.secrets.filter((e) => live(e, e.rule ?? e.paths?.join(', ') ?? 'secrets')).map((e) => ({ ...e, match: e.paths ? picomatch(e.paths, { dot: true }) : undefined }));
  const ignored: Ignored[] = [];
  const keptVulns = vulns.filter((v) => {
    const rule = vulnRules.find((e) => (e.id === v.id || v.aliases.includes(e.id)) && (!e.packages || e.packages.includes(v.package.name) || e.packages.includes(v.package.purl)));
    if (rule) ignored.push({ id: v.id, reason: rule.reason });
    return !rule;
  });
  const keptSecrets = secrets.filter((s) => {
    const rule = secretRules.find((e) => (!e.rule || e.rule === s.rule) && (!e.match || e.match(s.target)));
    if (rule) ignored.push({ id: `${s.rule} in ${s.target}`, reason: rule.reason });
    return !rule;
  });
  return { vulns: keptVulns, secrets: keptSecrets, ignored, expired: [...new Set(expired)] };
}
