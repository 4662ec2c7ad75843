import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { writeScanImage } from '../helpers/scan-image.js';
import { secretlintMatches } from '../../src/scan/secrets/secretlint.js';

interface Finding {
  rule: string;
  target: string;
  layer?: number;
  present: boolean;
  removedIn?: number;
  excerpt: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const randomOf = (alphabet: string, n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');

/** Fresh secrets for every run, so nothing here is a known example value a rule set allows. */
function secrets() {
  const accessKey = `AKIA${randomOf(ALNUM, 16)}`;
  const secretKey = randomOf('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 40);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const github = `ghp_${randomOf('abcdefghijklmnopqrstuvwxyz0123456789', 36)}`;
  const npm = `npm_${randomOf('abcdefghijklmnopqrstuvwxyz0123456789', 36)}`;
  const stripe = `sk_live_${randomOf('abcdefghijklmnopqrstuvwxyz0123456789', 24)}`;
  const dbPassword = randomOf('abcdefghijklmnopqrstuvwxyz', 16);
  return { accessKey, secretKey, rsa, github, npm, stripe, dbPassword };
}

describe('secrets, including those a later layer deleted', () => {
  const s = secrets();
  const work = tempDir('berth-secrets-');
  const dir = join(work, 'img');
  const env = { BERTH_HOME: join(work, 'home') };
  const everySecret = [s.accessKey, s.secretKey, s.github, s.npm, s.stripe, s.dbPassword, ...s.rsa.split('\n').filter((l) => l.length > 40)];

  test('an AWS key and an RSA key added in layer 2 and deleted in layer 3 are reported with both layer numbers; no output carries a secret', async () => {
    await writeScanImage(
      dir,
      'v1',
      [
        { 'etc/os-release': 'ID=debian\nVERSION_ID=12\n', 'app/server.js': 'console.log("hello")\n' },
        {
          'root/.aws/credentials': `[default]\naws_access_key_id = ${s.accessKey}\naws_secret_access_key = ${s.secretKey}\n`,
          'root/.ssh/id_rsa': s.rsa,
          'app/.npmrc': `//registry.npmjs.org/:_authToken=${s.npm}\n`,
        },
        { 'root/.aws/.wh.credentials': '', 'root/.wh..ssh': '' },
        { 'app/.env': `STRIPE_SECRET=${s.stripe}\nLOG_LEVEL=debug\n`, 'app/.npmrc': 'registry=https://registry.npmjs.org/\n' },
      ],
      {
        env: ['PATH=/usr/bin', `GITHUB_TOKEN=${s.github}`],
        history: ['ADD rootfs /', 'COPY creds /root/', 'RUN rm -rf /root/.aws/credentials /root/.ssh', `RUN |1 DATABASE_URL=postgres://app:${s.dbPassword}@db.internal:5432/app /bin/sh -c migrate`],
      },
    );
    const json = await berth(['scan', '--secrets', `oci:${dir}:v1`, '--format', 'json'], env);
    assert.equal(json.code, 0, json.stderr);
    const findings = (JSON.parse(json.stdout) as { secrets: Finding[] }).secrets;
    const by = (rule: string, target: string) => findings.find((f) => f.rule === rule && f.target === target);

    for (const rule of ['aws-access-key-id', 'aws-secret-access-key']) {
      const f = by(rule, 'root/.aws/credentials');
      assert.deepEqual(f && [f.layer, f.present, f.removedIn], [2, false, 3], `${rule}: ${JSON.stringify(findings)}`);
    }
    const key = by('private-key', 'root/.ssh/id_rsa');
    assert.deepEqual(key && [key.layer, key.present, key.removedIn], [2, false, 3], 'a whiteout of the parent directory removes it too');
    const npmrc = by('npmrc-auth-token', 'app/.npmrc') ?? by('npm-access-token', 'app/.npmrc');
    assert.deepEqual(npmrc && [npmrc.layer, npmrc.present, npmrc.removedIn], [2, false, 4], 'overwritten in layer 4, still in layer 2');
    const env0 = by('stripe-secret-key', 'app/.env');
    assert.deepEqual(env0 && [env0.layer, env0.present], [4, true]);
    assert.ok(by('github-token', 'image config Env[1]'), 'the config Env');
    assert.ok(findings.some((f) => f.target === 'image config history[3].created_by'), 'build arguments in history');

    const table = await berth(['scan', '--secrets', `oci:${dir}:v1`], env);
    assert.match(table.stdout, /root\/\.aws\/credentials:2: removed in layer 3, still downloadable in layer 2/);
    assert.match(table.stdout, /aws_access_key_id = \*\*\*\*/);
    const sarif = await berth(['scan', '--secrets', `oci:${dir}:v1`, '--format', 'sarif'], env);
    assert.equal(sarif.code, 0);

    for (const out of [json.stdout, json.stderr, table.stdout, table.stderr, sarif.stdout, sarif.stderr]) {
      for (const secret of everySecret) assert.ok(!out.includes(secret), `a secret leaked into the output: ${secret.slice(0, 6)}…`);
      // Not even a tail: the AWS secret key rule reports a span that ends inside the key.
      assert.ok(!out.includes(s.secretKey.slice(-12)), 'the tail of the AWS secret key leaked');
    }
  });

  test('--exit-code fails a CI job on a leaked secret', async () => {
    const r = await berth(['scan', '--secrets', `oci:${dir}:v1`, '--exit-code', '3', '--severity', 'CRITICAL'], env);
    assert.equal(r.code, 3);
  });

  test('the keyword prefilter finds exactly what secretlint alone finds, over real files and every kind of secret', async () => {
    const corpus: string[] = [];
    const root = join(REPO_ROOT, 'node_modules');
    for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (corpus.length >= 600) break;
      const p = join(e.parentPath, e.name);
      if (e.isFile() && /\.(js|json|md|ts)$/.test(e.name) && statSync(p).size < 64 << 10) corpus.push(readFileSync(p, 'utf8'));
    }
    corpus.push(
      `aws_secret_access_key=${s.secretKey}`, s.rsa, `token ${s.github}`, `//r/:_authToken=${s.npm}`, `https://user:${s.dbPassword}@example.com/x`,
      `mongodb://u:${s.dbPassword}@h/db`, `xoxb-123456789012-1234567890123-${randomOf(ALNUM, 24)}`, `glpat-${randomOf(ALNUM, 20)}`, `dckr_pat_${randomOf(ALNUM, 27)}`,
      `{"type":"service_account","private_key_id":"x","private_key":"-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----\\n"}`,
    );
    for (const text of corpus) {
      const filtered = await secretlintMatches(text, 'file.txt');
      const unfiltered = await secretlintMatches(text, 'file.txt', { prefilter: false });
      assert.deepEqual(filtered, unfiltered);
    }
  });
});
