import { useEffect, useRef, useState } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { RequireAuth, useAuth, useSubmit } from './auth.jsx';
import { Field, OtherErrors } from './forms.jsx';
import { isGatehouseError } from '@gatehouse/client';
import { SecondStep, Security } from './security.jsx';

export default function App() {
  const { status, refreshes } = useAuth();
  return (
    <>
      <header>
        <h1>Gatehouse + React</h1>
        <span className="muted">
          {status === 'signedIn' ? `signed in · token refreshes: ${refreshes}` : status === 'signedOut' ? 'signed out' : ''}
        </span>
      </header>
      <Routes>
        <Route path="/login" element={<SignedOutOnly><Login /></SignedOutOnly>} />
        <Route path="/register" element={<SignedOutOnly><Register /></SignedOutOnly>} />
        <Route path="/forgot" element={<SignedOutOnly><ForgotPassword /></SignedOutOnly>} />
        <Route path="/code" element={<SignedOutOnly><SignInWithCode /></SignedOutOnly>} />
        {/* Reached from a mailed link: open whether or not this browser is signed in. */}
        <Route path="/reset" element={<ResetPassword />} />
        <Route path="/verify" element={<VerifyEmail />} />
        {/* The social sign-in's redirect URI (registered with the provider for this API client). */}
        <Route path="/auth/return" element={<SocialReturn />} />
        <Route path="/profile" element={<RequireAuth><Profile /></RequireAuth>} />
        <Route path="*" element={<Navigate to="/profile" replace />} />
      </Routes>
    </>
  );
}

// The login and register pages send a signed-in user on to where they were going.
function SignedOutOnly({ children }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'signedIn') return <Navigate to={location.state?.from || '/profile'} replace />;
  return children;
}

function useFormState(initial) {
  const [values, setValues] = useState(initial);
  const set = (name, value) => setValues((v) => ({ ...v, [name]: value }));
  return [values, set, setValues];
}

// The page the provider's sign-in comes back to, through Gatehouse's callback.
const RETURN_PATH = '/auth/return';

function Login() {
  const { client, providers } = useAuth();
  const [v, set] = useFormState({ email: '', password: '' });
  const { busy, fields, detail, run } = useSubmit();
  // A user with a second factor: the password was right, the second step follows.
  const [mfa, setMfa] = useState(null);
  // On success the client emits signedIn and <SignedOutOnly> moves on to /profile.
  const submit = (e) => {
    e.preventDefault();
    run(() => client.login(v.email, v.password).catch((err) => {
      if (isGatehouseError(err) && err.code === 'mfa_required') return setMfa({ token: err.mfaToken, methods: err.methods });
      throw err;
    }));
  };
  if (mfa) return <SecondStep mfa={mfa} onRestart={() => setMfa(null)} />;
  return (
    <section data-testid="login-page">
      <h2>Log in</h2>
      <form noValidate onSubmit={submit}>
        <Field form="login" name="email" label="Email" type="email" value={v.email} onChange={set} errors={fields} />
        <Field form="login" name="password" label="Password" type="password" value={v.password} onChange={set} errors={fields} />
        <OtherErrors form="login" fields={fields} shown={['email', 'password']} detail={detail} />
        <button type="submit" data-testid="login-submit" disabled={busy}>Log in</button>
        {/* Passwordless: the browser offers this site's passkeys. */}
        <button type="button" data-testid="login-passkey" disabled={busy} onClick={() => run(() => client.signInWithPasskey())}>Sign in with a passkey</button>
        {/* Social sign-in: the browser leaves for the provider and comes back to RETURN_PATH. */}
        {providers.map((id) => (
          <button type="button" key={id} data-testid={`login-social-${id}`} disabled={busy}
            onClick={() => run(() => client.signInWith(id, { redirectUri: window.location.origin + RETURN_PATH }))}>
            Sign in with {id}
          </button>
        ))}
      </form>
      <p><Link to="/forgot" data-testid="nav-forgot">Forgot password?</Link></p>
      <p><Link to="/code" data-testid="nav-code">Sign in with a code</Link> (if this app's API client enables codes)</p>
      <p>No account? <Link to="/register" data-testid="nav-register">Register</Link></p>
    </section>
  );
}

// Back from the provider: completeSignIn exchanges the one-time code in the URL
// (and removes it) for the session, like a login; a user with a second factor
// gets the second step. Once only: Strict Mode runs effects twice, and the
// code is single use (the ref survives the second run).
function SocialReturn() {
  const { client, status } = useAuth();
  const navigate = useNavigate();
  const started = useRef(false);
  const [mfa, setMfa] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    client.completeSignIn().then(
      (s) => navigate(s ? '/profile' : '/login', { replace: true }),
      (e) => {
        if (isGatehouseError(e) && e.code === 'mfa_required') setMfa({ token: e.mfaToken, methods: e.methods });
        else setError(isGatehouseError(e) ? e.detail : String(e));
      },
    );
  }, [client, navigate]);
  // The second step passed: on to the profile.
  if (mfa && status === 'signedIn') return <Navigate to="/profile" replace />;
  if (mfa) return <SecondStep mfa={mfa} onRestart={() => navigate('/login', { replace: true })} />;
  return (
    <section data-testid="social-return-page">
      {error ? (
        <>
          <p className="error" data-testid="social-error">{error}</p>
          <p><Link to="/login" data-testid="nav-login">Back to log in</Link></p>
        </>
      ) : (
        <p className="muted">Signing in…</p>
      )}
    </section>
  );
}

