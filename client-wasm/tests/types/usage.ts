// Type-level test of the package's declarations (tsc --noEmit, strict): the
// calls an app makes must type-check, and misuse must not (@ts-expect-error).
import init, {
  GatehouseClient,
  isGatehouseError,
  type AuthChangeEvent,
  type GatehouseError,
  type Session,
  type StorageAdapter,
  type User,
} from "../../pkg/web/gatehouse_client.js";

async function main(): Promise<void> {
  await init();
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

  const s: Session = await gh.login("a@example.com", "pw");
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
  gh.close();
  gh.free();
  void [expires, kind, p, pair, res, cur, again, fresh];
}
void main;
