import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import { REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { blob, sha256 } from '../helpers/oci.js';
import { Raw } from '../helpers/registry-client.js';
import { berthEnv, cosignKeys, output, pushImage } from '../helpers/signing.js';
import { must, missingTools } from '../helpers/tools.js';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/sign/cosign-key.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const PAYLOAD = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIG = 'dev.cosignproject.cosign/signature';
const tag = (digest: string) => `${digest.replace(':', '-')}.sig`;

describe('cosign signatures: berth sign --key and berth verify', { skip: missingTools('openssl') }, () => {
  let server: BerthServer;
  let raw: Raw;
  let dir: string;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  let other: Awaited<ReturnType<typeof cosignKeys>>;
  const env = berthEnv();
  const signEnv = () => ({ ...env, BERTH_KEY_PASSWORD: keys.password });
  const verify = (ref: string, ...flags: string[]) => berth(['verify', '--key', keys.pub, ...flags, ref], env);
  const sigManifest = async (repo: string, digest: string) => JSON.parse(await (await raw.fetch(`/v2/${repo}/manifests/${tag(digest)}`, { headers: { Accept: MANIFEST } })).text());

  before(async () => {
    dir = tempDir('berth-cosign-');
    server = await startBerth();
    raw = new Raw(server.url);
    [keys, other] = await Promise.all([cosignKeys(dir), cosignKeys(dir, 'other')]);
  });
  after(() => server?.stop());

  test('sign, then verify: accepted, with what was signed; another key, unsigned: refused with their exit codes', async () => {
    const digest = await pushImage(server, 'team/app:v1', 'app v1');
    const signed = await berth(['sign', '--key', keys.key, '-a', 'env=prod', `${server.host}/team/app:v1`], signEnv());
    assert.equal(signed.code, 0, output(signed));
    assert.match(signed.stdout, new RegExp(`Pushing signature to: ${server.host}/team/app:${tag(digest)}`));
    assert.match(signed.stdout, /Attached Sigstore bundle .* \(referrers API\)/);

    const ok = await verify(`${server.host}/team/app:v1`, '--annotation', 'env=prod');
    assert.equal(ok.code, 0, output(ok));
    assert.match(ok.stdout, new RegExp(`VALID   cosign \\.sig .*signed "${server.host}/team/app" ${digest}`));
    assert.match(ok.stdout, new RegExp(`VALID   sigstore bundle .*${digest}`));
    const json = JSON.parse((await verify(`${server.host}/team/app:v1`, '--json')).stdout) as { verified: boolean; signatures: { outcome: string }[] };
    assert.deepEqual([json.verified, json.signatures.map((s) => s.outcome)], [true, ['valid', 'valid']]);

    const wrongKey = await berth(['verify', '--key', other.pub, `${server.host}/team/app:v1`], env);
    assert.equal(wrongKey.code, 8, output(wrongKey));
    assert.match(wrongKey.stderr, /none of 2 signature\(s\) verifies with the given key/);
    const wrongAnnotation = await verify(`${server.host}/team/app:v1`, '--annotation', 'env=dev');
    assert.equal(wrongAnnotation.code, 9, output(wrongAnnotation));

    await pushImage(server, 'team/app:unsigned', 'never signed');
    const unsigned = await verify(`${server.host}/team/app:unsigned`);
    assert.equal(unsigned.code, 7, output(unsigned));
    assert.match(unsigned.stderr, /no signatures found/);

    // The registry's listing says which images carry a signature.
    const usage = (await (await raw.fetch('/berth/v1/usage?repo=team/app')).json()) as { repositories: { images: { tags: string[]; signed: boolean }[] }[] };
    const images = usage.repositories[0]!.images;
    assert.equal(images.find((i) => i.tags.includes('v1'))!.signed, true);
    assert.equal(images.find((i) => i.tags.includes('unsigned'))!.signed, false);
  });

  test('the classic form, field by field against cosign\'s SIGNATURE_SPEC; openssl verifies the signature', async () => {
    const digest = await pushImage(server, 'spec/app:v1', 'spec');
    assert.equal((await berth(['sign', '--key', keys.key, '-a', 'team=core', `${server.host}/spec/app:v1`], signEnv())).code, 0);
    // Signing again appends a layer, never replaces.
    assert.equal((await berth(['sign', '--key', other.key, `${server.host}/spec/app@${digest}`], { ...env, BERTH_KEY_PASSWORD: other.password })).code, 0);
    const m = await sigManifest('spec/app', digest);
    assert.equal(m.schemaVersion, 2);
    assert.equal(m.mediaType, MANIFEST);
    assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(m.layers.length, 2, 'the second signature was appended');
    const layer = m.layers[0];
    assert.equal(layer.mediaType, PAYLOAD);
    assert.match(layer.annotations[SIG], /^[A-Za-z0-9+/]+=*$/);
    const payload = Buffer.from(await (await raw.fetch(`/v2/spec/app/blobs/${layer.digest}`)).arrayBuffer());
    assert.equal(sha256(payload), layer.digest);
    assert.deepEqual(JSON.parse(payload.toString()), {
      critical: { identity: { 'docker-reference': `${server.host}/spec/app` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
      optional: { team: 'core' },
    });
    writeFileSync(join(dir, 'payload'), payload);
    writeFileSync(join(dir, 'sig.der'), Buffer.from(layer.annotations[SIG], 'base64'));
    assert.match(await must('openssl', ['dgst', '-sha256', '-verify', keys.pub, '-signature', join(dir, 'sig.der'), join(dir, 'payload')]), /Verified OK/);
  });

  test('the bundle form verifies with @sigstore/verify given the public key', async () => {
    const digest = await pushImage(server, 'bundle/app:v1', 'bundle');
    assert.equal((await berth(['sign', '--key', keys.key, `${server.host}/bundle/app:v1`], signEnv())).code, 0);
    const index = (await (await raw.fetch(`/v2/bundle/app/referrers/${digest}`)).json()) as { manifests: { digest: string; artifactType: string }[] };
    const referrer = index.manifests.find((d) => d.artifactType === 'application/vnd.dev.sigstore.bundle.v0.3+json')!;
    const m = JSON.parse(await (await raw.fetch(`/v2/bundle/app/manifests/${referrer.digest}`, { headers: { Accept: MANIFEST } })).text());
    assert.equal(m.subject.digest, digest);
    assert.equal(m.annotations['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
    const bundleJson = JSON.parse(await (await raw.fetch(`/v2/bundle/app/blobs/${m.layers[0].digest}`)).text());
    assert.equal(bundleJson.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const publicKey = createPublicKey(readFileSync(keys.pub));
    const trust = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [], publicKey: () => ({ publicKey, validFor: () => true }) };
    const signer = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundleJson)));
    assert.ok(signer.key.equals(publicKey), 'verified with the given key');
    const statement = JSON.parse(Buffer.from(bundleJson.dsseEnvelope.payload, 'base64').toString());
    assert.deepEqual(statement.subject[0].digest, { sha256: digest.slice(7) });
    // And with another key, the library refuses it.
    const otherKey = createPublicKey(readFileSync(other.pub));
    assert.throws(() => new Verifier({ ...trust, publicKey: () => ({ publicKey: otherKey, validFor: () => true }) }, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundleJson))));
  });

  test('a tampered payload, a payload for another digest, a corrupted annotation: refused, no crash', async () => {
    const a = await pushImage(server, 'tamper/app:a', 'image a');
    const b = await pushImage(server, 'tamper/app:b', 'image b');
    const c = await pushImage(server, 'tamper/app:c', 'image c');
    assert.equal((await berth(['sign', '--key', keys.key, `${server.host}/tamper/app:a`], signEnv())).code, 0);
    const m = await sigManifest('tamper/app', a);
    // Another digest: a's genuine signature manifest under b's tag.
    await raw.pushManifest('tamper/app', tag(b), blob(JSON.stringify(m)));
    const forB = await verify(`${server.host}/tamper/app:b`);
    assert.equal(forB.code, 9, output(forB));
    assert.match(forB.stdout, new RegExp(`valid signature, but for ${a}, not ${b}`));

    // Tampered: c's own digest in the payload, a's signature kept.
    const payload = blob(JSON.stringify({ critical: { identity: { 'docker-reference': `${server.host}/tamper/app` }, image: { 'docker-manifest-digest': c }, type: 'cosign container image signature' }, optional: null }));
    await raw.pushBlob('tamper/app', payload);
    const tampered = { ...m, layers: [{ ...m.layers[0], digest: payload.digest, size: payload.bytes.length }] };
    await raw.pushManifest('tamper/app', tag(c), blob(JSON.stringify(tampered)));
    const forC = await verify(`${server.host}/tamper/app:c`);
    assert.equal(forC.code, 8, output(forC));
    assert.match(forC.stdout, /does not verify with the given key/);

    const corrupted = { ...m, layers: [{ ...m.layers[0], annotations: { [SIG]: '!!not base64!!' } }] };
    await raw.pushManifest('tamper/app', tag(a), blob(JSON.stringify(corrupted)));
    const bad = await verify(`${server.host}/tamper/app@${a}`);
    // The bundle still verifies; the classic one is reported, not fatal.
    assert.equal(bad.code, 0, output(bad));
    assert.match(bad.stdout, /INVALID cosign \.sig: the signature annotation is not base64/);
  });

  test('a signature manifest with 10,000 layers: verify examines the first 100 and answers', async () => {
    const digest = await pushImage(server, 'huge/app:v1', 'huge');
    const payload = blob('{"critical":{}}');
    const config = blob('{}');
    await raw.pushBlob('huge/app', payload);
    await raw.pushBlob('huge/app', config);
    const layer = { mediaType: PAYLOAD, digest: payload.digest, size: payload.bytes.length, annotations: { [SIG]: 'MEUCIQ==' } };
    const m = blob(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: 2 }, layers: Array(10_000).fill(layer) }));
    assert.equal((await raw.pushManifest('huge/app', tag(digest), m)).status, 201);
    const r = await berth(['verify', '--key', keys.pub, '--json', `${server.host}/huge/app:v1`], env);
    assert.equal(r.code, 8, output(r));
    assert.equal((JSON.parse(r.stdout) as { signatures: unknown[] }).signatures.length, 100);
  });

  test('cosign\'s own key files sign; a wrong password and a non-ECDSA key are clear errors and store nothing', async () => {
    const digest = await pushImage(server, 'keys/app:v1', 'keys');
    for (const fixture of ['sigstore.key', 'cosign-label.key']) {
      const file = join(REPO_ROOT, 'test/fixtures/cosign', fixture);
      const pub = join(dir, `${fixture}.pub`);
      writeFileSync(pub, createPublicKey(await decryptPrivateKey(readFileSync(file, 'utf8'), 'hello', fixture)).export({ type: 'spki', format: 'pem' }));
      const s = await berth(['sign', '--key', file, `${server.host}/keys/app:v1`], { ...env, COSIGN_PASSWORD: 'hello' });
      assert.equal(s.code, 0, output(s));
      assert.equal((await berth(['verify', '--key', pub, `${server.host}/keys/app:v1`], env)).code, 0, fixture);
    }
    const wrong = await berth(['sign', '--key', keys.key, `${server.host}/keys/app:v1`], { ...env, BERTH_KEY_PASSWORD: 'not it' });
    assert.equal(wrong.code, 2, output(wrong));
    assert.match(wrong.stderr, /wrong password/);

    const fresh = await pushImage(server, 'keys/app:v2', 'keys v2');
    const rsa = join(dir, 'rsa.key');
    writeFileSync(rsa, await encryptPrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'pw'));
    const notEc = await berth(['sign', '--key', rsa, `${server.host}/keys/app:v2`], { ...env, BERTH_KEY_PASSWORD: 'pw' });
    assert.equal(notEc.code, 2, output(notEc));
    assert.match(notEc.stderr, /an RSA key; Berth signs and verifies cosign signatures with ECDSA P-256 keys/);
    const edPub = join(dir, 'ed.pub');
    writeFileSync(edPub, await must('sh', ['-c', 'openssl genpkey -algorithm ed25519 | openssl pkey -pubout']));
    const edVerify = await berth(['verify', '--key', edPub, `${server.host}/keys/app:v1`], env);
    assert.equal(edVerify.code, 2, output(edVerify));
    assert.match(edVerify.stderr, /an ED25519 key/);
    assert.equal((await raw.fetch(`/v2/keys/app/manifests/${tag(fresh)}`, { method: 'HEAD' })).status, 404, 'nothing was stored for v2');
    assert.ok(digest);
  });

  test('copied to another berth serve and to an OCI layout, the image still verifies (both forms)', async () => {
    const digest = await pushImage(server, 'copy/app:v1', 'copy me');
    assert.equal((await berth(['sign', '--key', keys.key, `${server.host}/copy/app:v1`], signEnv())).code, 0);
    const second = await startBerth();
    try {
      const layout = join(tempDir('berth-copy-'), 'layout');
      for (const dst of [`${second.host}/copy/app:v1`, `oci:${layout}:v1`]) {
        const c = await berth(['copy', `${server.host}/copy/app:v1`, dst], env);
        assert.equal(c.code, 0, output(c));
        const v = await berth(['verify', '--key', keys.pub, '--json', dst], env);
        assert.equal(v.code, 0, output(v));
        const kinds = (JSON.parse(v.stdout) as { signatures: { kind: string; outcome: string }[] }).signatures.filter((s) => s.outcome === 'valid').map((s) => s.kind);
        assert.deepEqual(kinds.sort(), ['bundle', 'cosign'], dst);
      }
      const bare = await berth(['copy', '--no-referrers', `${server.host}/copy/app:v1`, `${second.host}/bare/app:v1`], env);
      assert.equal(bare.code, 0, output(bare));
      assert.equal((await berth(['verify', '--key', keys.pub, `${second.host}/bare/app:v1`], env)).code, 7, '--no-referrers left them behind');
      assert.ok(digest);
    } finally {
      await second.stop();
    }
  });
});
