import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';

let server: BerthServer;
let cert: string;

before(async () => {
  const dir = tempDir('berth-client-tls-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=127.0.0.1', '-days', '2', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
  cert = join(dir, 'cert.pem');
  server = await startBerth({ config: `tls: { cert: ${cert}, key: ${join(dir, 'key.pem')} }\n` });
});
after(() => server.stop());

test('TLS with a certificate nobody vouches for: refused with a hint, trusted via SSL_CERT_FILE or --ca-file, skipped with --insecure', async () => {
  const env = { BERTH_HOME: tempDir(), DOCKER_CONFIG: tempDir() };
  const untrusted = await berth(['catalog', server.host], env);
  assert.equal(untrusted.code, 5, untrusted.stderr);
  assert.match(untrusted.stderr, /cannot reach https:\/\/127\.0\.0\.1:\d+: .*SELF_SIGNED.*--ca-file/, 'no silent fallback to plain HTTP');
  for (const [args, extra] of [[['--ca-file', cert], {}], [[], { SSL_CERT_FILE: cert }], [['--insecure'], {}]] as const) {
    const r = await berth(['catalog', ...args, server.host], { ...env, ...extra });
    assert.equal(r.code, 0, `${args.join(' ')} ${JSON.stringify(extra)}: ${r.stderr}`);
  }
});
