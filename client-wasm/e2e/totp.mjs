// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps), computed in the tests the
// way an authenticator app does, from the base32 secret of an enrolment.
import { createHmac } from "node:crypto";

function base32(s) {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of s.replace(/=+$/, "").toUpperCase()) bits += A.indexOf(c).toString(2).padStart(5, "0");
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

/** The code of `step` (default: now's); `offset` steps later or earlier. */
export function totp(secret, offset = 0, now = Date.now()) {
  const step = Math.floor(now / 30_000) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac("sha1", base32(secret)).update(msg).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
