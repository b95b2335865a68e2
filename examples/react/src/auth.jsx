// The auth provider and hook around @gatehouse/client. The client does the
// work (tokens in storage, refresh before expiry, one retry after a 401, one
// refresh at a time across tabs); React only mirrors "signed in or not".
import { createContext, useContext, useEffect, useState } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { isGatehouseError } from '@gatehouse/client';

const AuthContext = createContext(null);

export function AuthProvider({ client, providers = [], children }) {
  // 'loading' until the stored session has been read, then 'signedIn' | 'signedOut'.
  const [status, setStatus] = useState('loading');
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    let live = true;
    client.getSession().then((s) => live && setStatus(s ? 'signedIn' : 'signedOut'));
    // signedIn | refreshed | signedOut | sessionExpired (the refresh token died:
    // another tab logged out, or the login was revoked). Unsubscribe on unmount:
    // Strict Mode mounts effects twice.
    const off = client.onChange((event, session) => {
      setStatus(session ? 'signedIn' : 'signedOut');
      if (event === 'refreshed') setRefreshes((n) => n + 1);
    });
    return () => { live = false; off(); };
  }, [client]);

  const value = { client, providers, status, refreshes };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth() {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth() outside <AuthProvider>');
  return ctx;
}

// The protected-route wrapper: signed out → /login (remembering where to come back to).
export function RequireAuth({ children }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <p className="muted">Loading…</p>;
  if (status === 'signedOut') return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return children;
}

// Runs a client call for a form and keeps its errors: `fields` is the server's
// DRF body ({ field: [messages] }) for a 400, `detail` the message of any other
// failure (wrong credentials, throttled, network).
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState({});
  const [detail, setDetail] = useState('');
  async function run(fn) {
    setBusy(true);
    setFields({});
    setDetail('');
    try {
      return await fn();
    } catch (e) {
      if (isGatehouseError(e) && Object.keys(e.fields).length) setFields(e.fields);
      else setDetail(isGatehouseError(e) ? e.detail : String(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, fields, detail, run };
}
