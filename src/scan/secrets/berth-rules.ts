import type { RawMatch } from './rules.js';

interface Rule {
  id: string;
  /** Only files with this base name, when given. */
  file?: RegExp;
  /** Only texts holding this string. */
  requires?: string;
  /** The secret is capture group 1 when the pattern has one, else the whole match. */
  pattern: RegExp;
}

/**
 * The leaks secretlint's preset does not cover. Token formats follow the
 * vendors' documented prefixes (as gitleaks' rules do): Stripe `sk_live_`
 * and restricted `rk_live_` keys, PyPI's macaroon tokens (`pypi-AgEIcHlwaS5vcmc`
 * is the base64 of their fixed header). The file rules look at what a
 * credential file holds: `.pypirc` passwords, `auth` fields of a docker
 * config.json, and values of secret-looking keys in `.env` files.
 */
const RULES: Rule[] = [
  { id: 'stripe-secret-key', pattern: /(?<![A-Za-z0-9])([sr]k_(?:live|test)_[A-Za-z0-9]{20,99})(?![A-Za-z0-9])/g },
  { id: 'pypi-token', pattern: /(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})/g },
  { id: 'pypirc-password', file: /^\.pypirc$/, pattern: /^[ \t]*password[ \t]*[:=][ \t]*(\S+)/gm },
  { id: 'docker-config-auth', file: /^(?:config|auth)\.json$/, requires: '"auths"', pattern: /"(?:auth|identitytoken|registrytoken)"\s*:\s*"([^"]{8,})"/g },
  {
    id: 'dotenv-secret',
    file: /^\.env(?:\.(?!example$|sample$|template$|dist$)[\w.-]+)?$/,
    pattern: /^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_]*(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Za-z0-9_]*[ \t]*=[ \t]*["']?([^\s"'#][^\s"']{3,})/gim,
  },
];

export function berthRules(text: string, baseName: string): RawMatch[] {
  const out: RawMatch[] = [];
  for (const rule of RULES) {
    if ((rule.file && !rule.file.test(baseName)) || (rule.requires && !text.includes(rule.requires))) continue;
    for (const m of text.matchAll(rule.pattern)) {
      const secret = m[1] ?? m[0];
      const start = m.index + m[0].lastIndexOf(secret);
      out.push({ rule: rule.id, start, end: start + secret.length });
    }
  }
  return out;
}
