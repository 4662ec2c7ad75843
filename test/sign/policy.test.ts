import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { blob } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { berthEnv, cosignKeys, gpgKey, output, pushImage, type GpgKey } from '../helpers/signing.js';
import { missingTools, Tools } from '../helpers/tools.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('policy.signatures: berth serve refuses unsigned images', { skip: missingTools('skopeo', 'podman', 'gpg', 'unshare') }, () => {
  let server: BerthServer;
  let raw: Raw;
  let tools: Tools;
  let gpg: GpgKey;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  const env = berthEnv();
  const signEnv = () => ({ ...env, BERTH_KEY_PASSWORD: keys.password });
  const get = (repo: string, ref: string) => raw.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST } });

  before(async () => {
    const dir = tempDir('berth-policy-');
    [keys, gpg] = await Promise.all([cosignKeys(dir), gpgKey()]);
    tools = new Tools();
    server = await startBerth({
      config: `policy:\n  signatures:\n    - { repos: "prod/**", keys: [${keys.pub}], gpgKeys: [${gpg.publicKey}], enforce: pull }\n    - { repos: "release/**", keys: [${keys.pub}], enforce: push }\n`,
    });
    raw = new Raw(server.url);
  });
  after(async () => {
    await server?.stop();
    await gpg?.close();
  });

  test('enforce pull: skopeo, podman and berth pull are refused with the policy\'s message; after signing they pull', async () => {
    const digest = await pushImage(server, 'prod/app:v1', 'prod app');
    const ref = `${server.host}/prod/app:v1`;
    const refused = await get('prod/app', 'v1');
    assert.equal(refused.status, 403);
    const body = (await refused.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /signature policy for "prod\/\*\*" \(enforce: pull\) refuses to serve prod\/app@sha256:[a-f0-9]{64}: it has no signatures\. Sign it by digest/);
    const sk = await tools.run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    assert.notEqual(sk.code, 0);
    assert.match(sk.stderr, /signature policy for \\?"prod\/\*\*\\?"/);
    const pm = await tools.run('podman', [...tools.storageFlags('podman'), 'pull', '--tls-verify=false', ref]);
    assert.notEqual(pm.code, 0);
    assert.match(pm.stderr, /signature policy for \\?"prod\/\*\*\\?"/);
    const bp = await berth(['pull', ref], env);
    assert.equal(bp.code, 4, output(bp));
    assert.match(bp.stderr, /signature policy for \\?"prod\/\*\*\\?"/);

    // Blobs stay readable (clients verify before they pull), and so do signatures once there.
    const s = await berth(['sign', '--key', keys.key, ref], signEnv());
    assert.equal(s.code, 0, output(s));
    assert.equal((await get('prod/app', 'v1')).status, 200, 'served once signed');
    assert.equal((await tools.run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).code, 0);
    assert.equal((await tools.run('podman', [...tools.storageFlags('podman'), 'pull', '--tls-verify=false', ref])).code, 0);
    assert.equal((await berth(['pull', ref], env)).code, 0);

    const api = (await (await raw.fetch(`/berth/v1/repositories/prod/app/manifests/${digest}/signatures`)).json()) as { signed: boolean; signatures: { kind: string; outcome: string; signer: string }[] };
    assert.equal(api.signed, true);
    assert.deepEqual(api.signatures.map((x) => [x.kind, x.outcome]).sort(), [['bundle', 'valid'], ['cosign', 'valid']]);
  });

  test('a GPG signature from skopeo --sign-by satisfies the policy too; a key the policy does not trust does not', async () => {
    const other = await cosignKeys(tempDir('berth-other-'), 'other');
    await pushImage(server, 'prod/gpg:v1', 'gpg signed');
    await pushImage(server, 'prod/untrusted:v1', 'other key');
    assert.equal((await berth(['sign', '--key', other.key, `${server.host}/prod/untrusted:v1`], { ...env, BERTH_KEY_PASSWORD: other.password })).code, 0);
    const untrusted = await get('prod/untrusted', 'v1');
    assert.equal(untrusted.status, 403);
    assert.match(await untrusted.text(), /none of its 2 signature\(s\) verifies with the policy's keys/);
    assert.equal((await get('prod/gpg', 'v1')).status, 403);
    assert.equal((await berth(['sign', '--gpg-key', gpg.privateKey, `${server.host}/prod/gpg:v1`], env)).code, 0);
    assert.equal((await get('prod/gpg', 'v1')).status, 200, 'the cached refusal was dropped when the signature arrived');
  });

  test('a 10,000-layer signature manifest in a protected repository: refused in bounded work, the server keeps serving', async () => {
    const digest = await pushImage(server, 'prod/huge:v1', 'huge');
    const payload = blob('{}');
    await raw.pushBlob('prod/huge', payload);
    const layer = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: payload.digest, size: 2, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' } };
    const m = blob(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: payload.digest, size: 2 }, layers: Array(10_000).fill(layer) }));
    assert.equal((await raw.pushManifest('prod/huge', `${digest.replace(':', '-')}.sig`, m)).status, 201);
    const r = await get('prod/huge', 'v1');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /none of its 100 signature\(s\) verifies/);
    assert.equal((await get('prod/huge', `${digest.replace(':', '-')}.sig`)).status, 200, 'the signature manifest itself stays readable');
    assert.equal((await raw.fetch('/v2/')).status, 200);
  });

  test('enforce push: a tag cannot move onto an unsigned digest; sign by digest, then tag', async () => {
    const image = await pushImage(server, 'scratch/app:v1', 'release me');
    const bytes = Buffer.from(await (await get('scratch/app', 'v1')).arrayBuffer());
    for (const b of JSON.parse(bytes.toString()).layers.concat([JSON.parse(bytes.toString()).config])) {
      const data = Buffer.from(await (await raw.fetch(`/v2/scratch/app/blobs/${b.digest}`)).arrayBuffer());
      await raw.pushBlob('release/app', blob(data));
    }
    const tagged = await raw.pushManifest('release/app', 'v1', blob(bytes));
    assert.equal(tagged.status, 403);
    assert.match(await tagged.text(), /enforce: push\) refuses to tag \\"v1\\" onto release\/app@/);
    assert.equal((await raw.pushManifest('release/app', image, blob(bytes))).status, 201, 'by digest it is accepted');
    assert.equal((await raw.pushManifest('release/app', 'v1', blob(bytes))).status, 403, 'still unsigned');
    assert.equal((await berth(['sign', '--key', keys.key, `${server.host}/release/app@${image}`], signEnv())).code, 0, 'the .sig tag itself may be written');
    assert.equal((await raw.pushManifest('release/app', 'v1', blob(bytes))).status, 201, 'signed: the tag moves');
    assert.equal((await get('release/app', 'v1')).status, 200, 'push enforcement does not gate pulls');
  });
});
