// @gatehouse/client: the thin JavaScript around the wasm core (core.js + the
// .wasm). The core does the token work (session state, single-flight refresh,
// cross-tab claims, backoff, the refresh timer); this file gives it a class that
// exists before the wasm is up, checks the options, sends the requests (headers,
// JSON, errors: GatehouseError), owns the listeners, the `ready` promise and the
// `initialSession` event, the page events (online, visibilitychange, pagehide)
// and the plain API calls (login, profile, sessions, the email flows…).

/** Every rejection of the client's methods. */
export class GatehouseError extends Error {
  constructor(status, code, detail, fields) {
    super(detail);
    this.name = "GatehouseError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields || {};
  }
}

export const isGatehouseError = (e) => e instanceof GatehouseError;

// The core rejects with a bare code for its own errors; their texts live here.
const CODES = {
  no_session: [401, "no_session", "Not signed in."],
  closed: [0, "closed", "The client is closed."],
  bad_response: [0, "bad_response", "Response had no tokens."],
  backoff: [0, "network_error", "Server unreachable; the refresh is retried with backoff."],
};
const err = (c) => new GatehouseError(...CODES[c]);

/** Any rejection, as a GatehouseError (the core's codes, fetch's TypeError). */
const toError = (e) =>
  e instanceof GatehouseError
    ? e
    : CODES[e]
      ? err(e)
      : new GatehouseError(0, "network_error", (e && e.message) || "Network request failed.");

const fn = (o, ...ks) => o && ks.every((k) => typeof o[k] == "function");

/** The storage option as `[{get, set, remove}, shared]` (the core's adapter). */
function storeOf(v) {
  const mem = v == null || v === "memory";
  const s = mem ? new Map() : v === "localStorage" ? globalThis.localStorage : v;
  if (fn(s, "getItem", "setItem", "removeItem"))
    return [{ get: (k) => s.getItem(k), set: (k, x) => s.setItem(k, x), remove: (k) => s.removeItem(k) }, true];
  if (mem) return [{ get: (k) => s.get(k), set: (k, x) => s.set(k, x), remove: (k) => s.delete(k) }, false];
  if (fn(s, "get", "set", "remove")) return [s, true];
  throw new TypeError("GatehouseClient: bad storage option");
}

