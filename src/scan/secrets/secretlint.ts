import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import type { RawMatch } from './rules.js';

// AWS access key IDs are reported too (the preset looks only for secret keys unless told).
const CONFIG = { rules: [{ id: recommended.meta.id, rule: recommended, rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }] }] };

/**
 * Literal anchors of every rule in secretlint's recommended preset: a text
 * none of them occurs in cannot match any rule, so secretlint (about 0.7 ms
 * of set-up per call) runs only on the few files that could. A test runs the
 * preset with and without this filter over a corpus and demands the same
 * findings; a new preset rule needs its anchor here.
 */
const ANCHORS =
  /A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA|SECRET|[Ss]ecret|ACCOUNT|[Aa]ccount|private_key|PRIVATE KEY|_authToken|npm_|x-oauth-basic|xox[bpaor]-|xapp-|hooks\.slack\.com|:\/\/[-\w]+:[-\w]+@|SG\.|shp(?:pa|ca|at|ss)_|gh[pousr]_|github_pat_|glpat-|glc_|glsa_|sk-|gsk_|hf_|lin_api_|ntn_|ops_|hv[sbr]\.|vc[piark]_|dapi|dckr_pat_|figd_/;
const ANCHORS_ANY_CASE = /mongodb|mysql|postgres/i;

const couldMatch = (text: string): boolean => ANCHORS.test(text) || ANCHORS_ANY_CASE.test(text);

/** secretlint's findings as spans; its messages are dropped, since they quote the secret. */
export async function secretlintMatches(text: string, name: string, opts: { prefilter?: boolean } = {}): Promise<RawMatch[]> {
  if (opts.prefilter !== false && !couldMatch(text)) return [];
  const result = await lintSource({
    source: { filePath: name, content: text, ext: extname(name), contentType: 'text' },
    options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages
    .filter((m) => m.type === 'message' && m.messageId !== 'IGNORE_MESSAGE')
    .map((m) => ({ rule: kebab(m.messageId ?? m.ruleId), start: m.range[0], end: tokenEnd(text, m.range[1]) }));
}

/**
 * Some rules report a span that ends inside the secret (the AWS secret
 * key rule measures its capture group from the start of the whole match):
 * masking runs on to the end of the token, so no tail of a secret shows.
 */
function tokenEnd(text: string, end: number): number {
  let i = end;
  while (i < text.length && !/[\s"'`,;]/.test(text[i]!)) i++;
  return i;
}

const extname = (name: string): string => {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
};

/** `AWSAccessKeyID` -> `aws-access-key-id`, `GITHUB_TOKEN` -> `github-token`. */
function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/_+/g, '-')
    .toLowerCase();
}
