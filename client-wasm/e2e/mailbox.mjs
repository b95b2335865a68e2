// The mail the server under test really sent, read from the test SMTP server's
// Maildir (scripts/with-smtp.sh: aiosmtpd stores each mail as a file under
// $GATEHOUSE_TEST_MAILDIR/new). The JS twin of tests/src/mailbox.rs, for the
// browser tests (client-wasm/e2e, examples/e2e). Each test mails a unique
// address, so it reads only its own mail.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The Maildir of this run, or null when the run has no SMTP capture. */
export const maildir = () => process.env.GATEHOUSE_TEST_MAILDIR || null;

/** The SMTP URL to give `gatehouse serve --smtp-url`, or null. */
export const smtpUrl = () => process.env.GATEHOUSE_TEST_SMTP_URL || null;

/** The value of header `name` in a header block (unfolded). */
function header(block, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(block);
  return m ? m[1].replace(/\r?\n[ \t]+/g, " ").trim() : "";
}

/** Decodes RFC 2047 encoded words (the server encodes non-ASCII subjects). */
const words = (s) =>
  s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc, t) =>
    enc.toLowerCase() == "b"
      ? Buffer.from(t, "base64").toString("utf8")
      : Buffer.from(t.replace(/_/g, " ").replace(/=([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"),
  );

/** One raw message → {to, subject, text, html} (multipart/alternative, base64 or plain parts). */
export function parse(raw) {
  const split = (s) => {
    const i = s.search(/\r?\n\r?\n/);
    return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i).replace(/^\r?\n\r?\n/, "")];
  };
  const [head, body] = split(raw);
  const out = { to: header(head, "To"), subject: words(header(head, "Subject")), text: "", html: "" };
  const part = (h, b) => {
    const enc = header(h, "Content-Transfer-Encoding").toLowerCase();
    return enc == "base64" ? Buffer.from(b.replace(/\s+/g, ""), "base64").toString("utf8") : b;
  };
  const boundary = /boundary="?([^";]+)"?/i.exec(header(head, "Content-Type"));
  if (!boundary) {
    out.text = part(head, body);
    return out;
  }
  for (const chunk of body.split("--" + boundary[1]).slice(1)) {
    if (chunk.startsWith("--")) break;
    const [h, b] = split(chunk.replace(/^\r?\n/, ""));
    const type = header(h, "Content-Type").toLowerCase();
    if (type.startsWith("text/plain")) out.text = part(h, b);
    else if (type.startsWith("text/html")) out.html = part(h, b);
  }
  return out;
}

/** The bare address of a `To` value (`Name <a@b>` or `a@b`), lower case. */
const addressOf = (v) => (/<([^>]+)>/.exec(v)?.[1] ?? v).trim().toLowerCase();

/** Every mail to `to` (exactly that address) so far, oldest first. */
export function mailsTo(to) {
  const dir = maildir();
  if (!dir) throw new Error("GATEHOUSE_TEST_MAILDIR is unset: run under scripts/with-smtp.sh");
  const files = [];
  for (const sub of ["new", "cur"]) {
    try {
      for (const f of readdirSync(join(dir, sub))) files.push(join(dir, sub, f));
    } catch {}
  }
  // Oldest first: by arrival time (the file's mtime), then name.
  return files
    .map((f) => ({ f, t: statSync(f).mtimeMs, m: parse(readFileSync(f, "utf8")) }))
    .filter((x) => addressOf(x.m.to) === to.toLowerCase())
    .sort((a, b) => a.t - b.t || (a.f < b.f ? -1 : 1))
    .map((x) => x.m);
}

/** Waits (polling the Maildir, up to 20 s) for the `n`-th mail to `to` (among
 *  those whose subject matches `subject`, if given) and returns it. */
export async function waitForMail(to, n = 1, { subject, timeoutMs = 20_000 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const all = mailsTo(to).filter((m) => !subject || subject.test(m.subject));
    if (all.length >= n) return all[n - 1];
    if (Date.now() > end) throw new Error(`no mail #${n} to ${to}${subject ? " matching " + subject : ""} within ${timeoutMs} ms (have ${all.length})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first http(s) link in a mail's text part. */
export const linkOf = (mail) => (/https?:\/\/\S+/.exec(mail.text) || [null])[0];

/** The `token` query parameter of that link. */
export const tokenOf = (mail) => new URL(linkOf(mail)).searchParams.get("token");
