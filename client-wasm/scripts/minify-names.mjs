#!/usr/bin/env node
// Shortens the wasm's import and export names (binaryen's
// --minify-imports-and-exports-and-modules) and rewrites the wasm-bindgen glue
// to match: the hashed `__wbg_…_0123abcd` names cost ~1.5 KB gzip in the wasm
// and again in the JS.   node minify-names.mjs WASM GLUE_JS
import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [wasm, glue] = process.argv.slice(2);
const wasmOpt = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "wasm-opt");
const features = ["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
  "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue"];
const out = execFileSync(wasmOpt, ["--minify-imports-and-exports-and-modules", ...features, wasm, "-o", wasm + ".min"], { encoding: "utf8" });
const map = JSON.parse(out.slice(out.indexOf("{")));
let js = readFileSync(glue, "utf8");
const esc = (s) => s.replace(/[$.*+?^(){}|[\]\\]/g, "\\$&");
const count = (re) => (js.match(re) || []).length;
// The one import module is renamed too: binaryen names it "a".
const mods = new Set(map.imports.map((i) => i[0]));
if (mods.size !== 1) throw new Error("expected one import module, got " + [...mods]);
const modRe = new RegExp(`"${esc([...mods][0])}": import0`);
if (count(modRe) !== 1) throw new Error("import module not found in the glue");
js = js.replace(modRe, `"a": import0`);
for (const [, from, to] of map.imports) {
  const re = new RegExp(`\\b${esc(from)}:`, "g");
  if (count(re) !== 1) throw new Error(`import ${from}: ${count(re)} definitions in the glue`);
  js = js.replace(re, `${JSON.stringify(to)}:`);
}
for (const [from, to] of map.exports) {
  const re = new RegExp(`\\bwasm\\.${esc(from)}\\b`, "g");
  js = js.replace(re, `wasm[${JSON.stringify(to)}]`);
  if (count(/\bexports\.|instance\.exports\[/g) > 1) throw new Error("the glue reads exports another way");
}
writeFileSync(glue, js);
renameSync(wasm + ".min", wasm);
console.log(`minify-names: ${map.imports.length} imports, ${map.exports.length} exports renamed`);
