// @gatehouse/client — hand-written declarations (no `Symbol.dispose`, so they
// check with `lib: ["ES2023","DOM"]` and `skipLibCheck: false`).
/** A user as the API returns it. */
export interface User {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  user_type: "creator" | "staff" | "admin";
  is_staff: boolean;
  is_superuser: boolean;
  /** RFC 3339 */
  date_joined: string;
  /** RFC 3339, or null before the first login */
  last_login: string | null;
  /** The user proved the address (verification link, reset link, sign-in code or email change). */
  email_verified: boolean;
  /** RFC 3339, or null while unverified */
  email_verified_at: string | null;
}

/** A `{"detail"}` answer, e.g. the 202 of a reset or code request (the same
 *  whether or not the address has an account). */
export interface DetailResponse {
  detail: string;
}

export interface RegisterData {
  email: string;
  username: string;
  password: string;
  password2: string;
  first_name?: string;
  last_name?: string;
}

export interface RegisterResponse {
  user: User;
  access: string;
  refresh: string;
}

export interface ChangePasswordResponse {
  detail: string;
  access: string;
  refresh: string;
}

/** The writable profile fields. */
export interface ProfileFields {
  username: string;
  first_name: string;
  last_name: string;
}

/** The signed-in session. `expiresAt` is the access token's expiry in local
 *  epoch milliseconds (corrected for clock skew), or null if the token has no `exp`. */
export interface Session {
  access: string;
  refresh: string;
  expiresAt: number | null;
}

/** `initialSession` comes first, once, to each new subscriber (the stored session or null). */
export type AuthChangeEvent = "initialSession" | "signedIn" | "refreshed" | "signedOut" | "sessionExpired";

/** A custom storage: React Native's AsyncStorage, a Node store, a test double.
 *  Methods may return promises. */