// A form whose request has one answer, a `detail` to show once it is sent
// (the reset link, the sign-in code): that text and the submit handler.
function useSentDetail(run, ask) {
  const [sent, setSent] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    const r = await run(ask);
    if (r) setSent(r.detail);
  };
  return [sent, submit];
}

// Asks for a reset link. The answer is the same whether or not the address has
// an account (no enumeration); the link in the mail opens /reset?token=… here,
// because this app's API client has `reset_url` set to that page.
function ForgotPassword() {
  const { client } = useAuth();
  const [v, set] = useFormState({ email: '' });
  const { busy, fields, detail, run } = useSubmit();
  const [sent, submit] = useSentDetail(run, () => client.requestPasswordReset(v.email));
  return (
    <section data-testid="forgot-page">
      <h2>Forgot password?</h2>
      {sent ? (
        <p className="ok" data-testid="forgot-sent">{sent}</p>
      ) : (
        <form noValidate onSubmit={submit}>
          <Field form="forgot" name="email" label="Email" type="email" value={v.email} onChange={set} errors={fields} />
          <OtherErrors form="forgot" fields={fields} shown={['email']} detail={detail} />
          <button type="submit" data-testid="forgot-submit" disabled={busy}>Send me a reset link</button>
        </form>
      )}
      <p><Link to="/login" data-testid="nav-login">Back to log in</Link></p>
    </section>
  );
}

// The page of the mailed reset link: /reset?token=…. Password rules are the
// server's (the same as register's); its messages show under the fields.
function ResetPassword() {
  const { client } = useAuth();
  const [params] = useSearchParams();
  const token = params.get('token') || '';
  const [v, set] = useFormState({ password: '', password2: '' });
  const [done, setDone] = useState('');
  const { busy, fields, detail, run } = useSubmit();
  const submit = async (e) => {
    e.preventDefault();
    const r = await run(() => client.confirmPasswordReset(token, v.password, v.password2));
    if (r) setDone(r.detail);
  };
  if (!token) return <section data-testid="reset-page"><p className="error" data-testid="reset-error">This link has no token.</p></section>;
  return (
    <section data-testid="reset-page">
      <h2>Choose a new password</h2>
      {done ? (
        <p className="ok" data-testid="reset-done">{done} <Link to="/login" data-testid="nav-login">Log in</Link></p>
      ) : (
        <form noValidate onSubmit={submit}>
          <Field form="reset" name="password" label="New password" type="password" value={v.password} onChange={set} errors={fields} />
          <Field form="reset" name="password2" label="New password again" type="password" value={v.password2} onChange={set} errors={fields} />
          <OtherErrors form="reset" fields={fields} shown={['password', 'password2']} detail={detail} />
          <button type="submit" data-testid="reset-submit" disabled={busy}>Set the new password</button>
        </form>
      )}
    </section>
  );
}

// /verify?token=…: a button, not an effect, consumes the token (an effect runs
// twice under Strict Mode and the second run would find the token spent).
function VerifyEmail() {
  const { client } = useAuth();
  const [params] = useSearchParams();
  const token = params.get('token') || '';
  const [done, setDone] = useState('');
  const { busy, detail, run } = useSubmit();
  const confirm = async () => {
    const r = await run(() => client.verifyEmail(token));
    if (r) setDone(r.detail);
  };
  return (
    <section data-testid="verify-page">
      <h2>Confirm your email address</h2>
      {done ? (
        <p className="ok" data-testid="verify-done">{done} <Link to="/profile">Continue</Link></p>
      ) : (
        <button data-testid="verify-submit" onClick={confirm} disabled={busy || !token}>Confirm my email address</button>
      )}
      {detail && <p className="error" data-testid="verify-error">{detail}</p>}
    </section>
  );
}

