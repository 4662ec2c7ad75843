import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { until } from '../helpers/wait.js';
import { blob, imageConfig, imageManifest } from '../helpers/oci.js';
import { seedIndex } from '../helpers/seed.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { databaseLoaded, pushLayout, scanMirror, SEMVER_ADVISORY, writeUiScanImages } from './scan-images.js';
import { basic, htpasswdFile, pushImage } from '../auth/helpers.js';

const PASSWORDS = { admin: 'admin-Api-1', dev: 'dev-Api-2' };
const skip = missingTools('htpasswd');
/** Repositories seeded into the index: listings must page through them, never load them. */
const SEEDED = 10_000;

interface RepositoryList {
  repositories: { name: string; uniqueBytes?: number }[];
  offset: number;
  total?: number;
}
interface Session {
  user: string | null;
  csrf: string | null;
  operator: boolean;
}

/**
 * The /berth/v1/ routes the web UI reads, as a script calls them: every one
 * that names a repository refuses a caller who may not pull it exactly as it
 * refuses one that does not exist; listings and layer sharing never name a
 * hidden repository; a UI session is a cookie that /v2/ ignores, and its
 * changes need the CSRF token and the registry's own origin.
 */
describe('the web UI’s JSON API', { skip }, () => {
  let server: BerthServer;
  const admin = basic('admin', PASSWORDS.admin);
  const dev = basic('dev', PASSWORDS.dev);
  const base = blob('the base layer both images use\n');
  const config = imageConfig();
  const appImage = { blobs: [config, base, blob('the app layer\n')], manifest: imageManifest(config, [base, blob('the app layer\n')]) };
  const vaultImage = { blobs: [config, base, blob('the vault layer\n')], manifest: imageManifest(config, [base, blob('the vault layer\n')]) };

  before(async () => {
    const dir = tempDir('berth-ui-api-');
    const dataDir = join(dir, 'data');
    await seedIndex(join(dataDir, 'berth.db'), SEEDED, 2);
    server = await startBerth({
      dataDir,
      config: `auth:
  htpasswd: ${htpasswdFile(dir, PASSWORDS)}
access:
  - { repos: "**", users: [admin], actions: ["*"] }
  - { repos: "dev/**", users: [dev], actions: [pull, push, delete] }
  - { repos: "public/**", anonymous: true, actions: [pull] }
ui:
  sessionsPerUser: 2
`,
    });
    assert.deepEqual(await pushImage(server.url, 'dev/app', '1', dev, appImage), [201, 201, 201, 201]);
    assert.deepEqual(await pushImage(server.url, 'dev/app', '2', dev, appImage), [201, 201, 201, 201]);
    assert.deepEqual(await pushImage(server.url, 'secret/vault', '1', admin, vaultImage), [201, 201, 201, 201]);
  });
  after(() => server?.stop());

  const get = async (path: string, headers: Record<string, string>) => {
    const r = await fetch(`${server.url}${path}`, { headers });
    return { status: r.status, text: await r.text(), headers: r.headers };
  };
  const tagExists = async (repo: string, tag: string) => (await fetch(`${server.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: admin })).status === 200;

  async function logIn(user: keyof typeof PASSWORDS, password: string = PASSWORDS[user]): Promise<{ status: number; setCookie: string | null; cookie: string; session: Session }> {
    const r = await fetch(`${server.url}/berth/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Berth-UI': '1' }, body: JSON.stringify({ username: user, password }) });
    const setCookie = r.headers.get('set-cookie');
    return { status: r.status, setCookie, cookie: setCookie?.split(';', 1)[0] ?? '', session: (await r.json()) as Session };
  }
  const asUi = (cookie: string, extra: Record<string, string> = {}) => ({ Cookie: cookie, 'X-Berth-UI': '1', ...extra });

  test('every route naming a repository refuses a hidden one exactly like one that does not exist, by password and by UI session', async () => {
    const digest = vaultImage.manifest.digest;
    const routes = [
      'GET /berth/v1/repositories/REPO/tags',
      'GET /berth/v1/repositories/REPO/tag-history',
      'GET /berth/v1/repositories/REPO/tags/1/history',
      `GET /berth/v1/repositories/REPO/manifests/${digest}`,
      `GET /berth/v1/repositories/REPO/manifests/${digest}/content`,
      `GET /berth/v1/repositories/REPO/manifests/${digest}/signatures`,
      `GET /berth/v1/sharing?image=REPO@${digest}`,
      'GET /berth/v1/usage?repo=REPO',
      'DELETE /berth/v1/repositories/REPO/tags/1',
      `DELETE /berth/v1/repositories/REPO/manifests/${digest}`,
    ];
    const { cookie, session } = await logIn('dev');
    for (const [who, headers] of [['dev by password', dev], ['dev by session', asUi(cookie, { 'X-CSRF-Token': session.csrf! })], ['anonymous', {}]] as const) {
      for (const route of routes) {
        const [method, path] = route.split(' ') as [string, string];
        const ask = async (repo: string) => {
          const r = await fetch(`${server.url}${path.replace('REPO', repo)}`, { method, headers });
          return { status: r.status, body: (await r.text()).replaceAll(repo, 'REPO') };
        };
        const hidden = await ask('secret/vault');
        assert.ok(hidden.status === 401 || hidden.status === 403, `${who}: ${route} on secret/vault answered ${hidden.status}`);
        assert.deepEqual(hidden, await ask('secret/none'), `${who}: ${route} tells secret/vault from a repository that does not exist`);
      }
    }
    assert.ok(await tagExists('secret/vault', '1'), 'nothing was deleted');
    const allowed = await get(`/berth/v1/repositories/dev/app/manifests/${appImage.manifest.digest}`, dev);
    assert.equal(allowed.status, 200, 'dev may see its own image');
  });

  test('listings, search and layer sharing name only repositories the caller may pull; registry-wide figures are for operators', async () => {
    const list = async (query: string, headers: Record<string, string>) => {
      const r = await get(`/berth/v1/repositories?${query}`, headers);
      assert.equal(r.status, 200, r.text);
      return JSON.parse(r.text) as RepositoryList;
    };
    const mine = await list('q=a', dev);
    assert.deepEqual(mine.repositories.map((r) => r.name), ['dev/app']);
    assert.equal(mine.total, undefined, 'a count of every repository is for operators');
    assert.doesNotMatch(JSON.stringify(mine), /secret/);
    const everything = await list('q=vault', admin);
    assert.deepEqual(everything.repositories.map((r) => r.name), ['secret/vault']);
    assert.equal((await list('n=1', admin)).total, SEEDED + 2);

    const unique = await get('/berth/v1/repositories?sort=unique', dev);
    assert.equal(unique.status, 403, 'sorting by unique bytes would reveal what other repositories share');
    assert.match(JSON.parse(unique.text).errors[0].message, /usage action on every repository/);

    const holders = async (headers: Record<string, string>) => {
      const r = await get(`/berth/v1/repositories/dev/app/manifests/${appImage.manifest.digest}`, headers);
      const page = JSON.parse(r.text) as { layers: { items: { digest: string; holders: { repository: string }[] }[] } };
      return page.layers.items.find((l) => l.digest === base.digest)!.holders.map((h) => h.repository).sort();
    };
    assert.deepEqual(await holders(admin), ['secret/vault'], 'an operator sees every other image holding the base layer');
    assert.deepEqual(await holders(dev), [], 'dev never learns that secret/vault holds it too');

    const sharing = await get(`/berth/v1/sharing?image=dev/app@${appImage.manifest.digest}&image=secret/vault@${vaultImage.manifest.digest}`, dev);
    assert.equal(sharing.status, 403, 'comparing with a hidden image is refused');
    assert.equal((await get(`/berth/v1/sharing?image=dev/app@${appImage.manifest.digest}&image=dev/app@${appImage.manifest.digest}`, dev)).status, 200);
    assert.equal((await get('/berth/v1/sharing?image=dev/app', dev)).status, 400);
  });

  test(`${SEEDED.toLocaleString('en')} repositories come a page at a time, each page linking the next`, async () => {
    let path = '/berth/v1/repositories?n=100';
    const seen: string[] = [];
    for (let page = 0; page < 3; page++) {
      const r = await get(path, admin);
      const body = JSON.parse(r.text) as RepositoryList;
      assert.equal(body.repositories.length, 100);
      seen.push(...body.repositories.map((x) => x.name));
      const next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '');
      assert.ok(next, `page ${page} links the next`);
      path = next[1]!;
    }
    assert.equal(new Set(seen).size, 300, 'pages do not overlap');
    assert.deepEqual(seen, [...seen].sort(), 'in name order');
    const last = await get(`/berth/v1/repositories?n=100&offset=${SEEDED - 50}`, admin);
    assert.equal((JSON.parse(last.text) as RepositoryList).repositories.length, 52, 'the last page holds the rest');
    assert.equal(last.headers.get('link'), null, 'and links nothing');
    const bigFirst = JSON.parse((await get('/berth/v1/repositories?sort=stored&n=5', admin)).text) as RepositoryList;
    assert.equal(bigFirst.repositories.length, 5);
    const bad = await get('/berth/v1/repositories?sort=colour', admin);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).errors[0].message, /invalid sort "colour": expected one of/);
  });

  test('a login is a session cookie (HttpOnly, SameSite=Strict) that /v2/ ignores; logging out ends it; sessions per user are bounded', async () => {
    const wrong = await logIn('dev', 'not-the-password');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.setCookie, null);

    const { status, setCookie, cookie, session } = await logIn('dev');
    assert.equal(status, 200);
    assert.match(setCookie!, /; HttpOnly/);
    assert.match(setCookie!, /; SameSite=Strict/);
    assert.match(setCookie!, /; Path=\/berth\//);
    assert.doesNotMatch(setCookie!, /Secure/, 'plain HTTP: a Secure cookie would never come back');
    assert.equal(session.user, 'dev');
    assert.equal(session.operator, false);
    assert.equal((await get('/berth/v1/repositories/dev/app/tags', asUi(cookie))).status, 200, 'the session pulls what dev may');
    assert.equal((await get('/berth/v1/repositories/secret/vault/tags', asUi(cookie))).status, 403);
    assert.equal((await get('/v2/dev/app/tags/list', { Cookie: cookie })).status, 401, 'the /v2/ API never takes the UI cookie');
    assert.equal((await get('/berth/v1/operations', asUi(cookie))).status, 403, 'operations are for operators');
    assert.equal((await fetch(`${server.url}/berth/v1/gc/dry-run`, { method: 'POST', headers: asUi(cookie, { 'X-CSRF-Token': session.csrf! }) })).status, 403);

    const out = await fetch(`${server.url}/berth/v1/session`, { method: 'DELETE', headers: asUi(cookie, { 'X-CSRF-Token': session.csrf! }) });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((JSON.parse((await get('/berth/v1/session', asUi(cookie))).text) as Session).user, null, 'the cookie no longer opens a session');

    const first = await logIn('dev');
    await logIn('dev');
    await logIn('dev');
    assert.equal((JSON.parse((await get('/berth/v1/session', asUi(first.cookie))).text) as Session).user, null, 'a third login ends the oldest of two');
  });

  test('a change needs its session’s CSRF token and the registry’s own origin, however the caller authenticates', async () => {
    const { cookie, session } = await logIn('dev');
    const del = (headers: Record<string, string>) => fetch(`${server.url}/berth/v1/repositories/dev/app/tags/2`, { method: 'DELETE', headers });
    const refused = async (headers: Record<string, string>, why: RegExp) => {
      const r = await del(headers);
      assert.equal(r.status, 403);
      assert.match(JSON.parse(await r.text()).errors[0].message, why);
    };
    await refused(asUi(cookie), /CSRF token/);
    await refused(asUi(cookie, { 'X-CSRF-Token': `${session.csrf!.slice(1)}x` }), /CSRF token/);
    await refused({ Cookie: cookie }, /CSRF token/);
    await refused(asUi(cookie, { 'X-CSRF-Token': session.csrf!, Origin: 'http://evil.example' }), /cross-site request refused/);
    await refused({ ...admin, 'Sec-Fetch-Site': 'cross-site' }, /cross-site request refused/);
    const form = await fetch(`${server.url}/berth/v1/session`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ username: 'dev', password: PASSWORDS.dev }) });
    assert.equal(form.status, 415, 'a login must be JSON, which no HTML form can send');
    assert.ok(await tagExists('dev/app', '2'), 'no refused request deleted the tag');

    const ok = await del(asUi(cookie, { 'X-CSRF-Token': session.csrf!, Origin: server.url }));
    assert.equal(ok.status, 200, await ok.text());
    assert.equal(await tagExists('dev/app', '2'), false);
    assert.ok(await tagExists('dev/app', '1'), 'the other tag on the same image stays');
    const moves = JSON.parse((await get('/berth/v1/repositories/dev/app/tag-history', dev)).text) as { moves: { tag: string; to: string | null; actor: string | null }[] };
    assert.deepEqual(
      moves.moves.filter((m) => m.tag === '2').map((m) => ({ to: m.to, actor: m.actor })),
      [
        { to: null, actor: 'dev' },
        { to: appImage.manifest.digest, actor: 'dev' },
      ],
      'the tag history records the delete and who did it',
    );
  });

  test('a GC dry run frees nothing, says what a collection would, and operations record it', async () => {
    const before = await get('/berth/v1/operations', admin);
    assert.equal(before.status, 200);
    const run = await fetch(`${server.url}/berth/v1/gc/dry-run`, { method: 'POST', headers: admin });
    assert.equal(run.status, 200);
    const summary = (await run.json()) as { freedBytes: number; blobs: number };
    assert.equal(typeof summary.freedBytes, 'number');
    assert.ok(await tagExists('secret/vault', '1'));
    const runs = (JSON.parse((await get('/berth/v1/operations', admin)).text) as { gcRuns: { dryRun: boolean; freedBytes: number }[] }).gcRuns;
    assert.equal(runs.length, (JSON.parse(before.text) as { gcRuns: unknown[] }).gcRuns.length + 1);
    assert.deepEqual({ dryRun: runs[0]!.dryRun, freedBytes: runs[0]!.freedBytes }, { dryRun: true, freedBytes: summary.freedBytes });
  });
});

