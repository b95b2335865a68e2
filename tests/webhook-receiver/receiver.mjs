// The contract suite's webhook receiver: every delivery is verified with the
// Standard Webhooks reference library (npm `standardwebhooks`), as a real
// receiver would. Started by tests/src/webhooks.rs:
//   node receiver.mjs          → prints "listening PORT" once ready
// Routes (each test uses its own NAME):
//   POST /config/NAME  {"secret": "whsec_…", "fail_first": N}
//   POST /hook/NAME    a delivery: 503 for the first N attempts of each
//                      webhook-id, then 200 if verified
//   GET  /received/NAME  {"attempts": [...], "accepted": [...]}
import http from "node:http";
import { Webhook } from "standardwebhooks";

const hooks = new Map();

function hook(name) {
  if (!hooks.has(name)) hooks.set(name, { secret: null, failFirst: 0, attempts: [], accepted: [] });
  return hooks.get(name);
}

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const [, kind, name] = req.url.split("/");
    if (!name) return answer(res, 404, { error: "no name" });
    const h = hook(decodeURIComponent(name));
    if (kind === "config" && req.method === "POST") {
      const c = JSON.parse(body);
      h.secret = c.secret;
      h.failFirst = c.fail_first ?? 0;
      return answer(res, 200, { ok: true });
    }
    if (kind === "received" && req.method === "GET") {
      return answer(res, 200, { attempts: h.attempts, accepted: h.accepted });
    }
    if (kind === "hook" && req.method === "POST") {
      const at = Date.now();
      // Before the test told us the secret (it learns it from the answer
      // that created the endpoint): not an attempt yet, come back later.
      if (!h.secret) return answer(res, 503, { error: "not configured yet" });
      const id = req.headers["webhook-id"] ?? null;
      let payload = null;
      let error = null;
      try {
        payload = new Webhook(h.secret).verify(body, req.headers);
      } catch (e) {
        error = String(e && e.message ? e.message : e);
      }
      h.attempts.push({ id, at, verified: error === null, error });
      if (error !== null) return answer(res, 400, { error });
      if (h.attempts.filter((a) => a.id === id).length <= h.failFirst) return answer(res, 503, { error: "failing on purpose" });
      h.accepted.push({ id, at, type: payload.type, payload, body });
      return answer(res, 200, { ok: true });
    }
    answer(res, 404, { error: "unknown route" });
  });
});

// The test process holds our stdin: when it exits (its statics never drop),
// so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
