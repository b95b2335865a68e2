// A tiny static server for a built example: `node serve.mjs <dir> <port>`.
// - Serves <dir> with the right MIME types (application/wasm matters: browsers
//   refuse to compile a streamed wasm served as anything else).
// - History routing: a path without a file extension that is not a file gets
//   index.html (SPA fallback), so /login, /register and /profile load the app.
// - GET /config.json answers with the API's origin and this frontend's
//   credentials, taken from GATEHOUSE_URL, GATEHOUSE_CLIENT_ID and
//   GATEHOUSE_API_KEY (and socialProviders from GATEHOUSE_SOCIAL_PROVIDERS,
//   which the React example shows as buttons): every example reads its configuration at run time from
//   there, so one build works against any server.
// Prints "serving <dir> on http://127.0.0.1:<port>" once listening.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const [dirArg, portArg] = process.argv.slice(2);
if (!dirArg || !portArg) {
  console.error('usage: node serve.mjs <dir> <port>');
  process.exit(2);
}
const root = resolve(dirArg);
const port = Number(portArg);
const host = process.env.HOST || '127.0.0.1';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

function config() {
  const { GATEHOUSE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_API_KEY } = process.env;
  if (!GATEHOUSE_URL || !GATEHOUSE_CLIENT_ID || !GATEHOUSE_API_KEY) return null;
  const c = { baseUrl: GATEHOUSE_URL, clientId: GATEHOUSE_CLIENT_ID, apiKey: GATEHOUSE_API_KEY };
  // The social sign-in providers enabled for the client (comma-separated ids).
  const social = (process.env.GATEHOUSE_SOCIAL_PROVIDERS || '').split(',').filter(Boolean);
  if (social.length) c.socialProviders = social;
  return c;
}

async function fileAt(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? path : null;
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
  if (url.pathname === '/config.json') {
    const c = config();
    // Without the environment, fall through to a config.json file in <dir> (npm run dev setups).
    if (c) return send(200, types['.json'], JSON.stringify(c));
  }
  let path;
  try {
    path = resolve(join(root, decodeURIComponent(url.pathname)));
  } catch {
    return send(400, 'text/plain', 'bad path');
  }
  if (path !== root && !path.startsWith(root + sep)) return send(403, 'text/plain', 'forbidden');
  let file = (await fileAt(path)) || (await fileAt(join(path, 'index.html')));
  if (!file && extname(url.pathname) === '') file = await fileAt(join(root, 'index.html'));
  if (!file) return send(404, 'text/plain', 'not found');
  send(200, types[extname(file)] || 'application/octet-stream', await readFile(file));
});
server.listen(port, host, () => console.log(`serving ${root} on http://${host}:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
