// @gatehouse/client: the thin JavaScript around the wasm core (core.js + the
// .wasm). The core does the token work (single-flight refresh, cross-tab
// claims, backoff); this file gives it a class that exists before the wasm is
// up, a real GatehouseError, the `ready` promise and `initialSession` event, the
// page events (online, visibilitychange, pagehide) and the session calls.

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

/** Any rejection, as a GatehouseError (the core's plain errors, fetch's TypeError). */
const toError = (e) =>
  e instanceof GatehouseError
    ? e
    : e && e.name === "GatehouseError"
      ? new GatehouseError(e.status, e.code, e.detail, e.fields)
      : new GatehouseError(0, "network_error", (e && e.message) || "Network request failed.");

const closed = () => Promise.reject(new GatehouseError(0, "closed", "The client is closed."));

/** The stored session, read synchronously (before the wasm is up). */
function readStored(o) {
  try {
    const st = o.storage === "localStorage" ? globalThis.localStorage : o.storage;
    const raw = st && st.getItem ? st.getItem(o.storageKey || "gatehouse.session") : null;
    const v = raw && JSON.parse(raw);
    if (!v || typeof v.access != "string" || typeof v.refresh != "string") return null;
    const c = JSON.parse(atob(v.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const life = (c.exp - c.iat) * 1000;
    return { access: v.access, refresh: v.refresh, expiresAt: life >= 0 ? v.at + life : c.exp ? c.exp * 1000 : null };
  } catch {
    return null;
  }
}

/** Builds the public class around the core class once `loaded` (the wasm) settles. */
export function makeClient(loaded, getCore) {
  return class GatehouseClient {
    #core = null;
    #closed = false;
    #early;
    #subs = new Set();
    #unwire = () => {};

    constructor(options) {
      const o = options || {};
      for (const k of ["baseUrl", "apiKey", "clientId"])
        if (typeof o[k] != "string" || !o[k]) throw new TypeError("GatehouseClient: baseUrl, apiKey and clientId are required");
      this.#early = readStored(o);
      const start = () => {
        if (this.#closed) throw new GatehouseError(0, "closed", "The client is closed.");
        const core = new (getCore())(o);
        core.onChange((ev, s) => this.#emit(ev, s));
        this.#core = core;
        this.#wire(core);
        return core.getSession();
      };
      // Synchronously when the wasm is already up (Node, Workers, a second
      // client): bad options then throw here, as a TypeError.
      const first = getCore() ? Promise.resolve(start()) : loaded.then(start);
      /** Resolves once the wasm core is up and has read the storage; rejects
       *  (GatehouseError) if the wasm cannot load (e.g. a CSP without 'wasm-unsafe-eval'). */
      this.loaded = first.catch((e) => Promise.reject(toError(e)));
      this.loaded.catch(() => {});
      /** Resolves with the stored session (or null) as soon as it is known: at
       *  once for Web Storage and memory (read synchronously, before the wasm is
       *  up: calls made meanwhile wait for it), else when `loaded` resolves. */
      const sync = o.storage == null || o.storage === "memory" || o.storage === "localStorage" || !!o.storage.getItem;
      this.ready = sync ? Promise.resolve(this.#early) : this.loaded;
    }

    #emit(ev, s) {
      for (const f of this.#subs) f(ev, s);
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
      if (this.#closed) return closed();
      const go = () => (this.#closed ? closed() : this.#core[name](...args));
      return (this.#core ? go() : this.loaded.then(go)).catch((e) => Promise.reject(toError(e)));
    }

    /** The session as last seen (the stored one before the wasm is up), or null. */
    get session() {
      return this.#core ? this.#core.session : this.#early;
    }
    getSession() { return this.#call("getSession", []); }
    freshSession() { return this.#call("freshSession", []); }
    register(data) { return this.#call("register", [data]); }
    login(email, password) { return this.#call("login", [email, password]); }
    logout() { return this.#call("logout", []); }
    refresh() { return this.#call("refresh", []); }
    profile() { return this.#json("GET", "/api/auth/profile/"); }
    updateProfile(patch) { return this.#json("PATCH", "/api/auth/profile/", patch); }
    replaceProfile(data) { return this.#json("PUT", "/api/auth/profile/", data); }
    changePassword(a, b, c) { return this.#call("changePassword", [a, b, c]); }
    fetch(input, init) { return this.#call("fetch", [input, init]); }

    /** A JSON call through `fetch`: the parsed body, or a GatehouseError. */
    async #json(method, path, body) {
      const init = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { "Content-Type": "application/json" };
      }
      const r = await this.fetch(path, init);
      const text = await r.text().catch(() => "");
      let data;
      try { data = text ? JSON.parse(text) : undefined; } catch { data = text; }
      if (r.ok) return data;
      // `{"detail", "code"}`, or a validation body (`{"field": ["message"]}`).
      throw data && typeof data.detail == "string"
        ? new GatehouseError(r.status, typeof data.code == "string" ? data.code : "error", data.detail)
        : data && typeof data == "object"
          ? new GatehouseError(r.status, "invalid", "Invalid input.", data)
          : new GatehouseError(r.status, "error", "Request failed.");
    }
    /** The signed-in user's live logins, newest first. */
    listSessions() { return this.#json("GET", "/api/auth/sessions/"); }
    /** Ends one of them (its tokens stop working at once). */
    endSession(id) { return this.#json("DELETE", `/api/auth/sessions/${encodeURIComponent(id)}/`); }
    /** Ends every login of the user, this one included, and signs out here. */
    async logoutEverywhere() {
      const r = await this.#json("POST", "/api/auth/logout-all/");
      await this.logout();
      return r;
    }

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
