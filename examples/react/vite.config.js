import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// @gatehouse/client is the packed package (a fresh project's `npm install` of
// the tarball): its browser entry fetches the wasm as a URL asset
// (`new URL('./gatehouse_client_bg.wasm', import.meta.url)`), which Vite copies
// and hashes: no wasm plugin. es2022 keeps main's top-level await native.
export default defineConfig({
  plugins: [react()],
  build: { target: 'es2022', reportCompressedSize: false },
  // The dev server must not pre-bundle the package: that moves its module away
  // from the .wasm its `new URL(…)` points at.
  optimizeDeps: { exclude: ['@gatehouse/client'] },
  server: { port: 5102, strictPort: true },
  preview: { port: 5102, strictPort: true },
});