describe('the UI can be moved under a prefix or turned off, and /v2/ stays as it is', () => {
  test('ui.prefix: /ui/ serves the pages there with a strict Content-Security-Policy', async () => {
    const server = await startBerth({ config: 'ui:\n  prefix: /ui/\n' });
    try {
      const page = await fetch(`${server.url}/ui/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="app">/);
      const csp = page.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      // Compressed when asked for, the same bytes unpacked, twice (the second from what the first compressed).
      const plain = await (await request(`${server.url}/ui/`)).body.arrayBuffer();
      for (let i = 0; i < 2; i++) {
        const packed = await request(`${server.url}/ui/`, { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(packed.headers['content-encoding'], 'gzip');
        assert.deepEqual(gunzipSync(Buffer.from(await packed.body.arrayBuffer())), Buffer.from(plain));
      }
      assert.equal((await fetch(`${server.url}/ui`, { redirect: 'manual' })).headers.get('location'), '/ui/');
      assert.equal((await fetch(`${server.url}/`)).status, 404);
      assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('ui.enabled: false serves no page and no session API', async () => {
    const server = await startBerth({ config: 'ui:\n  enabled: false\n' });
    try {
      assert.equal((await fetch(`${server.url}/`)).status, 404);
      assert.equal((await fetch(`${server.url}/berth/v1/session`)).status, 404);
      assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});

interface ScanState {
  state: string;
  database?: { updatedAt: string | null };
  summary?: { vulnerabilities: Record<string, number>; secrets: Record<string, number>; worst?: { vulnerabilities: Record<string, string>[]; secrets: { rule: string; where: string }[] } };
}
interface TagList {
  scanning: boolean;
  tags: { tag: string; scan?: ScanState }[];
}

describe('scan states in the tag list and on the image page', { skip: missingTools('skopeo') }, () => {
  test('a scanned image’s tag carries its counts, one pushed while scanning was off says so, and the image page has the findings, secrets redacted', async () => {
    const dataDir = join(tempDir('berth-ui-scan-'), 'data');
    const images = await writeUiScanImages();
    const tools = new Tools();
    const tagsOf = async (server: BerthServer, repo: string) => {
      const r = await fetch(`${server.url}/berth/v1/repositories/${repo}/tags`);
      assert.equal(r.status, 200);
      return (await r.json()) as TagList;
    };

    const unscanning = await startBerth({ dataDir });
    try {
      await pushLayout(tools, unscanning, images.clean.layout, 'team/old:v1');
      const before = await tagsOf(unscanning, 'team/old');
      assert.equal(before.scanning, false);
      assert.equal(before.tags[0]!.scan, undefined, 'no scan column where the registry does not scan');
    } finally {
      await unscanning.stop();
    }

    const { mirror, config } = await scanMirror();
    const server = await startBerth({ dataDir, config });
    try {
      await databaseLoaded(server);
      await pushLayout(tools, server, images.vulnerable.layout, 'team/app:v1');
      let app: ScanState | undefined;
      await until(async () => {
        app = (await tagsOf(server, 'team/app')).tags[0]!.scan!;
        if (app.state !== 'scanned') assert.match(app.state, /^(queued|running)$/, 'until its result is stored, the tag says its scan is on its way');
        return app.state === 'scanned';
        // Scans run in worker threads beside other suites on a 2-core CI: room, not a timing claim.
      }, 'the scan of team/app:v1', 90_000);
      assert.equal(app!.summary!.vulnerabilities.HIGH, 1);
      assert.equal(app!.summary!.secrets.HIGH! + app!.summary!.secrets.CRITICAL!, 1, 'the access key is flagged');
      assert.equal(app!.summary!.worst, undefined, 'a tag list carries counts, not findings');
      assert.deepEqual((await tagsOf(server, 'team/old')).tags.map((t) => [t.tag, t.scan]), [['v1', { state: 'none' }]], 'pushed while scanning was off: not scanned');

      const page = await fetch(`${server.url}/berth/v1/repositories/team/app/manifests/${images.vulnerable.digest}`);
      const text = await page.text();
      const scan = (JSON.parse(text) as { scan: ScanState }).scan;
      assert.equal(scan.state, 'scanned');
      assert.ok(scan.database!.updatedAt, 'the database time');
      const { id, package: pkg, installed, fixed, severity } = SEMVER_ADVISORY;
      assert.deepEqual(scan.summary!.worst!.vulnerabilities, [{ id, package: pkg, installed, fixed, severity }]);
      assert.deepEqual(scan.summary!.worst!.secrets.map((s) => `${s.rule} ${s.where}`), ['aws-access-key-id root/.aws/credentials:2, layer 2']);
      assert.ok(!text.includes(images.vulnerable.key), 'the secret itself is nowhere in the answer');
    } finally {
      await server.stop();
      await mirror.close();
    }
  });
});
