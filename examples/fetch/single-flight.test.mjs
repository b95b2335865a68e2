// The fetch page's own promise, beyond the shared flow: when many calls hit a
// 401 at once, exactly ONE refresh goes out (refresh tokens rotate; a second
// refresh of the same token would get a 401 and sign the user out).
//
//   node single-flight.test.mjs <app-base-url>      (test.sh runs it after the shared flow)
//
// Registers through the page's `window.gatehouse`, waits until the access token
// is dead for the server (exp + the server's 5 s clock-skew tolerance, polled),
// then fires 10 profile GETs at once: all must succeed, with exactly one refresh.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!base) { console.error('usage: node single-flight.test.mjs <app-base-url>'); process.exit(2); }
const SKEW = Number(process.env.GATEHOUSE_CLOCK_SKEW ?? 5);
const N = 10;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  const refreshes = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/api/auth/token/refresh/')) refreshes.push(r.status());
  });
  await page.goto(base + '/register');
  await page.waitForFunction(() => window.gatehouse);
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const password = `correct-Horse-${Math.random().toString(36).slice(2, 8)}-battery-staple`;
  const reg = await page.evaluate((d) => window.gatehouse.register(d), {
    email: `sf-${stamp}@example.com`, username: `sf_${stamp}`, password, password2: password,
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.data)}`);
  const { exp } = JSON.parse(Buffer.from(reg.data.access.split('.')[1], 'base64url').toString());
  const dead = exp + SKEW + 1.1; // whole-second now must pass exp + skew
  const deadline = Date.now() + (dead - Date.now() / 1000 + 10) * 1000;
  while (Date.now() / 1000 <= dead) {
    if (Date.now() > deadline) throw new Error('clock wait overran');
    await new Promise((r) => setTimeout(r, 100));
  }
  const statuses = await page.evaluate((n) =>
    Promise.all(Array.from({ length: n }, () => window.gatehouse.profile().then((r) => r.status))), N);
  const ok = statuses.every((s) => s === 200);
  console.log(`single-flight: ${N} concurrent calls after expiry → ${statuses.filter((s) => s === 200).length} × 200; refreshes: [${refreshes.join(',')}]`);
  if (!ok) throw new Error(`not every call succeeded: ${statuses.join(',')}`);
  if (refreshes.length !== 1 || refreshes[0] !== 200) throw new Error(`expected exactly one successful refresh, saw [${refreshes.join(',')}]`);
  console.log('single-flight: PASS');
} catch (e) {
  console.error(`single-flight: FAILED: ${e.message}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