export interface StorageAdapter {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** `localStorage`, `sessionStorage` or anything shaped like them. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface GatehouseClientOptions {
  /** The API's origin, e.g. "https://auth.example.com" (no trailing path needed). */
  baseUrl: string;
  /** This frontend's key, "sk_…" (sent as X-API-Key). */
  apiKey: string;
  /** This frontend's client id (sent as X-Client-ID). */
  clientId: string;
  /** Where the session lives. Default "memory" (nothing persisted, no cross-tab
   *  coordination). Shared storages coordinate refreshes across tabs/instances. */
  storage?: "memory" | "localStorage" | WebStorageLike | StorageAdapter;
  /** Storage key of the session; the refresh lock uses `${storageKey}.lock`.
   *  Default "gatehouse.session". */
  storageKey?: string;
  /** Refresh this many seconds before the access token expires (capped at half
   *  the token's lifetime). Default 60. */
  refreshMargin?: number;
  /** Refresh on a timer before expiry even when no request is made. Default true. */
  autoRefresh?: boolean;
  /** BroadcastChannel name for cross-tab coordination, or false for none.
   *  Default `gatehouse:${storageKey}` when the storage is shared. */
  channel?: string | false;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

/** What `GatehouseError.code` can be: the client's own codes, then the server's. */
export type GatehouseErrorCode =
  | "network_error" | "closed" | "no_session" | "bad_response" | "invalid" | "error"
  | "no_active_account" | "token_not_valid" | "not_authenticated" | "permission_denied"
  | "not_found" | "conflict" | "throttled" | "user_type_not_allowed" | "parse_error"
  | "method_not_allowed" | "payload_too_large" | "unsupported_media_type"
  | "server_error" | "server_busy" | "database_unavailable"
  // the email flows
  | "invalid_token" | "already_verified" | "email_not_verified" | "invalid_code"
  | "signin_code_disabled" | "mail_not_configured" | "email_throttled" | "login_throttled" | "password_reset_required"
  // second factors
  | "mfa_required" | "invalid_mfa_code" | "mfa_token_invalid" | "mfa_throttled" | "mfa_step_up_required"
  | "mfa_not_configured" | "mfa_already_enrolled" | "mfa_not_enrolling" | "mfa_not_enrolled" | "unsupported_method"
  // passkeys ("passkey_cancelled": the browser's ceremony failed or was
  // cancelled; `detail` is the DOMException's name, e.g. "NotAllowedError")
  | "passkey_cancelled" | "passkeys_unavailable" | "passkey_exists" | "passkey_limit" | "passkey_unknown"
  | "webauthn_challenge_invalid" | "webauthn_wrong_credential" | "webauthn_counter" | "webauthn_origin"
  | "webauthn_rp_id" | "webauthn_signature" | "webauthn_malformed" | "webauthn_user_verification"
  // social sign-in ("invalid_state": the return page's state is not this tab's)
  | "provider_not_found" | "redirect_uri_not_allowed" | "provider_error" | "provider_timeout"
  | "social_not_configured" | "invalid_state";

/** Every rejection of the client's methods. `status` 0 means the request did not
 *  reach the server (`code` "network_error") or the client is closed (`code`
 *  "closed"). For `{"detail", "code"}` bodies, `detail` and `code` are the
 *  server's and `fields` is `{}`. For validation bodies, `fields` is the body
 *  itself, e.g. `{ email: ["user with this email already exists."] }`, `code` is
 *  "invalid" and `detail` "Invalid input.". */
export class GatehouseError extends Error {
  constructor(status: number, code: GatehouseErrorCode, detail: string, fields?: Record<string, string[]>);
  readonly name: "GatehouseError";
  readonly status: number;
  readonly code: GatehouseErrorCode;
  readonly detail: string;
  readonly fields: Record<string, string[]>;
  /** With code "mfa_required" (a login of a user with a second factor): the
   *  token to pass to `verifyMfa` (5 minutes, single use) and the methods it takes. */
  readonly mfaToken?: string;
  readonly methods?: MfaMethod[];
}

export type MfaMethod = "totp" | "recovery_code" | "passkey";

/** A registered passkey (`listPasskeys()`, `registerPasskey()`). */
export interface Passkey {
  id: string;
  name: string;
  /** COSE algorithm: -7 (ES256) or -8 (EdDSA). */
  alg: number;
  backup_eligible: boolean;
  backed_up: boolean;
  /** RFC 3339 */
  created_at: string;
  /** RFC 3339, or null when never used to sign in. */
  last_used_at: string | null;
}

/** `enrollTotp()`: the pending factor, to show as a QR code or a typed secret. */
export interface TotpEnrollment {
  /** base32 */
  secret: string;
  otpauth_uri: string;
  /** The URI as a QR code, an SVG document. */
  qr_svg: string;
}

/** `mfaFactors()`. */
export interface MfaFactors {
  totp: { confirmed_at: string } | null;
  recovery_codes_left: number;
  methods: MfaMethod[];
}

export function isGatehouseError(e: unknown): e is GatehouseError;

/** A live login of the signed-in user, as `GET /api/auth/sessions/` lists it. */
export interface LoginSession {
  id: string;
  /** This client's own login. */
  current: boolean;
  client_id: string;
  client_name: string;
  /** RFC 3339 */
  created_at: string;
  /** RFC 3339 */
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
}

export class GatehouseClient {
  constructor(options: GatehouseClientOptions);
  /** Resolves with the stored session (or null) as soon as it is known: at once
   *  for Web Storage and memory (read synchronously, before the wasm is up; calls
   *  made meanwhile wait for it), otherwise once `loaded` resolves. */
  readonly ready: Promise<Session | null>;
  /** Resolves once the wasm core is up; rejects with a GatehouseError if it
   *  cannot load (e.g. a CSP without 'wasm-unsafe-eval'). */
  readonly loaded: Promise<Session | null>;
  /** The session as last seen, or null; before `ready`, the stored session read
   *  synchronously. */
  readonly session: Session | null;
  /** Reads the session from storage (picking up other tabs' changes). */
  getSession(): Promise<Session | null>;
  /** The session with an access token fit to send, refreshed first when close
   * to expiry (single flight); null when signed out. For code that attaches the
   * token itself (an HTTP interceptor). */
  freshSession(): Promise<Session | null>;
  /** Registers a creator and signs in. */
  register(data: RegisterData): Promise<RegisterResponse>;
  /** Signs in. A user with a second factor: rejects with code "mfa_required"
   *  (`mfaToken`, `methods`: finish with `verifyMfa`). A staff or admin user
   *  without one, through an API client that requires it: the session comes
   *  with `mfaEnrollmentRequired: true` (enrol with `enrollTotp`). */
  login(email: string, password: string): Promise<Session & { mfaEnrollmentRequired?: true }>;
  /** Blacklists the refresh token and signs out (locally even if the server call fails). */
  logout(): Promise<void>;
  /** Refreshes now (single flight: joins a refresh already running). */
  refresh(): Promise<Session>;
  profile(): Promise<User>;
  updateProfile(patch: Partial<ProfileFields>): Promise<User>;
  replaceProfile(data: ProfileFields): Promise<User>;
  changePassword(oldPassword: string, newPassword: string, newPassword2: string): Promise<ChangePasswordResponse>;
  /** Drop-in fetch: adds Authorization, X-API-Key and X-Client-ID, refreshes
   *  before expiry, and on a 401 refreshes once and retries once. Paths starting
   *  with "/" are resolved against baseUrl. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The signed-in user's live logins, newest first. */
  listSessions(): Promise<LoginSession[]>;
  /** Ends one login by id (its tokens stop working at once). */
  endSession(id: string): Promise<void>;
  /** Ends every login of the user, this one included, and signs out here. */
  logoutEverywhere(): Promise<{ ended: number }>;
  /** Mails a reset link if the address has an account (202 either way). */
  requestPasswordReset(email: string): Promise<DetailResponse>;
  /** Sets a new password with the token from the reset link; every login of
   *  the user ends. Bad passwords reject with `fields.password`; a bad token
   *  with code "invalid_token". */
  confirmPasswordReset(token: string, password: string, password2: string): Promise<DetailResponse>;
  /** Consumes the token from the verification link. */
  verifyEmail(token: string): Promise<{ detail: string; email_verified: true }>;
  /** Mails the signed-in user a new verification link ("already_verified" if done). */
  resendVerification(): Promise<DetailResponse>;
  /** Mails a six-digit sign-in code if the address has an account (202 either
   *  way; "signin_code_disabled" unless the API client enables codes). */
  requestSignInCode(email: string): Promise<DetailResponse>;
  /** Signs in with the mailed code, like `login` ("invalid_code" when wrong,
   *  expired or spent; the 5th wrong guess kills the code). */
  signInWithCode(email: string, code: string): Promise<Session>;
  /** Social sign-in: asks the server for the provider's sign-in URL (with a
   *  PKCE S256 challenge and a state, kept in sessionStorage) and sends the
   *  browser there. `redirectUri`: the page that calls `completeSignIn`,
   *  registered for this API client with the provider. Rejects with
   *  "provider_not_found", "redirect_uri_not_allowed"… */
  signInWith(provider: string, options: { redirectUri: string }): Promise<void>;
  /** On the return page: exchanges the one-time `code` in the URL (removed
   *  from it) with the stored verifier and stores the session like `login`
   *  (and rejects like it: "mfa_required"). Null when the URL has no code;
   *  "invalid_state" when the sign-in was not started in this tab; the
   *  server's "invalid_code" when spent or expired. */
  completeSignIn(): Promise<(Session & { mfaEnrollmentRequired?: true }) | null>;
  /** Completes a login that rejected with "mfa_required" (`e.mfaToken`) with
   *  an authenticator code, a recovery code or (`{ passkey: true }`, when
   *  `methods` has "passkey") one of the user's passkeys; stores the session like `login`.
   *  Wrong → "invalid_mfa_code"; token spent, expired or out of attempts →
   *  "mfa_token_invalid"; too many wrong answers → "mfa_throttled". */
  verifyMfa(mfaToken: string, answer: { code: string } | { recoveryCode: string } | { passkey: true }): Promise<Session>;
  /** Renews this login's second factor on the spot, for the calls that
   *  reject with "mfa_step_up_required" (403: none passed in the last 15
   *  minutes): a code, a recovery code or a passkey. Wrong →
   *  "invalid_mfa_code" (or a passkey's refusal); "mfa_throttled" after 10 an hour. */
  stepUp(answer: { code: string } | { recoveryCode: string } | { passkey: true }): Promise<{ detail: string; mfa_at: string; valid_for: number }>;
  /** Registers a passkey for the signed-in user: the browser asks for it
   *  (`navigator.credentials.create`, a discoverable credential with user
   *  verification). `name`: at most 64 characters (default "Passkey"). */
  registerPasskey(name?: string): Promise<Passkey>;
  /** Passwordless sign-in: the browser offers the user's passkeys for this
   *  site; stores the session like `login`. */
  signInWithPasskey(): Promise<Session>;
  /** The signed-in user's passkeys, oldest first. */
  listPasskeys(): Promise<Passkey[]>;
  renamePasskey(id: string, name: string): Promise<Passkey>;
  deletePasskey(id: string): Promise<void>;
  /** Starts a TOTP enrolment (pending until `confirmTotp`; "mfa_already_enrolled"
   *  when on, "mfa_not_configured" without a data key on the server). */
  enrollTotp(): Promise<TotpEnrollment>;
  /** Turns the pending TOTP on with a code from the app; the recovery codes are shown this once. */
  confirmTotp(code: string): Promise<{ recovery_codes: string[] }>;
  /** The signed-in user's second factors. */
  mfaFactors(): Promise<MfaFactors>;
  /** Removes TOTP and the recovery codes, with the password or a code; needs a
   *  login made with a second factor ("mfa_step_up_required" otherwise). */
  disableTotp(proof: { password: string } | { code: string }): Promise<DetailResponse>;
  /** Mails a confirmation link to the new address (needs the current password). */
  changeEmail(newEmail: string, password: string): Promise<DetailResponse>;
  /** Consumes the token from the email-change link. */
  confirmEmailChange(token: string): Promise<{ detail: string; email: string }>;
  /** Subscribes to sign-in, refresh, sign-out and expiry; returns the unsubscribe function. */
  onChange(callback: (event: AuthChangeEvent, session: Session | null) => void): () => void;
  /** Stops the refresh timer, the BroadcastChannel and the page listeners (hot
   *  reload, tests, Node); every later call rejects at once with code "closed". */
  close(): void;
}
