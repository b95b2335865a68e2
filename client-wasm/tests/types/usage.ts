// Type-level test of the package's declarations (tsc --noEmit, strict): the
// calls an app makes must type-check, and misuse must not (@ts-expect-error).
// Checked against the packed package (pkg/npm) with lib ["ES2023","DOM"] and
// skipLibCheck false, as the Vite template has them.
import {
  GatehouseClient,
  GatehouseError,
  isGatehouseError,
  type AuthChangeEvent,
  type GatehouseErrorCode,
  type LoginSession,
  type MfaMethod,
  type Passkey,
  type Session,
  type StorageAdapter,
  type User,
} from "../../pkg/npm/index.js";

async function main(): Promise<void> {
  const storage: StorageAdapter = {
    get: async (k: string) => localStorage.getItem(k),
    set: (k: string, v: string) => localStorage.setItem(k, v),
    remove: (k: string) => localStorage.removeItem(k),
  };
  const gh = new GatehouseClient({ baseUrl: "https://auth.example.com", apiKey: "sk_x", clientId: "cl_x", storage });
  new GatehouseClient({ baseUrl: "b", apiKey: "k", clientId: "c", storage: "localStorage", channel: false, refreshMargin: 30 });
  new GatehouseClient({ baseUrl: "b", apiKey: "k", clientId: "c", storage: sessionStorage, fetch: (i, init) => fetch(i, init) });
  // @ts-expect-error clientId is required
  new GatehouseClient({ baseUrl: "b", apiKey: "k" });
  // @ts-expect-error unknown storage name
  new GatehouseClient({ baseUrl: "b", apiKey: "k", clientId: "c", storage: "indexedDB" });

  const atLoad: Session | null = await gh.ready;
  const s: Session = await gh.login("a@example.com", "pw");
  const logins: LoginSession[] = await gh.listSessions();
  await gh.endSession(logins[0]!.id);
  const ended: number = (await gh.logoutEverywhere()).ended;
  const expires: number | null = s.expiresAt;
  const r = await gh.register({ email: "e", username: "u", password: "p", password2: "p" });
  const u: User = r.user;
  const kind: "creator" | "staff" | "admin" = u.user_type;
  const p: User = await gh.updateProfile({ first_name: "A" });
  // @ts-expect-error email is read-only
  await gh.updateProfile({ email: "x@example.com" });
  await gh.replaceProfile({ username: "u", first_name: "f", last_name: "l" });
  const cp = await gh.changePassword("old", "new", "new");
  const pair: [string, string] = [cp.access, cp.refresh];
  const res: Response = await gh.fetch("/api/things/", { method: "POST", body: "{}" });
  const off: () => void = gh.onChange((event: AuthChangeEvent, session: Session | null) => {
    if (event === "initialSession" && session) console.log(session.access);
    if (event === "sessionExpired" && session === null) off();
  });
  const cur: Session | null = gh.session;
  const again: Session | null = await gh.getSession();
  const toSend: Session | null = await gh.freshSession();
  const fresh: Session = await gh.refresh();
  await gh.logout();
  try {
    await gh.profile();
  } catch (e: unknown) {
    if (isGatehouseError(e)) {
      const err: GatehouseError = e;
      const msgs: string[] | undefined = err.fields["email"];
      console.log(err.status, err.code, err.detail, msgs);
    }
  }
  try {
    await gh.fetch("/x");
  } catch (e) {
    if (e instanceof GatehouseError) {
      const code: GatehouseErrorCode = e.code;
      if (code === "network_error" || code === "closed") console.log(e.status);
      // @ts-expect-error codes are a union of literals
      if (e.code === "no_such_code") console.log(e);
    }
  }
  // The email flows.
  const sent: string = (await gh.requestPasswordReset("a@example.com")).detail;
  await gh.confirmPasswordReset("tok", "new-pw", "new-pw");
  const ok: true = (await gh.verifyEmail("tok")).email_verified;
  await gh.resendVerification();
  await gh.requestSignInCode("a@example.com");
  const viaCode: Session = await gh.signInWithCode("a@example.com", "123456");
  await gh.changeEmail("b@example.com", "pw");
  const newEmail: string = (await gh.confirmEmailChange("tok")).email;
  const verified: boolean = u.email_verified && u.email_verified_at !== null;
  // @ts-expect-error a reset needs the password twice
  await gh.confirmPasswordReset("tok", "new-pw");
  const flowCode: GatehouseErrorCode = "invalid_token";
  void [sent, ok, viaCode, newEmail, verified, flowCode];
  // Passkeys.
  const pk: Passkey = await gh.registerPasskey("Laptop");
  const algs: number[] = (await gh.listPasskeys()).map((k) => k.alg);
  await gh.renamePasskey(pk.id, "Work laptop");
  await gh.deletePasskey(pk.id);
  const viaPasskey: Session = await gh.signInWithPasskey();
  const second: Session = await gh.verifyMfa("tok", { passkey: true });
  const until: number = (await gh.stepUp({ code: "123456" })).valid_for;
  await gh.stepUp({ passkey: true });
  void until;
  const m: MfaMethod = "passkey";
  const cancelled: GatehouseErrorCode = "passkey_cancelled";
  // @ts-expect-error passkey is a flag, not a credential
  await gh.verifyMfa("tok", { passkey: {} });
  void [algs, viaPasskey, second, m, cancelled, pk.last_used_at];
  // Social sign-in.
  await gh.signInWith("google", { redirectUri: "https://app.example/auth/return" });
  const back = await gh.completeSignIn();
  const backSession: Session | null = back;
  const enrolNow: boolean = !!back?.mfaEnrollmentRequired;
  const badState: GatehouseErrorCode = "invalid_state";
  // @ts-expect-error the return page is required
  await gh.signInWith("google");
  void [backSession, enrolNow, badState];
  gh.close();
  // @ts-expect-error no Symbol.dispose/free on the public class
  gh.free();
  void [expires, kind, p, pair, res, cur, again, fresh, atLoad, ended];
}
void main;
