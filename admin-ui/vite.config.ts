import { defineConfig } from 'vite';

// The dashboard is served at /admin/ by both hosts; `npm run build` (scripts/build.mjs)
// runs this build into dist/admin/ and then adds the API-docs pages.
export default defineConfig({
  base: '/admin/',
  build: {
    outDir: 'dist/admin',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    // One small JS and one CSS file: nothing to split at this size.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a local `gatehouse serve` on :8000.
    proxy: { '/api': 'http://127.0.0.1:8000', '/admin/config.json': 'http://127.0.0.1:8000' },
  },
});
