import { posix } from 'node:path';
import type { Severity } from '../severity.js';
import { berthRules } from './berth-rules.js';
import { secretlintMatches } from './secretlint.js';

/** One secret in one text: the rule, where (offsets into the text), and a line to show with the secret masked. */
export interface SecretMatch {
  rule: string;
  title: string;
  severity: Severity;
  /** 1-based line of the match's start. */
  line: number;
  /** The line with every secret on it replaced by `*`; cut to 120 characters. */
  excerpt: string;
}

/** A span some rule flagged, before it is turned into a masked report. */
export interface RawMatch {
  rule: string;
  start: number;
  end: number;
}

const MAX_EXCERPT = 120;

/**
 * Runs every rule over a text: secretlint's recommended preset (MIT,
 * secretlint/secretlint) and Berth's own rules for the leaks it lacks
 * (Stripe and PyPI tokens, .pypirc and .env values, docker config.json
 * `auths`). `name` is the file's path (some rules look at it).
 */
export async function findSecrets(text: string, name: string): Promise<SecretMatch[]> {
  const raw = [...(await secretlintMatches(text, name)), ...berthRules(text, posix.basename(name))];
  if (raw.length === 0) return [];
  const lines = lineStarts(text);
  const seen = new Set<string>();
  const out: SecretMatch[] = [];
  for (const m of raw.sort((a, b) => a.start - b.start)) {
    const line = lineOf(lines, m.start);
    const key = `${m.rule}:${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const info = ruleInfo(m.rule);
    out.push({ rule: m.rule, title: info.title, severity: info.severity, line: line + 1, excerpt: maskedLine(text, lines, line, m.start, raw) });
  }
  return out;
}

/** The line, with every flagged span on it masked (a secret never leaves this function), cut around the match. */
function maskedLine(text: string, lines: number[], line: number, at: number, raw: RawMatch[]): string {
  const start = lines[line]!;
  const end = line + 1 < lines.length ? lines[line + 1]! - 1 : text.length;
  let s = text.slice(start, end);
  for (const m of raw) {
    const a = Math.max(m.start, start) - start;
    const b = Math.min(m.end, end) - start;
    if (a < b) s = s.slice(0, a) + '*'.repeat(b - a) + s.slice(b);
  }
  const from = Math.max(0, at - start - 40);
  const cut = s.slice(from, from + MAX_EXCERPT);
  return `${from > 0 ? '…' : ''}${cut.replace(/\*{4,}/g, '****').trim()}${from + MAX_EXCERPT < s.length ? '…' : ''}`;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const RULES: Record<string, { title: string; severity: Severity }> = {
  'aws-access-key-id': { title: 'AWS access key ID', severity: 'CRITICAL' },
  'aws-secret-access-key': { title: 'AWS secret access key', severity: 'CRITICAL' },
  'aws-account-id': { title: 'AWS account ID', severity: 'LOW' },
  'private-key': { title: 'Private key', severity: 'HIGH' },
  'private-key-json': { title: 'GCP service account key', severity: 'CRITICAL' },
  'private-key-p12': { title: 'PKCS#12 private key', severity: 'HIGH' },
  'github-token': { title: 'GitHub token', severity: 'CRITICAL' },
  'gitlab-personal-access-token': { title: 'GitLab personal access token', severity: 'CRITICAL' },
  'slack-token': { title: 'Slack token', severity: 'HIGH' },
  'incoming-webhook': { title: 'Slack incoming webhook', severity: 'MEDIUM' },
  'npm-access-token': { title: 'npm access token', severity: 'CRITICAL' },
  'npmrc-auth-token': { title: 'npm token in .npmrc', severity: 'CRITICAL' },
  'basic-auth': { title: 'Password in a URL', severity: 'MEDIUM' },
  'stripe-secret-key': { title: 'Stripe secret key', severity: 'CRITICAL' },
  'pypi-token': { title: 'PyPI upload token', severity: 'CRITICAL' },
  'pypirc-password': { title: 'Password in .pypirc', severity: 'HIGH' },
  'docker-config-auth': { title: 'Registry credentials in docker config.json', severity: 'HIGH' },
  'dotenv-secret': { title: 'Secret in a .env file', severity: 'MEDIUM' },
};

function ruleInfo(rule: string): { title: string; severity: Severity } {
  return RULES[rule] ?? { title: rule.replace(/-/g, ' '), severity: 'HIGH' };
}
