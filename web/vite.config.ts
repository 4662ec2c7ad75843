import { defineConfig } from 'vite';

/**
 * The web UI, built by `npm ci` (prepare) and `npm run build` into dist/ui,
 * which `berth serve` serves under `ui.prefix`. Relative asset URLs, so one
 * build works under any prefix; no inline script (the page's CSP forbids it).
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: true,
    target: 'es2022',
  },
  logLevel: 'warn',
});
