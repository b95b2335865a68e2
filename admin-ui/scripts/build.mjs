// Builds everything the hosts serve as static files into admin-ui/dist/, laid
// out by URL path (so the Worker's [assets] can serve the folder as is):
//
//   dist/admin/…              the dashboard (Vite build)
//   dist/api/schema/swagger/  Swagger UI (swagger-ui-dist) beside our page
//   dist/api/schema/redoc/    Redoc (redoc's standalone bundle) beside our page
//
// Our docs pages (index.html, init.js, docs.css in those two folders) are
// written by hand and live only there, in the tree both hosts serve: the
// build keeps them and replaces everything else (one committed copy, no
// source folder copied into dist/).
//
// and writes admin-ui/embed.rs, the list of files the native binary embeds
// (include_bytes!, with content type and ETag). Prints sizes, raw and gzip.
import { build } from 'vite';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const nm = join(root, 'node_modules');

// Everything in dist/ but our docs pages is build output: start afresh.
const OURS = ['index.html', 'init.js', 'docs.css'];
for (const name of readdirSync(dist)) {
  if (name !== 'api') rmSync(join(dist, name), { recursive: true, force: true });
}
for (const page of ['swagger', 'redoc']) {
  const dir = join(dist, 'api/schema', page);
  for (const name of readdirSync(dir)) {
    if (!OURS.includes(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}
await build({ root, logLevel: 'warn' });

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

const swagger = join(dist, 'api/schema/swagger');
copy(join(nm, 'swagger-ui-dist/swagger-ui-bundle.js'), join(swagger, 'swagger-ui-bundle.js'));
copy(join(nm, 'swagger-ui-dist/swagger-ui.css'), join(swagger, 'swagger-ui.css'));
copy(join(nm, 'swagger-ui-dist/LICENSE'), join(swagger, 'LICENSE.txt'));

const redoc = join(dist, 'api/schema/redoc');
// The one remote fetch in Redoc's bundle: a footer logo from its CDN. Point it
// at an empty data: URL instead (the image then fails to decode and Redoc
// hides it), so the page makes no request off the server and breaks no CSP.
const REDOC_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const redocJs = readFileSync(join(nm, 'redoc/bundles/redoc.standalone.js'), 'utf8');
if (!redocJs.includes(REDOC_LOGO)) throw new Error('redoc bundle changed: check for remote fetches');
mkdirSync(redoc, { recursive: true });
writeFileSync(join(redoc, 'redoc.standalone.js'), redocJs.replaceAll(REDOC_LOGO, 'data:,'));
copy(join(nm, 'redoc/LICENSE'), join(redoc, 'LICENSE.txt'));

// Headers for the Worker's static assets (Cloudflare reads dist/_headers);
// the native host sets the same ones in host-native/src/assets.rs: keep the
// two in step.
const CSP_ADMIN =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const CSP_DOCS =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const common = ['X-Content-Type-Options: nosniff', 'Referrer-Policy: no-referrer', 'X-Frame-Options: DENY', 'Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Resource-Policy: same-origin'];
const rule = (path, lines) => [path, ...lines.map((l) => `  ${l}`)].join('\n');
writeFileSync(
  join(dist, '_headers'),
  [
    rule('/admin/*', [`Content-Security-Policy: ${CSP_ADMIN}`, ...common, 'Cache-Control: no-cache']),
    rule('/admin/assets/*', ['! Cache-Control', 'Cache-Control: public, max-age=31536000, immutable']),
    rule('/api/schema/swagger/*', [`Content-Security-Policy: ${CSP_DOCS}`, ...common, 'Cache-Control: no-cache']),
    rule('/api/schema/redoc/*', [`Content-Security-Policy: ${CSP_DOCS}`, ...common, 'Cache-Control: no-cache']),
  ].join('\n') + '\n',
);

const TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  wasm: 'application/wasm',
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

// Files starting with _ (_headers) are for the Worker only.
const files = walk(dist)
  .filter((f) => !relative(dist, f).split(sep).some((part) => part.startsWith('_')))
  .sort();
const rows = [];
const entries = [];
for (const file of files) {
  const rel = relative(dist, file).split(sep).join('/');
  const ext = rel.split('.').pop();
  const type = TYPES[ext];
  if (!type) throw new Error(`no content type for ${rel}`);
  const body = readFileSync(file);
  const etag = createHash('sha256').update(body).digest('hex').slice(0, 20);
  const gz = gzipSync(body, { level: 9 }).length;
  rows.push([`/${rel}`, body.length, gz]);
  entries.push(
    `    Asset {\n        path: "/${rel}",\n        content_type: "${type}",\n        etag: "\\"${etag}\\"",\n        body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../admin-ui/dist/${rel}")),\n    },`,
  );
}
writeFileSync(
  join(root, 'embed.rs'),
  `// @generated by admin-ui/scripts/build.mjs (npm run build): the files of\n// admin-ui/dist/ that host-native/src/assets.rs embeds. Do not edit.\n&[\n${entries.join('\n')}\n]\n`,
);

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
let tr = 0;
let tg = 0;
for (const [p, r, g] of rows) {
  tr += r;
  tg += g;
  console.log(`${p.padEnd(52)} ${kb(r).padStart(12)} ${kb(g).padStart(12)} gzip`);
}
console.log(`${'total'.padEnd(52)} ${kb(tr).padStart(12)} ${kb(tg).padStart(12)} gzip`);