// Passwordless: a six-digit code by mail, then the usual session (signedIn
// takes us to /profile). The API client must enable `signin_codes`. With the
// client's `signin_url` set to this page, the mail's link opens
// /code?email=…&code=… and fills the form; the user still presses "Sign in"
// (opening a link signs nobody in, so a mail scanner's fetch spends nothing).
function SignInWithCode() {
  const { client } = useAuth();
  const [params] = useSearchParams();
  const linked = params.has('code');
  const [v, set] = useFormState({ email: params.get('email') || '', code: params.get('code') || '' });
  const { busy, fields, detail, run } = useSubmit();
  const [requested, request] = useSentDetail(run, () => client.requestSignInCode(v.email));
  const sent = requested || (linked ? 'Your code is filled in from the link.' : '');
  const verify = (e) => { e.preventDefault(); run(() => client.signInWithCode(v.email, v.code)); };
  return (
    <section data-testid="code-page">
      <h2>Sign in with a code</h2>
      <form noValidate onSubmit={sent ? verify : request}>
        <Field form="code" name="email" label="Email" type="email" value={v.email} onChange={set} errors={fields} />
        {sent && <p className="ok" data-testid="code-sent">{sent}</p>}
        {sent && <Field form="code" name="code" label="Code" value={v.code} onChange={set} errors={fields} />}
        <OtherErrors form="code" fields={fields} shown={['email', 'code']} detail={detail} />
        <button type="submit" data-testid="code-submit" disabled={busy}>{sent ? 'Sign in' : 'Mail me a code'}</button>
      </form>
      <p><Link to="/login" data-testid="nav-login">Back to log in</Link></p>
    </section>
  );
}

// Shown while the user's address is unverified; "Send again" mails a new link
// (the older one stops working).
function VerifyBanner() {
  const { client } = useAuth();
  const [sent, setSent] = useState(false);
  const { busy, detail, run } = useSubmit();
  const resend = async () => { if (await run(() => client.resendVerification())) setSent(true); };
  return (
    <div className="banner" data-testid="verify-banner">
      Please confirm your email address: we sent you a link.{' '}
      {sent ? (
        <span className="ok" data-testid="verify-resent">Sent again.</span>
      ) : (
        <button data-testid="verify-resend" onClick={resend} disabled={busy}>Send again</button>
      )}
      {detail && <span className="error" data-testid="verify-resend-error"> {detail}</span>}
    </div>
  );
}

const REGISTER_FIELDS = ['email', 'username', 'password', 'password2', 'first_name', 'last_name'];

function Register() {
  const { client } = useAuth();
  const [v, set] = useFormState(Object.fromEntries(REGISTER_FIELDS.map((f) => [f, ''])));
  const { busy, fields, detail, run } = useSubmit();
  // register() signs the new user in: the signedIn event takes us to /profile.
  const submit = (e) => { e.preventDefault(); run(() => client.register(v)); };
  const field = (name, label, type) => (
    <Field form="register" name={name} label={label} type={type} value={v[name]} onChange={set} errors={fields} />
  );
  return (
    <section data-testid="register-page">
      <h2>Register</h2>
      <form noValidate onSubmit={submit}>
        {field('email', 'Email', 'email')}
        {field('username', 'Username')}
        {field('password', 'Password', 'password')}
        {field('password2', 'Password again', 'password')}
        {field('first_name', 'First name (optional)')}
        {field('last_name', 'Last name (optional)')}
        <OtherErrors form="register" fields={fields} shown={REGISTER_FIELDS} detail={detail} />
        <button type="submit" data-testid="register-submit" disabled={busy}>Register</button>
      </form>
      <p>Have an account? <Link to="/login" data-testid="nav-login">Log in</Link></p>
    </section>
  );
}

const PROFILE_FIELDS = ['username', 'first_name', 'last_name'];

function Profile() {
  const { client } = useAuth();
  const navigate = useNavigate();
  const [user, setUser] = useState(null);
  const [v, set, setValues] = useFormState({ username: '', first_name: '', last_name: '' });
  const [saved, setSaved] = useState(false);
  const load = useSubmit();
  const save = useSubmit();

  useEffect(() => {
    let live = true;
    load.run(async () => {
      const u = await client.profile(); // refreshes first if the access token is (nearly) expired
      if (!live) return;
      setUser(u);
      setValues({ username: u.username, first_name: u.first_name, last_name: u.last_name });
    });
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);

  const edit = (name, value) => { setSaved(false); set(name, value); };
  const submit = async (e) => {
    e.preventDefault();
    setSaved(false);
    const u = await save.run(() => client.updateProfile(v)); // PATCH
    if (u) { setUser(u); setSaved(true); }
  };
  const logout = async () => {
    await client.logout(); // blacklists the refresh token; signs out locally even if that fails
    navigate('/login', { replace: true });
  };

  return (
    <section data-testid="profile-page">
      <h2>Profile</h2>
      {load.detail && <p className="error">{load.detail}</p>}
      {user && (
        <>
          {!user.email_verified && <VerifyBanner />}
          <p>Signed in as <strong data-testid="profile-email">{user.email}</strong> ({user.user_type})</p>
          <form noValidate onSubmit={submit}>
            {PROFILE_FIELDS.map((name) => (
              <Field key={name} form="profile" name={name} label={name.replace('_', ' ')} value={v[name]} onChange={edit} errors={save.fields} />
            ))}
            <OtherErrors form="profile" fields={save.fields} shown={PROFILE_FIELDS} detail={save.detail} />
            <button type="submit" data-testid="profile-save" disabled={save.busy}>Save</button>
            {saved && <span className="ok" data-testid="profile-saved">Saved.</span>}
          </form>
          <Security />
        </>
      )}
      <button data-testid="logout" onClick={logout}>Log out</button>
    </section>
  );
}
