import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { missingTools, Tools, umociImage } from '../helpers/tools.js';
import { htpasswdFile } from './helpers.js';

const skip = missingTools('openssl', 'skopeo', 'umoci', 'htpasswd');

/** The config of docs/SECURITY.md exactly as written there (relative paths, resolved in the server's working directory). */
const README_CONFIG = `auth:
  htpasswd: ./htpasswd           # made with \`htpasswd -Bbn alice secret\` ($2y$ bcrypt) or \`berth user add alice\`
  token: { issuer: berth, expiry: 5m }   # built-in Docker token service at /auth/token; keys generated on first start
  groups: { ci: [robot-ci, bob] }
access:
  - { repos: "alice/**",  users: [alice], actions: [pull, push, delete] }
  - { repos: "public/**", anonymous: true, actions: [pull] }
  - { repos: "**",        groups: [ci],    actions: [pull, push] }
tls: { cert: ./cert.pem, key: ./key.pem }
`;

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** A certificate for 127.0.0.1 signed by the test CA in `dir`, written as cert.pem/key.pem. */
function issueServerCert(dir: string, name: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', 'san.ext']);
}

describe('TLS with the documented config', { skip }, () => {
  let server: BerthServer;
  let dir: string;
  let ca: string;
  let https: Agent;
  let url: string;

  before(async () => {
    dir = tempDir('berth-auth-tls-');
    htpasswdFile(dir, { alice: 'secret', bob: 'bob-pw' });
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=berth test CA', '-days', '2']);
    issueServerCert(dir, 'first');
    copyFileSync(join(dir, 'first.crt'), join(dir, 'cert.pem'));
    copyFileSync(join(dir, 'first.key'), join(dir, 'key.pem'));
    writeFileSync(join(dir, 'berth.yaml'), README_CONFIG);
    server = await startBerth({ cwd: dir, dataDir: join(dir, 'data'), args: ['--config', join(dir, 'berth.yaml')] });
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    https = new Agent({ connect: { ca } });
    url = `https://${server.host}`;
  });
  after(async () => {
    await https?.close();
    await server?.stop();
  });

  test('serves HTTPS; the token realm is https; no plain-HTTP warning on loopback', async () => {
    assert.ok(readFileSync(join(REPO_ROOT, 'docs/SECURITY.md'), 'utf8').includes(README_CONFIG), 'this is the config docs/SECURITY.md shows');
    const r = await undiciFetch(`${url}/v2/`, { dispatcher: https });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), `Bearer realm="${url}/auth/token",service="berth"`);
    assert.ok(!server.logs.some((l) => l.level === 40 && /PLAIN HTTP/.test(String(l.msg))));
    assert.ok(server.logs.some((l) => l.msg === 'berth registry listening' && l.tls === true));
  });

  test('skopeo login and copy over verified TLS; berth login with --ca-file', async () => {
    const tools = new Tools();
    const certs = join(tools.dir, 'certs');
    mkdirSync(certs);
    writeFileSync(join(certs, 'ca.crt'), ca);
    const layout = join(dir, 'layout');
    await umociImage(layout, 'v1', { 'etc/motd': 'over TLS\n' });
    await tools.skopeo('login', '--cert-dir', certs, '-u', 'alice', '-p', 'secret', server.host);
    await tools.skopeo('copy', '-q', '--dest-cert-dir', certs, `oci:${layout}:v1`, `docker://${server.host}/alice/app:v1`);
    const inspected = JSON.parse(await tools.skopeo('inspect', '--cert-dir', certs, `docker://${server.host}/alice/app:v1`)) as { Name: string };
    assert.equal(inspected.Name, `${server.host}/alice/app`);
    // Without the CA the certificate is not trusted.
    const untrusted = await tools.run('skopeo', ['inspect', `docker://${server.host}/alice/app:v1`]);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate/);

    const env = { DOCKER_CONFIG: tempDir('berth-docker-') };
    const login = await berth(['login', server.host, '--ca-file', join(dir, 'ca.crt'), '-u', 'alice', '--password-stdin'], env, { input: 'secret' });
    assert.equal(login.code, 0, login.stderr);
    const tags = await berth(['tags', '--ca-file', join(dir, 'ca.crt'), `${server.host}/alice/app`], env);
    assert.equal(tags.code, 0, tags.stderr);
    assert.match(tags.stdout, /v1/);
  });

  test('SIGHUP reloads a renewed certificate without a restart', async () => {
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const [host, port] = [server.host.split(':')[0]!, Number(server.host.split(':')[1])];
        const s = connect({ host, port, ca }, () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.end();
        });
        s.on('error', reject);
      });
    const fingerprint = (file: string) => new X509Certificate(readFileSync(join(dir, file))).fingerprint256;
    assert.equal(await served(), fingerprint('first.crt'));
    issueServerCert(dir, 'second');
    copyFileSync(join(dir, 'second.crt'), join(dir, 'cert.pem'));
    copyFileSync(join(dir, 'second.key'), join(dir, 'key.pem'));
    server.process.kill('SIGHUP');
    for (let i = 0; i < 100 && !server.logs.some((l) => l.msg === 'TLS certificate reloaded'); i++) await sleep(50);
    assert.equal(await served(), fingerprint('second.crt'));
    assert.equal(server.process.exitCode, null);
    // A bad renewal keeps the working certificate.
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    server.process.kill('SIGHUP');
    for (let i = 0; i < 100 && !server.logs.some((l) => l.msg === 'TLS reload failed; still serving the previous certificate'); i++) await sleep(50);
    assert.equal(await served(), fingerprint('second.crt'));
  });
});

describe('plain HTTP off loopback', { skip: missingTools('htpasswd') }, () => {
  test('berth serve warns loudly when auth is on and HTTP is served on a non-loopback address', async () => {
    const dir = tempDir('berth-auth-plain-');
    const htpasswd = htpasswdFile(dir, { alice: 'secret' });
    const server = await startBerth({ config: `auth:\n  htpasswd: ${htpasswd}\n`, args: ['--addr', '0.0.0.0:0'] });
    try {
      const warning = server.logs.find((l) => l.level === 40 && /PLAIN HTTP ON A NON-LOOPBACK ADDRESS/.test(String(l.msg)));
      assert.ok(warning, 'a warning was logged');
    } finally {
      await server.stop();
    }
  });

  test('berth serve warns when it has no auth at all on a non-loopback address, and not on loopback', async () => {
    const open = await startBerth({ args: ['--addr', '0.0.0.0:0'] });
    const local = await startBerth();
    try {
      const warned = (s: typeof open) => s.logs.some((l) => l.level === 40 && /NO AUTHENTICATION ON A NON-LOOPBACK ADDRESS/.test(String(l.msg)));
      assert.ok(warned(open), 'the open registry on 0.0.0.0 warned');
      assert.ok(!warned(local), 'the loopback default stays quiet');
    } finally {
      await Promise.all([open.stop(), local.stop()]);
    }
  });
});
