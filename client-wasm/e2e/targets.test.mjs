// The three wasm-pack builds load and work under Node 20: --target nodejs
// (require), --target web (initSync with the bytes, as a Worker would), and
// --target bundler (as an ES module importing the .wasm, which Node does with
// --experimental-wasm-modules the way bundlers do). No server needed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const pkg = (t, f) => fileURLToPath(new URL(`../pkg/${t}/${f}`, import.meta.url));
const opts = {
  baseUrl: "http://gatehouse.test/",
  apiKey: "k",
  clientId: "c",
  fetch: async (url) =>
    new Response(JSON.stringify({ detail: "No active account found with the given credentials", code: "no_active_account", url }), { status: 401 }),
};

async function check(m) {
  const c = new m.GatehouseClient(opts);
  await assert.rejects(c.login("a@example.com", "x"), (e) => m.isGatehouseError(e) && e.status === 401 && e.code === "no_active_account");
  c.close();
}

test("--target nodejs", async () => {
  await check(createRequire(import.meta.url)(pkg("nodejs", "gatehouse_client.js")));
});

test("--target web (initSync)", async () => {
  const m = await import(pkg("web", "gatehouse_client.js"));
  m.initSync({ module: readFileSync(pkg("web", "gatehouse_client_bg.wasm")) });
  await check(m);
});

test("--target bundler (ES module integration)", () => {
  const src = `
    const m = await import(${JSON.stringify(pkg("bundler", "gatehouse_client.js"))});
    const c = new m.GatehouseClient({ baseUrl: "http://x", apiKey: "k", clientId: "c",
      fetch: async () => new Response('{"detail":"d","code":"no_active_account"}', { status: 401 }) });
    try { await c.login("a", "b"); console.log("no rejection"); }
    catch (e) { console.log(JSON.stringify([m.isGatehouseError(e), e.status, e.code])); }
    c.close();`;
  const r = spawnSync(process.execPath, ["--experimental-wasm-modules", "--no-warnings", "--input-type=module", "-e", src], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), JSON.stringify([true, 401, "no_active_account"]));
});
