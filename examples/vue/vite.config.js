import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import wasm from 'vite-plugin-wasm';

// @gatehouse/client's bundler build imports its .wasm as an ES module
// (`import * as wasm from "./gatehouse_client_bg.wasm"`): vite-plugin-wasm
// provides that. Targeting es2022 keeps the top-level await it emits native,
// so no top-level-await plugin is needed (every current browser has it).
export default defineConfig({
  plugins: [vue(), wasm()],
  build: { target: 'es2022', reportCompressedSize: false },
  // The package is a file: link outside this folder; the dev server must be allowed to read it.
  server: { port: 5103, strictPort: true, fs: { allow: ['.', '../../client-wasm/pkg'] } },
  preview: { port: 5103, strictPort: true },
});
