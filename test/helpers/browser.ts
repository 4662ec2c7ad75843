import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { REPO_ROOT, tempDir } from './berth.js';

/** Where browser tests write screenshots and measurements (gitignored). */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'ui');
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium, headless, with a fresh profile and none of its calls
 * home (this machine's network is closed: without these flags it retries
 * them at every start).
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir('berth-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Everything a page did wrong: console errors, uncaught exceptions, failed
 * requests and error answers, except those a test says it expects.
 */
export class PageProblems {
  private readonly problems: string[] = [];
  private readonly expected: RegExp[] = [];

  constructor(page: Page) {
    page.on('console', (m) => {
      if (m.type() === 'error' && !this.isExpected(m.text())) this.problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.problems.push(`uncaught: ${e.message}`));
    page.on('requestfailed', (r) => this.problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r: Response) => {
      const line = `${r.status()} ${r.request().method()} ${r.url()}`;
      if (r.status() >= 400 && !this.isExpected(line)) this.problems.push(`error answer: ${line}`);
    });
  }

  /** Lets answers (or console lines, which Chromium writes for them) matching `re` pass until `done` is called. */
  expect(re: RegExp): () => void {
    this.expected.push(re);
    return () => void this.expected.splice(this.expected.indexOf(re), 1);
  }

  /** The problems since the last call, cleared. */
  take(): string[] {
    return this.problems.splice(0);
  }

  private isExpected(text: string): boolean {
    return this.expected.some((re) => re.test(text));
  }
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA). */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
