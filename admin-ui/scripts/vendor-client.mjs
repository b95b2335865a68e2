// Copies the wasm client's `--target web` build (client-wasm/pkg/web, made by
// client-wasm/build.sh) into vendor/gatehouse-client/, committed, so the
// dashboard builds without the Rust/wasm toolchain. Run after rebuilding the
// client: `npm run vendor:client && npm run build`.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, '../client-wasm/pkg/web');
const to = join(root, 'vendor/gatehouse-client');
if (!existsSync(join(from, 'gatehouse_client.js'))) {
  console.error(`no ${from}: build it first (client-wasm/build.sh web)`);
  process.exit(1);
}
mkdirSync(to, { recursive: true });
for (const f of ['gatehouse_client.js', 'gatehouse_client.d.ts', 'gatehouse_client_bg.wasm', 'package.json']) copyFileSync(join(from, f), join(to, f));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['log', '-1', '--format=%H', '--', 'client-wasm'], { cwd: join(root, '..') }).toString().trim();
} catch {}
writeFileSync(join(to, 'SOURCE'), `client-wasm/pkg/web, built from the client-wasm/ of commit ${commit}\n`);
console.log(`vendored @gatehouse/client from ${commit}`);
