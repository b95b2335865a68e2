// Drops the `name` custom section (function names for stack traces) from the
// built wasm: about 220 KB raw / 60 KB gzip of the upload. worker-build has
// no switch for it, and wasm-opt is off (see Cargo.toml).
// Usage: node strip-names.mjs build/index_bg.wasm
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
const wasm = readFileSync(path);

function leb(buf, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

const kept = [wasm.subarray(0, 8)];
let at = 8, dropped = 0;
while (at < wasm.length) {
  const start = at;
  const id = wasm[at++];
  const [size, body] = leb(wasm, at);
  const end = body + size;
  let keep = true;
  if (id === 0) {
    const [len, nameAt] = leb(wasm, body);
    keep = wasm.toString("utf8", nameAt, nameAt + len) !== "name";
  }
  if (keep) kept.push(wasm.subarray(start, end));
  else dropped += end - start;
  at = end;
}
if (at !== wasm.length) throw new Error(`${path}: malformed section table`);
if (dropped > 0) writeFileSync(path, Buffer.concat(kept));
console.log(`strip-names: ${path}: dropped ${dropped} bytes`);