/** The stored session from a raw stored value, read before the wasm is up. */
function parseStored(raw) {
  try {
    const v = JSON.parse(raw);
    const c = JSON.parse(atob(v.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const life = (c.exp - c.iat) * 1000;
    return typeof v.refresh == "string"
      ? { access: v.access, refresh: v.refresh, expiresAt: life >= 0 ? v.at + life : c.exp ? c.exp * 1000 : null }
      : null;
  } catch {
    return null;
  }
}

// Passkeys: the server speaks WebAuthn's JSON (base64url); navigator.credentials
// takes and gives ArrayBuffers. Converted by hand: parseCreationOptionsFromJSON
// and toJSON() are missing from browsers still in use.
const b64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const buf = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const ids = (l) => l && l.map((c) => ({ ...c, id: buf(c.id) }));

/** Runs a ceremony with the server's `publicKey` options; the credential as its JSON. */
async function ceremony(get, o) {
  const k = { ...o, challenge: buf(o.challenge), allowCredentials: ids(o.allowCredentials), excludeCredentials: ids(o.excludeCredentials) };
  if (o.user) k.user = { ...o.user, id: buf(o.user.id) };
  const c = await navigator.credentials[get ? "get" : "create"]({ publicKey: k });
  const r = c.response, j = {};
  for (const f of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) if (r[f]) j[f] = b64u(r[f]);
  return { id: c.id, rawId: b64u(c.rawId), type: c.type, response: j, clientExtensionResults: c.getClientExtensionResults() };
}

const PKCE = "gatehouse.social";
/** A sign-in's [body, session] as login resolves: the session, flagged when the
 *  server asks this staff login to enrol a second factor. */
const enrol = ([r, s]) => (r.mfa_enrollment_required ? { ...s, mfaEnrollmentRequired: true } : s);

/** Builds the public class around the core class once `loaded` (the wasm) settles. */
export function makeClient(loaded, getCore) {
  return class GatehouseClient {
    #core = null;
    #closed = false;
    #early = null;
    #subs = new Set();
    #unwire = () => {};
    #base;
    #o;
    #f;

    constructor(options) {
      const o = (this.#o = options || {});
      for (const k of ["baseUrl", "apiKey", "clientId"])
        if (typeof o[k] != "string" || !o[k]) throw new TypeError("GatehouseClient: baseUrl, apiKey and clientId are required");
      this.#base = o.baseUrl.replace(/\/+$/, "");
      const f = (this.#f = o.fetch || globalThis.fetch);
      if (typeof f != "function") throw new TypeError("GatehouseClient: no fetch available");
      const [store, shared] = storeOf(o.storage);
      const key = typeof o.storageKey == "string" ? o.storageKey : "gatehouse.session";
      // Web Storage and memory answer at once: the stored session is known now.
      const sync = o.storage == null || o.storage === "memory" || o.storage === "localStorage" || !!o.storage.getItem;
      if (sync) {
        const raw = store.get(key);
        if (typeof raw == "string") this.#early = parseStored(raw);
      }
      const start = () => {
        if (this.#closed) throw err("closed");
        const ch = o.channel;
        const name = typeof ch == "string" ? ch : ch === false || !shared ? null : "gatehouse:" + key;
        let chan;
        try {
          chan = name && typeof BroadcastChannel == "function" ? new BroadcastChannel(name) : undefined;
        } catch {}
        // Node: a channel must not keep the process alive.
        chan && chan.unref && chan.unref();
        const core = new (getCore())({
          store,
          key,
          shared,
          chan,
          margin: (typeof o.refreshMargin == "number" ? o.refreshMargin : 60) * 1000,
          auto: o.autoRefresh !== false,
          emit: (ev, s) => this.#emit(ev, s),
          renew: (refresh) => this.#json("POST", "/api/auth/token/refresh/", { refresh }),
        });
        this.#core = core;
        this.#wire(core);
        return core.getSession();
      };
      // Synchronously when the wasm is already up (Node, Workers, a second client).
      const first = getCore() ? Promise.resolve(start()) : loaded.then(start);
      /** Resolves once the wasm core is up and has read the storage; rejects
       *  (GatehouseError) if the wasm cannot load (e.g. a CSP without 'wasm-unsafe-eval'). */
      this.loaded = first.catch((e) => Promise.reject(toError(e)));
      this.loaded.catch(() => {});
      /** Resolves with the stored session (or null) as soon as it is known: at
       *  once for Web Storage and memory (read synchronously, before the wasm is
       *  up: calls made meanwhile wait for it), else when `loaded` resolves. */
      this.ready = sync ? Promise.resolve(this.#early) : this.loaded;
    }

    #emit(ev, s) {
      // A throwing listener must not unwind through the wasm core.
      for (const f of this.#subs)
        try {
          f(ev, s);
        } catch {}
    }

    #wire(core) {
      const g = globalThis;
      if (typeof g.addEventListener != "function") return;
      const doc = g.document;
      const online = () => core.signal(0);
      const vis = () => doc.visibilityState === "visible" && core.signal(0);
      const hide = () => core.signal(1);
      g.addEventListener("online", online);
      g.addEventListener("pagehide", hide);
      doc && doc.addEventListener("visibilitychange", vis);
      this.#unwire = () => {
        g.removeEventListener("online", online);
        g.removeEventListener("pagehide", hide);
        doc && doc.removeEventListener("visibilitychange", vis);
      };
    }

    #call(name, args) {
      const go = () => (this.#closed ? Promise.reject("closed") : this.#core[name](...args));
      return (this.#core || this.#closed ? go() : this.loaded.then(go)).catch((e) => Promise.reject(toError(e)));
    }

    /** Sends a request with the client's headers and `token` (if any) as Bearer. */
    #send(input, init, token) {
      const h = new Headers(init && init.headers !== undefined ? init.headers : fn(input, "clone") ? input.headers : undefined);
      h.set("X-API-Key", this.#o.apiKey);
      h.set("X-Client-ID", this.#o.clientId);
      if (token) h.set("Authorization", "Bearer " + token);
      return this.#f.call(undefined, input, { ...init, headers: h });
    }

    /** A JSON call: the parsed body, or a GatehouseError. `auth`: through
     *  `fetch` (the access token, refreshed when needed). */
    async #json(method, path, body, auth) {
      const init = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { "Content-Type": "application/json" };
      }
      const r = await (auth ? this.fetch(path, init) : this.#send(this.#base + path, init).catch((e) => Promise.reject(toError(e))));
      const text = await r.text().catch(() => "");
      let data;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        data = text;
      }
      if (r.ok) return data;
      // `{"detail", "code"}`, or a validation body (`{"field": ["message"]}`).
      const e = data && typeof data.detail == "string"
        ? new GatehouseError(r.status, typeof data.code == "string" ? data.code : "error", data.detail)
        : data && typeof data == "object"
          ? new GatehouseError(r.status, "invalid", "Invalid input.", data)
          : new GatehouseError(r.status, "error", "Request failed.");
      // A sign-in that needs a second factor: what `verifyMfa` takes.
      if (e.code == "mfa_required") {
        e.mfaToken = data.mfa_token;
        e.methods = data.methods;
      }
      throw e;
    }

    /** A call that answers with a new pair, taken as the session: [body, session]. */
    async #pair(path, body, auth = false) {
      if (this.#closed) throw err("closed");
      const r = await this.#json("POST", path, body, auth);
      return [r, await this.#call("take", [r, auth])];
    }

    /** The session as last seen (the stored one before the wasm is up), or null. */
    get session() {
      return this.#core ? this.#core.session : this.#early;
    }
    getSession() { return this.#call("getSession", []); }
    freshSession() { return this.#call("freshSession", []); }
    refresh() { return this.#call("refresh", []); }
    /** Drop-in `fetch`: relative paths (`/api/…`) go to `baseUrl`; never rejects
     *  because of an HTTP status. */
    fetch(input, init) {
      if (typeof input == "string" && input[0] == "/") input = this.#base + input;
      // A Request's body can be read once: a copy for the retry after a 401.
      const spare = fn(input, "clone") ? input.clone() : null;
      let n = 0;
      return this.#call("fetch", [(token) => this.#send(n++ && spare ? spare : input, init, token)]);
    }
    register(data) { return this.#pair("/api/auth/register/", data).then((x) => x[0]); }
    /** The session; with `mfaEnrollmentRequired: true` when the server asks
     *  this staff login to enrol a second factor. */
    login(email, password) {
      return this.#pair("/api/auth/token/", { email, password }).then(enrol);
    }
    changePassword(old_password, new_password, new_password2) {
      return this.#pair("/api/auth/change-password/", { old_password, new_password, new_password2 }, true).then((x) => x[0]);
    }
    /** Blacklists the refresh token on the server and forgets the session; the
     *  session is forgotten locally even when the server call fails. */
    async logout() {
      const s = await this.getSession();
      if (s) {
        await this.#json("POST", "/api/auth/logout/", { refresh: s.refresh }, true).catch(() => {});
        await this.#call("forget", []);
      }
    }
    profile() { return this.#json("GET", "/api/auth/profile/", undefined, true); }
    updateProfile(patch) { return this.#json("PATCH", "/api/auth/profile/", patch, true); }
    replaceProfile(data) { return this.#json("PUT", "/api/auth/profile/", data, true); }
    /** The signed-in user's live logins, newest first. */
    listSessions() { return this.#json("GET", "/api/auth/sessions/", undefined, true); }
    /** Ends one of them (its tokens stop working at once). */
    endSession(id) { return this.#json("DELETE", `/api/auth/sessions/${encodeURIComponent(id)}/`, undefined, true); }
    /** Ends every login of the user, this one included, and signs out here. */
    async logoutEverywhere() {
      const r = await this.#json("POST", "/api/auth/logout-all/", undefined, true);
      await this.logout();
      return r;
    }

    // The email flows (docs/CONTRACT.md "The email flows"): plain calls; a
    // request answers 202 whether or not the address has an account.
    requestPasswordReset(email) { return this.#json("POST", "/api/auth/password/reset/", { email }); }
    confirmPasswordReset(token, password, password2) {
      return this.#json("POST", "/api/auth/password/reset/confirm/", { token, password, password2 });
    }
    verifyEmail(token) { return this.#json("POST", "/api/auth/email/verify/", { token }); }
    resendVerification() { return this.#json("POST", "/api/auth/email/verify/resend/", undefined, true); }
    requestSignInCode(email) { return this.#json("POST", "/api/auth/code/request/", { email }); }
    /** Signs in like `login`: the pair becomes the session. */
    signInWithCode(email, code) { return this.#pair("/api/auth/code/verify/", { email, code }).then((x) => x[1]); }
    // Second factors (docs/CONTRACT.md "Second factors").
    /** Completes a login that rejected with `mfa_required`: `{code}`,
     *  `{recoveryCode}` or `{passkey: true}` (asks the browser for one of the
     *  user's passkeys); the pair becomes the session. */
    async verifyMfa(mfa_token, a) {
      let b = a.recoveryCode != null ? { mfa_token, recovery_code: a.recoveryCode } : { mfa_token, code: a.code };
      if (a.passkey) {
        const o = await this.#json("POST", "/api/auth/mfa/passkey/options/", { mfa_token });
        b = { mfa_token, challenge_id: o.challenge_id, credential: await this.#webauthn(1, o.publicKey) };
      }
      return (await this.#pair("/api/auth/mfa/verify/", b))[1];
    }
    /** Renews this login's second factor (routes answering
     *  `mfa_step_up_required`): `{code}`, `{recoveryCode}` or `{passkey: true}`. */
    async stepUp(a) {
      let b = a.recoveryCode != null ? { recovery_code: a.recoveryCode } : { code: a.code };
      if (a.passkey) {
        const o = await this.#json("POST", "/api/auth/mfa/step-up/passkey/options/", undefined, true);
        b = { challenge_id: o.challenge_id, credential: await this.#webauthn(1, o.publicKey) };
      }
      return this.#json("POST", "/api/auth/mfa/step-up/", b, true);
    }
    /** A ceremony; the browser's refusal (the user cancelled, no authenticator…)
     *  as a GatehouseError `passkey_cancelled` with the DOMException's name. */
    #webauthn(get, o) {
      return ceremony(get, o).catch((e) => Promise.reject(new GatehouseError(0, "passkey_cancelled", (e && e.name) || "Passkey ceremony failed.")));
    }
    /** Registers a passkey for the signed-in user (the browser asks for it). */
    async registerPasskey(name) {
      const o = await this.#json("POST", "/api/auth/passkeys/register/options/", undefined, true);
      const credential = await this.#webauthn(0, o.publicKey);
      return this.#json("POST", "/api/auth/passkeys/register/", { challenge_id: o.challenge_id, credential, name }, true);
    }
    /** Passwordless sign-in with a discoverable passkey; the pair becomes the session. */
    async signInWithPasskey() {
      const o = await this.#json("POST", "/api/auth/passkeys/login/options/");
      const credential = await this.#webauthn(1, o.publicKey);
      return (await this.#pair("/api/auth/passkeys/login/", { challenge_id: o.challenge_id, credential }))[1];
    }
    // Social sign-in (docs/CONTRACT.md "Social sign-in"): the PKCE verifier and
    // our state wait in sessionStorage (this tab, this origin) for the return page.
    /** Sends the browser to the provider's sign-in page (resolves as it leaves;
     *  S256 is the server's default method).
     *  `redirectUri`: the page that calls `completeSignIn`, as registered. */
    async signInWith(provider, o) {
      const r = () => b64u(crypto.getRandomValues(new Uint8Array(32)));
      const v = r(), state = r();
      const code_challenge = b64u(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v)));
      const a = await this.#json("POST", `/api/auth/social/${encodeURIComponent(provider)}/start/`, { redirect_uri: o.redirectUri, code_challenge, state });
      sessionStorage.setItem(PKCE, JSON.stringify([v, state]));
      location.assign(a.authorization_url);
    }
    /** On the return page: exchanges the `code` in the URL (then removed from it
     *  with history.replaceState) for the session, as `login` does (and rejects
     *  like it: `mfa_required`…). Null when the URL has no code. */
    async completeSignIn() {
      const u = new URL(location.href), q = u.searchParams, code = q.get("code"), state = q.get("state");
      const [v, s] = JSON.parse(sessionStorage.getItem(PKCE) || "[]");
      if (!code) return null;
      sessionStorage.removeItem(PKCE);
      q.delete("code");
      q.delete("state");
      history.replaceState(history.state, "", u);
      // Another tab's or a forged return (login CSRF): not this tab's sign-in.
      if (!v || state !== s) throw new GatehouseError(0, "invalid_state", "This sign-in was not started here.");
      return this.#pair("/api/auth/social/token/", { code, code_verifier: v }).then(enrol);
    }
    listPasskeys() { return this.#json("GET", "/api/auth/passkeys/", undefined, true); }
    renamePasskey(id, name) { return this.#json("PATCH", `/api/auth/passkeys/${encodeURIComponent(id)}/`, { name }, true); }
    deletePasskey(id) { return this.#json("DELETE", `/api/auth/passkeys/${encodeURIComponent(id)}/`, undefined, true); }
    enrollTotp() { return this.#json("POST", "/api/auth/mfa/totp/enroll/", undefined, true); }
    confirmTotp(code) { return this.#json("POST", "/api/auth/mfa/totp/confirm/", { code }, true); }
    mfaFactors() { return this.#json("GET", "/api/auth/mfa/factors/", undefined, true); }
    disableTotp(proof) { return this.#json("POST", "/api/auth/mfa/totp/disable/", proof, true); }
    changeEmail(new_email, password) { return this.#json("POST", "/api/auth/email/change/", { new_email, password }, true); }
    confirmEmailChange(token) { return this.#json("POST", "/api/auth/email/change/confirm/", { token }); }

    /** Subscribes to session changes. The first call is `initialSession` with
     *  the stored session (or null), once the client is ready. */
    onChange(cb) {
      this.#subs.add(cb);
      this.ready.then((s) => this.#subs.has(cb) && cb("initialSession", s), () => {});
      return () => void this.#subs.delete(cb);
    }

    /** Stops timers, channel and page listeners; later calls reject with `closed`. */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      this.#unwire();
      this.#core && this.#core.close();
    }
  };
}
