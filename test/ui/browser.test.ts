import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { accessibilityProblems, ARTIFACTS, CHROMIUM, launchBrowser, PageProblems, screenshot } from '../helpers/browser.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { basic, htpasswdFile } from '../auth/helpers.js';
import { seedIndex } from '../helpers/seed.js';
import { pushUiImages, type UiImages } from './images.js';

const PASSWORDS = { admin: 'admin-Ui-1', dev: 'dev-Ui-2' };
const skip = missingTools('skopeo', 'umoci', 'htpasswd', CHROMIUM);
/** Repositories seeded into the index, so the first page is measured on a registry of this size. */
const SEEDED = 1000;

/**
 * The web UI in a real browser (Debian's chromium) against a real berth
 * serve holding images pushed by skopeo. Every page visited must load with
 * no console error and no failed or refused request (unless the test says it
 * expects one), and pass axe-core with no serious or critical finding.
 */
describe('the web UI', { skip }, () => {
  let server: BerthServer;
  let images: UiImages;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let problems: PageProblems;
  /** Bodies of every /berth/v1/ answer the page received: what a user could read in the developer tools. */
  let apiBodies: Promise<string>[] = [];
  const measurements: Record<string, unknown> = {};

  before(async () => {
    const dir = tempDir('berth-ui-');
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
quotas:
  dev: 10MiB
`,
    });
    images = await pushUiImages(new Tools(), server, basic('admin', PASSWORDS.admin), `admin:${PASSWORDS.admin}`);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    problems = new PageProblems(page);
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/berth/v1/')) apiBodies.push(r.text().catch(() => ''));
    });
  });
  after(async () => {
    writeFileSync(join(ARTIFACTS, 'measurements.json'), `${JSON.stringify(measurements, null, 2)}\n`);
    await browser?.close();
    await server?.stop();
  });

  /** Opens a UI place, waits until it settled, and checks it is clean and accessible. */
  async function visit(hash: string, shot?: string): Promise<void> {
    await page.goto(`${server.url}/${hash}`);
    await settle(shot);
  }

  /** Kinds of page axe checked already (a page, as whom, in which theme): axe takes seconds, and a page's structure does not change with its data. */
  const checked = new Set<string>();
  let viewer = 'anonymous';

  async function settle(shot?: string): Promise<void> {
    await page.waitForLoadState('networkidle');
    // A page still loading after the timeout is a failure, not something to wait out.
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
    assert.deepEqual(problems.take(), [], `the page at ${page.url()} had problems`);
    const kind = `${viewer} ${await page.evaluate(() => document.documentElement.dataset.theme)} ${pageKind(page.url())}`;
    if (!checked.has(kind)) {
      checked.add(kind);
      assert.deepEqual(await accessibilityProblems(page), [], `axe found serious problems at ${page.url()}`);
    }
    if (shot) await screenshot(page, shot);
  }

  async function logIn(user: keyof typeof PASSWORDS): Promise<void> {
    await browser.context.clearCookies();
    await visit('#/login');
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(PASSWORDS[user]);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(`Signed in as ${user}`).waitFor();
    viewer = user;
    await settle();
  }

  async function hiddenNamesSeen(hidden: RegExp): Promise<string[]> {
    const bodies = await Promise.all(apiBodies);
    apiBodies = [];
    return bodies.filter((b) => hidden.test(b)).map((b) => b.slice(0, 200));
  }

  test('anonymous visitors see only what the policy lets anonymous pull: pages, API answers, search', async () => {
    await visit('', 'repositories-anonymous');
    const rows = await page.locator('table.list tbody tr:not(.group) th, table.list tbody tr:not(.group) td:first-child').allInnerTexts();
    assert.deepEqual(rows.sort(), ['public/base', 'public/multi']);
    assert.doesNotMatch(await page.locator('main').innerText(), /secret|dev\/|seed\//);
    assert.ok(await page.getByRole('link', { name: 'Log in' }).isVisible(), 'a way to log in is offered');

    await page.getByLabel('Search repositories').fill('vault');
    await page.getByText('No repository you may see matches this search.').waitFor();
    await settle();
    assert.deepEqual(await hiddenNamesSeen(/secret\/vault|dev\/app|seed\/repo/), [], 'no API answer named a repository anonymous may not pull');

    const done = problems.expect(/401 GET .*\/berth\/v1\/repositories\/secret\/|the server responded with a status of 401/);
    await visit('#/r/secret/vault');
    const hidden = await page.locator('.note.error').innerText();
    await visit('#/r/secret/nothing-here');
    const missing = await page.locator('.note.error').innerText();
    done();
    assert.equal(hidden.replaceAll('vault', 'X'), missing.replaceAll('nothing-here', 'X'), 'a hidden repository is refused exactly like one that does not exist');
    await hiddenNamesSeen(/./);
  });

  test('a user who may pull only some repositories never sees the others, not even as sharers of a layer', async () => {
    await logIn('dev');
    await visit('', 'repositories-dev');
    const names = await page.locator('table.list tbody tr:not(.group) td:first-child').allInnerTexts();
    assert.deepEqual(names.sort(), ['dev/app', 'dev/big', 'dev/xss', 'public/base', 'public/multi']);
    await page.getByLabel('Search repositories').fill('e');
    await page.waitForURL(/q=e/);
    await settle();
    assert.doesNotMatch(await page.locator('main').innerText(), /secret|seed/);

    await visit(`#/r/dev/app@${images.app.digest}`);
    const sharers = await page.locator('table.list').first().innerText();
    assert.match(sharers, /public\/base:1/, 'dev sees that public/base shares the base layer');
    assert.doesNotMatch(await page.locator('main').innerText(), /secret/);
    assert.deepEqual(await hiddenNamesSeen(/secret|seed\/repo/), [], 'no API answer named secret/vault, which holds the same base layer');
    assert.equal(await page.getByRole('link', { name: 'Operations' }).count(), 0, 'operations are not offered to dev');
    await visit('#/r/public/base');
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0, 'dev may not delete in public/: no delete button');
    await visit(`#/r/public/base@${images.base.digest}`);
    assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0);
  });

  test('browse to an image: its layers with sizes, which other images share each, config, labels shown as text', async () => {
    await logIn('admin');
    await visit('', 'repositories');
    await page.getByRole('link', { name: 'dev/app' }).click();
    await settle('repository');
    await page.getByRole('row', { name: /^Compare the layers of 1/ }).getByRole('link', { name: '1', exact: true }).click();
    await settle('image');
    const layers = page.getByRole('region', { name: 'Layers' });
    const rows = await layers.locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 2, 'the base layer and the app layer');
    assert.match(rows[0]!, /public\/base:1/);
    assert.match(rows[0]!, /secret\/vault:1/, 'an operator sees every image sharing the base layer');
    assert.match(rows[0]!, new RegExp(sizeText(images.baseLayerSize)));
    assert.match(rows[1]!, /only this image/);
    assert.match(await page.getByRole('region', { name: 'How it runs' }).innerText(), /\/app\/main/);

    await visit(`#/r/public/multi@${images.multi.digest}`, 'index');
    const platforms = await page.getByRole('region', { name: 'Platforms' }).innerText();
    assert.match(platforms, /linux\/amd64/);
    assert.match(platforms, /linux\/arm64/);
  });

  test('HTML and script in labels, annotations, environment and search are shown as text and never run', async () => {
    await visit(`#/r/dev/xss@${images.xss.digest}`, 'image-hostile-text');
    const main = await page.locator('main').innerText();
    for (const text of images.xss.texts) assert.ok(main.includes(text), `shown literally: ${text}`);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no injected script ran');
    assert.equal(await page.locator('main img, main script, main b').count(), 0, 'no injected element exists');
    await page.getByRole('group').getByText('Show the manifest as stored').click();
    await page.locator('pre.raw').waitFor();
    assert.ok((await page.locator('pre.raw').innerText()).includes('<script>'), 'the raw manifest shows the annotation as text');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    await settle();

    await visit(`#/?q=${encodeURIComponent('<img src=x onerror=window.__xss=3>')}`);
    assert.equal(await page.getByLabel('Search repositories').inputValue(), '<img src=x onerror=window.__xss=3>');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  });

  test('a 4 MiB manifest renders in pages of layers and chunks of lines, and the page stays usable', async () => {
    await visit(`#/r/dev/big@${images.big.digest}`, 'image-4mib');
    const layers = page.getByRole('region', { name: 'Layers' });
    assert.equal(await layers.locator('tbody tr').count(), 100, 'one page of layers');
    assert.match(await layers.innerText(), new RegExp(`Layers 1–100 of ${images.big.layers.toLocaleString('en')}`));
    await page.getByRole('group').getByText('Show the manifest as stored').click();
    await page.getByText(/Showing 1,000 of [\d,]+ lines/).waitFor();
    const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
    assert.ok(nodes < 20_000, `the page holds ${nodes} elements, not one per layer of the manifest`);
    await layers.getByRole('button', { name: 'Next layers →' }).click();
    await layers.getByText('Layers 101–200').waitFor();
    await settle();
  });

  test('delete a tag: asked first, cancel keeps it, confirm removes it, and the tag history records who did', async () => {
    await logIn('dev');
    await visit('#/r/dev/app');
    await page.getByRole('button', { name: 'Delete tag 2' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete tag 2?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /stays in the registry/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'delete-tag-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/2`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 200, 'cancel deleted nothing');

    await page.getByRole('button', { name: 'Delete tag 2' }).click();
    await dialog.getByRole('button', { name: 'Delete tag 2' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Delete tag 2' }).waitFor({ state: 'detached' });
    await settle();
    assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/2`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 404, 'the tag is gone');
    assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/${images.app2.digest}`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 200, 'its image stays');

    await page.getByRole('link', { name: 'Tag history', exact: true }).click();
    await settle('tag-history');
    const latest = await page.locator('ol.timeline li').first().innerText();
    assert.match(latest, /^(just )?now$|seconds? ago/m);
    assert.match(latest, /2\s+deleted/);
    assert.match(latest, /by dev/);
  });

  test('delete an image: the dialog names every tag that goes with it and what it frees; confirming removes them all', async () => {
    await logIn('admin');
    for (const tag of ['2', 'also-2']) {
      const r = await fetch(`${server.url}/v2/dev/app/manifests/${tag}`, { method: 'PUT', body: images.app2.manifest as unknown as BodyInit, headers: { ...basic('admin', PASSWORDS.admin), 'Content-Type': images.app2.mediaType } });
      assert.equal(r.status, 201);
    }
    await visit(`#/r/dev/app@${images.app2.digest}`);
    await page.getByRole('button', { name: 'Delete this image…' }).click();
    const dialog = page.getByRole('dialog', { name: /^Delete dev\/app@sha256:/ });
    await dialog.getByText(/Frees [\d.]+ (B|KiB)/).waitFor();
    const text = await dialog.innerText();
    assert.match(text, /and with it these tags:\s*2\s*also-2/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'delete-image-dialog');
    await dialog.getByRole('button', { name: 'Delete image and its tags' }).click();
    await page.waitForURL(/#\/r\/dev\/app$/);
    await settle();
    for (const ref of ['2', 'also-2', images.app2.digest]) {
      assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/${ref}`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 404, `${ref} is gone`);
    }
    assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/1`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 200, 'the other image stays');
  });

  test('changes need the session’s CSRF token and the registry’s own origin', async () => {
    const del = (headers: Record<string, string>) =>
      page.evaluate(async (h) => (await fetch('/berth/v1/repositories/dev/app/tags/1', { method: 'DELETE', headers: h })).status, headers);
    const done = problems.expect(/403 DELETE|the server responded with a status of 403/);
    assert.equal(await del({ 'X-Berth-UI': '1' }), 403, 'no token');
    assert.equal(await del({ 'X-Berth-UI': '1', 'X-CSRF-Token': 'guess' }), 403, 'a wrong token');
    done();
    assert.equal((await fetch(`${server.url}/v2/dev/app/manifests/1`, { method: 'HEAD', headers: basic('admin', PASSWORDS.admin) })).status, 200, 'the tag is still there');

    // Another origin (another port of the same host): its page posts a login and a GC run to the registry.
    const evil = await crossOriginPage(server.url);
    try {
      const other = await browser.context.newPage();
      const answers = new Map<string, number>();
      other.on('response', (r) => answers.set(new URL(r.url()).pathname, r.status()));
      await other.goto(evil.url);
      await other.waitForURL(/\/berth\/v1\/session$/);
      await other.close();
      assert.equal(answers.get('/berth/v1/session'), 403, 'a login form posted from another origin is refused');
    } finally {
      evil.server.close();
    }
    problems.take();
  });

  test('storage: totals, the biggest repositories, and a chart of the layers selected images share', async () => {
    await logIn('admin');
    await visit('#/storage', 'storage');
    // The totals come from a worker-thread task; if they do not show, say what the page shows instead (a CI run once timed out here blind).
    const totals = await page
      .getByRole('region', { name: 'Disk used and what sharing saves' })
      .innerText({ timeout: 15_000 })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\nthe page shows: ${(await page.locator('body').innerText()).slice(0, 800)}\nproblems: ${problems.take().join('; ')}`);
      });
    assert.match(totals, /Saved by sharing/);
    assert.equal(await page.locator('canvas[role="img"]').count(), 2);

    await visit('#/r/dev/app');
    await page.getByLabel('Compare the layers of 1').check();
    await page.getByLabel('Compare the layers of 2').check().catch(() => {});
    await visit(`#/storage?compare=${encodeURIComponent(`dev/app@${images.app.digest},secret/vault@${images.vault.digest},public/base@${images.base.digest}`)}`, 'storage-compare');
    const region = page.getByRole('region', { name: 'Which layers images share' });
    assert.match(await region.innerText(), /These 3 images have 3 distinct layers, 1 of them shared/);
    const matrix = await region.locator('table.matrix tbody tr').allInnerTexts();
    assert.equal(matrix.length, 3);
  });

  test('operations: a GC dry run shows what it would free and is recorded; themes switch', async () => {
    await visit('#/operations');
    await page.getByRole('button', { name: 'Run a dry run' }).click();
    await page.getByText(/A collection now would free/).waitFor();
    await page.getByRole('cell', { name: 'dry run' }).first().waitFor();
    await settle('operations');

    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await visit('', 'repositories-dark');
    await visit(`#/r/dev/app@${images.app.digest}`, 'image-dark');
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
  });

  test('keyboard: skip link, then the search box and the table can be reached and used without a mouse', async () => {
    await visit('');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await page.getByLabel('Search repositories').focus();
    await page.keyboard.type('public');
    await page.waitForURL(/q=public/);
    await page.getByRole('link', { name: 'public/base' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/r\/public\/base$/);
    await settle();
  });

  test(`first paint of the repository list on a registry of ${SEEDED}+ repositories (reported, not asserted)`, async () => {
    const fresh = await browser.context.newPage();
    const p = new PageProblems(fresh);
    // An empty cache: what a first visit downloads.
    await (await browser.context.newCDPSession(fresh)).send('Network.clearBrowserCache');
    await fresh.goto(`${server.url}/`);
    await fresh.locator('table.list tbody tr').first().waitFor();
    const timing = await fresh.evaluate(() => {
      const paint = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const files = resources.filter((r) => !r.name.includes('/berth/v1/'));
      return {
        firstContentfulPaintMs: paint && Math.round(paint),
        tableShownMs: Math.round(performance.now()),
        pageWeightBytes: nav.transferSize + files.reduce((n, r) => n + r.transferSize, 0),
        apiCalls: resources.filter((r) => r.name.includes('/berth/v1/')).map((r) => ({ path: new URL(r.name).pathname + new URL(r.name).search, ms: Math.round(r.duration) })),
      };
    });
    measurements.firstPage = { repositories: SEEDED + 5, ...timing };
    console.log(`ui first page on ${SEEDED + 5} repositories: ${JSON.stringify(timing)}`);
    assert.deepEqual(p.take(), []);
    await fresh.close();
  });
});

/** What kind of page a UI address shows: the repository list, a repository, an image, a tag history, storage... */
function pageKind(url: string): string {
  const path = new URL(url).hash.replace(/\?.*$/, '');
  const repo = /^#\/r\/[^@~]+(@.+)?(~history)?$/.exec(path);
  if (!repo) return path || '#/';
  return repo[1] ? 'image' : repo[2] ? 'history' : 'repository';
}

/** "1.2 KiB" as the UI writes a size. */
function sizeText(n: number): string {
  const k = n / 1024;
  return k < 1 ? `${n} B` : `${k.toFixed(k < 10 ? 1 : 0)} KiB`;
}

/** A page on another origin whose form posts a login to the registry as soon as it loads. */
async function crossOriginPage(registry: string): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><title>elsewhere</title><form method="post" enctype="text/plain" action="${registry}/berth/v1/session">
<input name='{"username":"dev","password":"x","pad":"' value='"}'></form><script>document.forms[0].submit()</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.2:${port}/`, server };
}
