// The dashboard's only door to Gatehouse: the public HTTP API, called with the
// dashboard's own API-client headers and the signed-in user's bearer token.
//
// Plain fetch (see README.md, "Why plain fetch and not the wasm client"): the
// access token lives in memory, the refresh token in sessionStorage (this tab
// only, gone when the tab closes), and one refresh is in flight at a time.

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
const REFRESH_KEY = 'gatehouse.dashboard.refresh';

let creds: ClientCredentials | null = null;
let credsFromServer = false;
let access: string | null = null;
let refreshing: Promise<void> | null = null;
const listeners = new Set<() => void>();

/** Loads the dashboard's client credentials: from the host's config endpoint
 * (operator-configured), else from what the user typed on the sign-in page. */
export async function loadConfig(): Promise<void> {
  try {
    const r = await fetch('/admin/config.json', { cache: 'no-store' });
    if (r.ok) {
      const c = await r.json();
      if (c.client_id && c.api_key) {
        creds = { clientId: c.client_id, apiKey: c.api_key };
        credsFromServer = true;
        return;
      }
    }
  } catch {
    /* not configured: ask on the sign-in page */
  }
  const saved = localStorage.getItem(CREDS_KEY);
  if (saved) {
    try {
      creds = JSON.parse(saved);
    } catch {
      localStorage.removeItem(CREDS_KEY);
    }
  }
}

export const hasServerCredentials = () => credsFromServer;
export const credentials = () => creds;

export function setCredentials(c: ClientCredentials, remember: boolean): void {
  creds = c;
  if (remember) localStorage.setItem(CREDS_KEY, JSON.stringify(c));
  else localStorage.removeItem(CREDS_KEY);
}

export function onSessionChange(f: () => void): void {
  listeners.add(f);
}

function emit() {
  for (const f of listeners) f();
}

export function claims(): Claims | null {
  if (!access) return null;
  try {
    const part = access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

export const signedIn = () => access !== null;
export const hasRefresh = () => sessionStorage.getItem(REFRESH_KEY) !== null;

function headers(json: boolean): Headers {
  const h = new Headers();
  if (creds) {
    h.set('X-API-Key', creds.apiKey);
    h.set('X-Client-ID', creds.clientId);
  }
  if (json) h.set('Content-Type', 'application/json');
  if (access) h.set('Authorization', `Bearer ${access}`);
  return h;
}

async function raw(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
  });
  const text = await r.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function setTokens(a: string, refresh: string) {
  access = a;
  sessionStorage.setItem(REFRESH_KEY, refresh);
}

function clearTokens() {
  access = null;
  sessionStorage.removeItem(REFRESH_KEY);
}

/** Signs in; refuses (and revokes the fresh login of) anyone not staff. */
export async function signIn(email: string, password: string): Promise<Claims> {
  const t = await raw('POST', '/api/auth/token/', { email, password });
  setTokens(t.access, t.refresh);
  const c = claims();
  if (!c || !c.is_staff) {
    await signOut();
    throw new ApiError(403, {
      detail: 'The dashboard is for staff and admins only.',
      code: 'not_staff',
    });
  }
  emit();
  return c;
}

/** One refresh at a time; a second caller waits for the first. */
export function refresh(): Promise<void> {
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH_KEY);
      if (!token) throw new ApiError(401, { detail: 'Signed out.', code: 'not_authenticated' });
      access = null;
      try {
        const t = await raw('POST', '/api/auth/token/refresh/', { refresh: token });
        setTokens(t.access, t.refresh);
      } catch (e) {
        clearTokens();
        emit();
        throw e;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function signOut(): Promise<void> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (token && access) {
    try {
      await raw('POST', '/api/auth/logout/', { refresh: token });
    } catch {
      /* the login may already be gone */
    }
  }
  clearTokens();
  emit();
}

/** An authenticated call; refreshes once on an expired access token. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  if (refreshing) await refreshing;
  if (!access && hasRefresh()) await refresh();
  try {
    return await raw(method, path, body);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && e.code === 'token_not_valid' && hasRefresh()) {
      await refresh();
      return raw(method, path, body);
    }
    if (e instanceof ApiError && e.status === 401) {
      clearTokens();
      emit();
    }
    throw e;
  }
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
