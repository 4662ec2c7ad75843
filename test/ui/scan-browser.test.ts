import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startBerth, type BerthServer } from '../helpers/berth.js';
import { accessibilityProblems, CHROMIUM, launchBrowser, PageProblems, screenshot } from '../helpers/browser.js';
import type { MirrorServer } from '../helpers/osv.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { databaseLoaded, pushLayout, scanMirror, SEMVER_ADVISORY, writeUiScanImages, type UiScanImages } from './scan-images.js';

/**
 * The scan summary in a real browser: a registry that scans on push, with
 * its database from a loopback OSV mirror; skopeo pushes a vulnerable image
 * (with a secret) and a clean one. A server of its own, so the UI suite's
 * many images are not all scanned, and this test runs alone in seconds.
 */
describe('the web UI shows scans', { skip: missingTools('skopeo', CHROMIUM) }, () => {
  let server: BerthServer;
  let mirror: MirrorServer;
  let images: UiScanImages;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let problems: PageProblems;

  before(async () => {
    images = await writeUiScanImages();
    const scan = await scanMirror();
    mirror = scan.mirror;
    server = await startBerth({ config: scan.config });
    await databaseLoaded(server);
    const tools = new Tools();
    await pushLayout(tools, server, images.vulnerable.layout, 'team/app:v1');
    await pushLayout(tools, server, images.clean.layout, 'team/app:clean');
    for (const digest of [images.vulnerable.digest, images.clean.digest]) {
      // Scans run in worker threads beside other suites on a 2-core CI: room, not a timing claim.
      await until(async () => (await fetch(`${server.url}/berth/v1/repositories/team/app/manifests/${digest}/scan`)).status === 200, `the scan of ${digest}`, 90_000);
    }
    browser = await launchBrowser();
    page = await browser.context.newPage();
    problems = new PageProblems(page);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await mirror?.close();
  });

  async function settle(shot: string): Promise<void> {
    await page.waitForLoadState('networkidle');
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
    assert.deepEqual(problems.take(), [], `the page at ${page.url()} had problems`);
    assert.deepEqual(await accessibilityProblems(page), [], `axe found serious problems at ${page.url()}`);
    await screenshot(page, shot);
  }

  test('the tag list counts each image’s findings by severity and flags secrets; the image page lists them, secrets by where they are', async () => {
    await page.goto(`${server.url}/#/r/team/app`);
    await settle('repository-scan');
    const row = (tag: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: tag, exact: true }) });
    assert.match(await row('v1').innerText(), /1 high\s+1 secret/);
    assert.match(await row('clean').innerText(), /no known vulnerabilities/);
    assert.doesNotMatch(await row('clean').innerText(), /secret/);

    await row('v1').getByRole('link', { name: 'v1', exact: true }).click();
    await settle('image-scan');
    const section = page.getByRole('region', { name: 'Vulnerabilities and secrets' });
    const text = await section.innerText();
    assert.match(text, /with the vulnerability database of /);
    const advisory = await section.getByRole('row', { name: new RegExp(SEMVER_ADVISORY.id) }).innerText();
    for (const field of [SEMVER_ADVISORY.package, SEMVER_ADVISORY.installed, SEMVER_ADVISORY.fixed, 'high']) assert.ok(advisory.includes(field), `${field} in "${advisory}"`);
    assert.match(text, /aws-access-key-id\s+root\/\.aws\/credentials:2, layer 2/);
    assert.ok(!(await page.content()).includes(images.vulnerable.key), 'the secret itself is not on the page');

    const report = await section.getByRole('link', { name: 'Full report (JSON)' }).getAttribute('href');
    const body = (await (await fetch(`${server.url}${report}`)).json()) as { digest: string; summary: { vulnerabilities: { HIGH: number } } };
    assert.deepEqual([body.digest, body.summary.vulnerabilities.HIGH], [images.vulnerable.digest, 1], 'the link is the image’s full report');
  });
});
