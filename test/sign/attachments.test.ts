import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { startDistribution, type Distribution } from '../helpers/distribution-auth.js';
import { berthEnv, copyImageIn, cosignKeys, gpgKey, output, pushImage, type GpgKey } from '../helpers/signing.js';
import { missingTools } from '../helpers/tools.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SBOM = 'application/spdx+json';

describe('attachments: attach, referrers, artifact pull; CNCF Distribution falls back to tags; deletes take attachments along', { skip: missingTools('docker-registry', 'gpg') }, () => {
  let server: BerthServer;
  let distribution: Distribution;
  let gpg: GpgKey;
  let keys: Awaited<ReturnType<typeof cosignKeys>>;
  let dir: string;
  const env = berthEnv();
  const signEnv = () => ({ ...env, BERTH_KEY_PASSWORD: keys.password });

  before(async () => {
    dir = tempDir('berth-attach-');
    [server, distribution, gpg, keys] = await Promise.all([startBerth(), startDistribution(), gpgKey(), cosignKeys(join(dir, 'keys'))]);
    writeFileSync(join(dir, 'sbom.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'app' }));
  });
  after(async () => {
    await server?.stop();
    await distribution?.stop();
    await gpg?.close();
  });

  for (const which of ['berth', 'distribution'] as const) {
    test(`${which}: sign and attach, then verify, referrers and artifact pull find them`, async () => {
      const reg = which === 'berth' ? server : distribution;
      const digest = which === 'berth' ? await pushImage(reg, 'team/app:v1', `attach on ${which}`) : await copyImageIn(reg, 'team/app:v1', `attach on ${which}`, env);
      const ref = `${reg.host}/team/app:v1`;
      const s = await berth(['sign', '--key', keys.key, ref], signEnv());
      assert.equal(s.code, 0, output(s));
      // Distribution 2.8 has no referrers API: cosign's bundle form needs it, the classic .sig does not.
      assert.equal(/Attached Sigstore bundle/.test(s.stdout), which === 'berth', s.stdout);
      const a = await berth(['attach', '--json', '--artifact-type', SBOM, ref, `${join(dir, 'sbom.spdx.json')}:${SBOM}`], env);
      assert.equal(a.code, 0, output(a));
      const attached = JSON.parse(a.stdout) as { digest: string; via: string };
      assert.equal(attached.via, which === 'berth' ? 'referrers API' : 'referrers tag');
      if (which === 'distribution') {
        const tag = await fetch(`${reg.url}/v2/team/app/manifests/${digest.replace(':', '-')}`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } });
        assert.equal(tag.status, 200, 'the referrers tag index is there');
      }
      assert.equal((await berth(['verify', '--key', keys.pub, ref], env)).code, 0);
      const tree = await berth(['referrers', ref], env);
      assert.equal(tree.code, 0, output(tree));
      assert.match(tree.stdout, new RegExp(`${SBOM.replace('+', '\\+')}  ${attached.digest}`));
      assert.match(tree.stdout, /cosign signatures \(1\)/);
      const out = join(tempDir('berth-artifact-'), 'files');
      const p = await berth(['artifact', 'pull', `${reg.host}/team/app@${attached.digest}`, '-o', out], env);
      assert.equal(p.code, 0, output(p));
      assert.deepEqual(JSON.parse(readFileSync(join(out, 'sbom.spdx.json'), 'utf8')), { spdxVersion: 'SPDX-2.3', name: 'app' });
    });
  }

  test('distribution: GPG signing says the registry cannot store simple signatures, and stores nothing', async () => {
    const digest = await copyImageIn(distribution, 'gpg/app:v1', 'no extension here', env);
    const r = await berth(['sign', '--key', keys.key, '--gpg-key', gpg.privateKey, `${distribution.host}/gpg/app:v1`], signEnv());
    assert.equal(r.code, 1, output(r));
    assert.match(r.stderr, /cannot store simple \(GPG\) signatures: it does not implement the registry signature extension/);
    const sig = await fetch(`${distribution.url}/v2/gpg/app/manifests/${digest.replace(':', '-')}.sig`, { method: 'HEAD', headers: { Accept: MANIFEST } });
    assert.equal(sig.status, 404, 'refused before anything was written, the cosign signature too');
  });

  test('berth: deleting an image deletes its signatures and referrers; another image\'s stay', async () => {
    const gone = await pushImage(server, 'del/app:gone', 'to be deleted');
    const kept = await pushImage(server, 'del/app:kept', 'to be kept');
    for (const tag of ['gone', 'kept']) {
      assert.equal((await berth(['sign', '--key', keys.key, `${server.host}/del/app:${tag}`], signEnv())).code, 0);
      assert.equal((await berth(['attach', '--artifact-type', SBOM, `${server.host}/del/app:${tag}`, join(dir, 'sbom.spdx.json')], env)).code, 0);
    }
    const referrersOf = async (d: string) => ((await (await fetch(`${server.url}/v2/del/app/referrers/${d}`)).json()) as { manifests: { digest: string }[] }).manifests;
    const goneReferrers = await referrersOf(gone);
    assert.equal(goneReferrers.length, 2, 'the bundle and the SBOM');
    assert.equal((await fetch(`${server.url}/v2/del/app/manifests/${gone}`, { method: 'DELETE' })).status, 202);
    const tags = ((await (await fetch(`${server.url}/v2/del/app/tags/list`)).json()) as { tags: string[] }).tags;
    assert.deepEqual(tags.sort(), ['kept', `${kept.replace(':', '-')}.sig`].sort(), 'the .sig tag of the deleted image went with it');
    for (const r of goneReferrers) assert.equal((await fetch(`${server.url}/v2/del/app/manifests/${r.digest}`, { method: 'HEAD', headers: { Accept: MANIFEST } })).status, 404);
    assert.equal((await referrersOf(kept)).length, 2);
    assert.equal((await berth(['verify', '--key', keys.pub, `${server.host}/del/app:kept`], env)).code, 0);
  });
});
