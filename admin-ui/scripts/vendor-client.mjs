// Copies the @gatehouse/client package (client-wasm/pkg/npm, made by
// scripts/pack-client.sh) into vendor/gatehouse-client/, committed, so the
// dashboard builds without the Rust/wasm toolchain, plus a small
// gatehouse_client.js that keeps the older import shape (`init` as the default
// export: a no-op, the package loads its wasm itself). Run after rebuilding the
// client: `npm run vendor:client && npm run build`.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, '../client-wasm/pkg/npm');
const to = join(root, 'vendor/gatehouse-client');
if (!existsSync(join(from, 'index.js'))) {
  console.error(`no ${from}: build it first (scripts/pack-client.sh)`);
  process.exit(1);
}
mkdirSync(to, { recursive: true });
for (const f of ['index.js', 'client.js', 'core.js', 'index.d.ts', 'gatehouse_client_bg.wasm', 'package.json']) copyFileSync(join(from, f), join(to, f));
writeFileSync(join(to, 'gatehouse_client.js'), "export * from './index.js';\n// The package loads its wasm itself: `init` only keeps the older call shape.\nexport default function init() { return Promise.resolve(); }\n");
writeFileSync(join(to, 'gatehouse_client.d.ts'), "export * from './index.js';\nexport default function init(options?: unknown): Promise<void>;\n");
let commit = 'unknown';
try {
  commit = execFileSync('git', ['log', '-1', '--format=%H', '--', 'client-wasm'], { cwd: join(root, '..') }).toString().trim();
} catch {}
writeFileSync(join(to, 'SOURCE'), `client-wasm/pkg/npm (@gatehouse/client), built from the client-wasm/ of commit ${commit}\n`);
console.log(`vendored @gatehouse/client from ${commit}`);
