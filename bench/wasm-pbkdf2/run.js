const fs = require('fs');
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[2])), {});
const f = instance.exports.pbkdf2_sha256;
f(1000);
for (let r = 0; r < 3; r++) {
  const t = process.hrtime.bigint();
  f(1000000);
  console.log(`pbkdf2_sha256 1,000,000 iterations in wasm32 (node ${process.version}): ${Number(process.hrtime.bigint() - t) / 1e6} ms`);
}
