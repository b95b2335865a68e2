// The dashboard's only door to Gatehouse: @gatehouse/client, the wasm client
// package of this repository (vendored from client-wasm/pkg/web), with the
// dashboard's own API-client credentials. The client holds the tokens (in
// sessionStorage: this tab only, gone when it closes), adds the headers,
// refreshes before expiry and never sends two refreshes of one token.

import initClient, { GatehouseClient, isGatehouseError } from '../vendor/gatehouse-client/gatehouse_client.js';
import wasmUrl from '../vendor/gatehouse-client/gatehouse_client_bg.wasm?url';

export interface ClientCredentials {
  clientId: string;
  apiKey: string;
}

export interface Claims {
  user_id: number;
  user_type: 'creator' | 'staff' | 'admin';
  is_staff: boolean;
  is_superuser: boolean;
  exp: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(ApiError.describe(status, body));
  }

  /** The DRF-shaped body as one readable line. */
  static describe(status: number, body: any): string {
    if (body && typeof body === 'object') {
      if (typeof body.detail === 'string') return body.detail;
      const parts: string[] = [];
      for (const [field, msgs] of Object.entries(body)) {
        const text = Array.isArray(msgs) ? msgs.join(' ') : String(msgs);
        parts.push(field === 'non_field_errors' ? text : `${field}: ${text}`);
      }
      if (parts.length) return parts.join(' · ');
    }
    return `Request failed (${status})`;
  }

  get code(): string | undefined {
    return this.body && typeof this.body === 'object' ? this.body.code : undefined;
  }
}

const CREDS_KEY = 'gatehouse.dashboard.client';
const SESSION_KEY = 'gatehouse.dashboard.session';

let creds: ClientCredentials | null = null;
let credsFromServer = false;
let gh: GatehouseClient | null = null;
const listeners = new Set<() => void>();

function connect(c: ClientCredentials): void {
  gh?.close();
  gh = new GatehouseClient({
    baseUrl: location.origin,
    apiKey: c.apiKey,
    clientId: c.clientId,
    storage: sessionStorage,
    storageKey: SESSION_KEY,
    channel: false,
  });
  gh.onChange((event) => {
    if (event === 'signedOut' || event === 'sessionExpired') emit();
  });
}

/** Loads the wasm client and the dashboard's client credentials: from the
 * host's config endpoint (operator-configured), else from what the user typed
 * on the sign-in page. Picks up this tab's session if there is one. */
export async function loadConfig(): Promise<void> {
  await initClient({ module_or_path: wasmUrl });
  try {
    const r = await fetch('/admin/config.json', { cache: 'no-store' });
    if (r.ok) {
      const c = await r.json();
      if (c.client_id && c.api_key) {
        creds = { clientId: c.client_id, apiKey: c.api_key };
        credsFromServer = true;
      }
    }
  } catch {
    /* not configured: ask on the sign-in page */
  }
  if (!creds) {
    const saved = localStorage.getItem(CREDS_KEY);
    if (saved) {
      try {
        creds = JSON.parse(saved);
      } catch {
        localStorage.removeItem(CREDS_KEY);
      }
    }
  }
  if (creds) {
    connect(creds);
    await gh!.getSession();
  }
}

export const hasServerCredentials = () => credsFromServer;
export const credentials = () => creds;

export function setCredentials(c: ClientCredentials, remember: boolean): void {
  creds = c;
  if (remember) localStorage.setItem(CREDS_KEY, JSON.stringify(c));
  else localStorage.removeItem(CREDS_KEY);
  connect(c);
}

export function onSessionChange(f: () => void): void {
  listeners.add(f);
}

function emit() {
  for (const f of listeners) f();
}

export function claims(): Claims | null {
  const access = gh?.session?.access;
  if (!access) return null;
  try {
    const part = access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

export const signedIn = () => !!gh?.session;

/** The client's errors as the dashboard's. */
function asApiError(e: unknown): unknown {
  if (!isGatehouseError(e)) return e;
  const fields = e.fields && Object.keys(e.fields).length ? e.fields : null;
  return new ApiError(e.status, fields ?? { detail: e.detail, code: e.code, mfa_token: e.mfaToken, methods: e.methods });
}

// The login answer's `mfa_enrollment_required` (an admin-type client asks its
// staff to enrol a second factor): the dashboard shows a banner until done.
let enrolHint = false;
export const mfaEnrollmentRequired = () => enrolHint;
export function enrolled(): void {
  enrolHint = false;
  emit();
}

/** The signed-in user must be staff: otherwise the fresh login is ended. */
async function staffOnly(): Promise<Claims> {
  const c = claims();
  if (!c || !c.is_staff) {
    await signOut();
    throw new ApiError(403, { detail: 'The dashboard is for staff and admins only.', code: 'not_staff' });
  }
  emit();
  return c;
}

/** Finishes a sign-in that answered `mfa_required` (its `mfa_token`) with an
 * authenticator code, a recovery code or one of the user's passkeys. */
export async function verifyMfa(mfaToken: string, answer: { code: string } | { recoveryCode: string } | { passkey: true }): Promise<Claims> {
  if (!gh) throw new ApiError(401, { detail: 'No dashboard API client is configured.', code: 'api_key_missing' });
  try {
    await gh.verifyMfa(mfaToken, answer);
    enrolHint = false;
  } catch (e) {
    throw asApiError(e);
  }
  return staffOnly();
}

/** Passwordless: a discoverable passkey (the browser offers the user's). */
export async function signInWithPasskey(): Promise<Claims> {
  await withClient((c) => c.signInWithPasskey());
  enrolHint = false;
  return staffOnly();
}

export interface Passkey {
  id: string;
  name: string;
  alg: number;
  created_at: string;
  last_used_at: string | null;
}

/** A call of the client's own (the passkey ceremonies run in the browser), its errors as the dashboard's. */
async function withClient<T>(f: (c: GatehouseClient) => Promise<T>): Promise<T> {
  if (!gh) throw new ApiError(401, { detail: 'No dashboard API client is configured.', code: 'api_key_missing' });
  try {
    return await f(gh);
  } catch (e) {
    throw asApiError(e);
  }
}

/** The signed-in user's passkeys (the account page). */
export const passkeys = {
  list: () => withClient((c) => c.listPasskeys() as Promise<Passkey[]>),
  register: (name: string) => withClient((c) => c.registerPasskey(name || undefined) as Promise<Passkey>),
  remove: (id: string) => withClient((c) => c.deletePasskey(id)),
};

export interface TotpEnrollment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** Signs in; refuses (and ends the fresh login of) anyone not staff. */
export async function signIn(email: string, password: string): Promise<Claims> {
  if (!gh) throw new ApiError(401, { detail: 'No dashboard API client is configured.', code: 'api_key_missing' });
  try {
    enrolHint = !!(await gh.login(email, password)).mfaEnrollmentRequired;
  } catch (e) {
    throw asApiError(e);
  }
  return staffOnly();
}

export async function signOut(): Promise<void> {
  enrolHint = false;
  try {
    await gh?.logout();
  } catch {
    /* signed out locally whatever the server said */
  }
  emit();
}

/** An authenticated JSON call through the client (which refreshes as needed). */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  if (!gh) throw new ApiError(401, { detail: 'Signed out.', code: 'not_authenticated' });
  let r: Response;
  try {
    r = await gh.fetch(path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw asApiError(e);
  }
  const text = await r.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!r.ok) {
    // The client already refreshed and retried once: the login is over.
    if (r.status === 401 && gh.session === null) emit();
    throw new ApiError(r.status, data);
  }
  return data as T;
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** One page of a paginated admin list. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}
