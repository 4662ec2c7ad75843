import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { berthEnv, gpgKey, output, type GpgKey } from '../helpers/signing.js';
import { missingTools, Tools, umociImage } from '../helpers/tools.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('GPG simple signing: skopeo and podman through the signature extension of berth serve', { skip: missingTools('skopeo', 'podman', 'gpg', 'umoci', 'unshare') }, () => {
  let server: BerthServer;
  let tools: Tools;
  let key: GpgKey;
  let layout: string;
  let dir: string;
  const env = berthEnv();
  const skopeo = (...args: string[]) => tools.run('skopeo', args, { env: { GNUPGHOME: key.home } });
  const push = (tag: string, ref: string, ...flags: string[]) => tools.must('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...flags, `oci:${layout}:${tag}`, `docker://${ref}`], { env: { GNUPGHOME: key.home } });
  const sigs = async (repo: string, digest: string) => (await fetch(`${server.url}/extensions/v2/${repo}/signatures/${digest}`)).json() as Promise<{ signatures: { schemaVersion: number; type: string; name: string; content: string }[] }>;
  const head = async (repo: string, tag: string) => (await fetch(`${server.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST } })).headers.get('docker-content-digest')!;
  /** A policy.json requiring a signature by the test key for `host`; `remap` accepts signatures made for another registry. */
  const policy = (host: string, remap?: string) => {
    const file = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
    const req: Record<string, unknown> = { type: 'signedBy', keyType: 'GPGKeys', keyPath: key.publicKey };
    if (remap) req.signedIdentity = { type: 'remapIdentity', prefix: host, signedPrefix: remap };
    writeFileSync(file, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { [host]: [req] } } }));
    return file;
  };
  const skopeoPull = (policyFile: string, ref: string) =>
    skopeo('--policy', policyFile, 'copy', '--quiet', '--src-tls-verify=false', '--remove-signatures', `docker://${ref}`, `oci:${join(tempDir('berth-pull-'), 'l')}:x`);
  const podmanPull = (policyFile: string, ref: string) => tools.run('podman', [...tools.storageFlags('podman'), 'pull', '--quiet', '--tls-verify=false', '--signature-policy', policyFile, ref]);

  before(async () => {
    dir = tempDir('berth-gpg-test-');
    layout = join(dir, 'layout');
    [key, server] = await Promise.all([gpgKey(), startBerth()]);
    tools = new Tools();
    await umociImage(layout, 'v1', { 'etc/os-release': 'ID=signed\n' });
    await umociImage(layout, 'v2', { 'etc/os-release': 'ID=other\n' });
  });
  after(async () => {
    await server?.stop();
    await key?.close();
  });

  test('skopeo --sign-by stores the signature in berth; skopeo and podman pull through signedBy; unsigned and moved tags are refused', async () => {
    const ping = await fetch(`${server.url}/v2/`);
    assert.equal(ping.headers.get('x-registry-supports-signatures'), '1');
    await push('v1', `${server.host}/team/app:v1`, '--sign-by', key.fingerprint);
    const digest = await head('team/app', 'v1');
    const list = await sigs('team/app', digest);
    assert.equal(list.signatures.length, 1, 'the signature landed in berth, no lookaside configured');
    assert.equal(list.signatures[0]!.schemaVersion, 2);
    assert.equal(list.signatures[0]!.type, 'atomic');
    assert.ok(list.signatures[0]!.name.startsWith(`${digest}@`));

    const p = policy(server.host);
    const s = await skopeoPull(p, `${server.host}/team/app:v1`);
    assert.equal(s.code, 0, s.stderr);
    const pm = await podmanPull(p, `${server.host}/team/app:v1`);
    assert.equal(pm.code, 0, pm.stderr);

    await push('v1', `${server.host}/team/app:unsigned`);
    await push('v1', `${server.host}/team/app:moved`, '--sign-by', key.fingerprint);
    await push('v2', `${server.host}/team/app:moved`);
    for (const ref of ['team/app:unsigned', 'team/app:moved']) {
      const sk = await skopeoPull(p, `${server.host}/${ref}`);
      assert.notEqual(sk.code, 0, `skopeo pulled ${ref}`);
      assert.match(sk.stderr, /[Ss]ignature/);
      const po = await podmanPull(p, `${server.host}/${ref}`);
      assert.notEqual(po.code, 0, `podman pulled ${ref}`);
      assert.match(po.stderr, /[Ss]ignature/);
    }
  });

  test('berth verify --gpg-key accepts skopeo\'s signature; skopeo accepts berth sign --gpg-key\'s', async () => {
    await push('v1', `${server.host}/both/app:v1`, '--sign-by', key.fingerprint);
    const v = await berth(['verify', '--gpg-key', key.publicKey, `${server.host}/both/app:v1`], env);
    assert.equal(v.code, 0, output(v));
    assert.match(v.stdout, new RegExp(`VALID   simple signing by ${key.fingerprint} signed "${server.host}/both/app:v1"`));

    await push('v2', `${server.host}/both/berth:v1`);
    const p = policy(server.host);
    assert.notEqual((await skopeoPull(p, `${server.host}/both/berth:v1`)).code, 0, 'unsigned yet');
    const s = await berth(['sign', '--gpg-key', key.privateKey, `${server.host}/both/berth:v1`], env);
    assert.equal(s.code, 0, output(s));
    const pulled = await skopeoPull(p, `${server.host}/both/berth:v1`);
    assert.equal(pulled.code, 0, pulled.stderr);
    const again = await berth(['sign', '--gpg-key', key.privateKey, `${server.host}/both/berth:v1`], env);
    assert.match(again.stdout, /Stored simple signature/);
    assert.equal((await sigs('both/berth', await head('both/berth', 'v1'))).signatures.length, 2, 'a second signature is added, the first kept');
  });

  test('berth copy takes the signature to another berth serve (skopeo verifies it there) and to an OCI layout (berth verifies it)', async () => {
    await push('v1', `${server.host}/copy/app:v1`, '--sign-by', key.fingerprint);
    const second = await startBerth();
    try {
      const c = await berth(['copy', `${server.host}/copy/app:v1`, `${second.host}/copy/app:v1`], env);
      assert.equal(c.code, 0, output(c));
      assert.match(c.stdout, /1 simple signature\(s\)/);
      const s = await skopeoPull(policy(second.host, server.host), `${second.host}/copy/app:v1`);
      assert.equal(s.code, 0, s.stderr);
      const out = join(tempDir('berth-copy-'), 'layout');
      assert.equal((await berth(['copy', `${second.host}/copy/app:v1`, `oci:${out}:v1`], env)).code, 0);
      const v = await berth(['verify', '--gpg-key', key.publicKey, `oci:${out}:v1`], env);
      assert.equal(v.code, 0, output(v));
    } finally {
      await second.stop();
    }
  });

  test('extension bad input: 100 MB, an unknown digest, not a signature: clear errors, nothing stored; signatures go with their manifest', async () => {
    await push('v1', `${server.host}/bad/app:v1`, '--sign-by', key.fingerprint);
    const digest = await head('bad/app', 'v1');
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}/extensions/v2/bad/app/signatures/${digest}`, { method: 'PUT', headers: { 'Content-Length': String(100 << 20), 'Content-Type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode!, body });
        });
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024, 0x41));
    });
    assert.equal(big.status, 413, 'refused before the body was read');
    assert.match(big.body, /SIZE_INVALID/);
    const put = (d: string, body: unknown) => fetch(`${server.url}/extensions/v2/bad/app/signatures/${d}`, { method: 'PUT', body: JSON.stringify(body) });
    const valid = (await sigs('bad/app', digest)).signatures[0]!;
    const unknown = `sha256:${'1'.repeat(64)}`;
    const r404 = await put(unknown, { ...valid, name: `${unknown}@abc` });
    assert.equal(r404.status, 404);
    assert.match(await r404.text(), /MANIFEST_UNKNOWN/);
    const garbage = await put(digest, { schemaVersion: 2, type: 'atomic', name: `${digest}@x`, content: Buffer.from('not pgp').toString('base64') });
    assert.equal(garbage.status, 400);
    assert.match(await garbage.text(), /not an OpenPGP message/);
    assert.equal((await sigs('bad/app', digest)).signatures.length, 1, 'nothing was stored');

    const del = await fetch(`${server.url}/v2/bad/app/manifests/${digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal((await fetch(`${server.url}/extensions/v2/bad/app/signatures/${digest}`)).status, 404);
    await push('v1', `${server.host}/bad/app:v1`);
    assert.equal((await sigs('bad/app', digest)).signatures.length, 0, 'the re-pushed manifest does not inherit the deleted one\'s signature');
  });

});
