#!/usr/bin/env node
// Replaces the bodies of the `core::fmt` functions left in the wasm with
// `unreachable`, so that wasm-opt then drops them and everything only they use.
//   node scripts/stub-fmt.mjs IN.wasm OUT.wasm   (IN must keep its name section: wasm-opt -g)
// Why it is safe: in the release build the panic handler (src/bare.rs) traps
// without reading the panic message, and the crate formats nothing else (no
// `format!`, no `Debug`). These functions stay in the module only because panic
// sites (alloc errors, bounds checks, js-sys' RefCell) store pointers to them in
// `fmt::Arguments`, i.e. in the function table, which wasm-opt cannot prune. What
// `panic = "immediate-abort"` does on nightly, done on the output. (The
// wasm-bindgen-test suites run the debug build, with std; the e2e and fault tests
// run this one.)
import binaryen from "binaryen";
import { readFileSync, writeFileSync } from "node:fs";

const [inp, out] = process.argv.slice(2);
if (!out) throw new Error("usage: stub-fmt.mjs IN.wasm OUT.wasm");
const m = binaryen.readBinary(readFileSync(inp));
// `<… as core[hash]::fmt::Display>::fmt`, `<core[hash]::fmt::Formatter>::pad`, …
const FMT = /\bcore(\[[0-9a-f]+\])?::fmt::/;
const stubbed = [];
for (let i = 0; i < m.getNumFunctions(); i++) {
  const f = m.getFunctionByIndex(i);
  const info = binaryen.getFunctionInfo(f);
  if (!info.module && FMT.test(info.name)) {
    binaryen._BinaryenFunctionSetBody(f, m.unreachable());
    stubbed.push(info.name);
  }
}
if (stubbed.length === 0) {
  console.error("stub-fmt: no core::fmt function found");
}
writeFileSync(out, m.emitBinary());
console.error(`stub-fmt: ${stubbed.length} core::fmt functions stubbed`);
