import { useEffect, useState } from 'react';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { RequireAuth, useAuth, useSubmit } from './auth.jsx';
import { Field, OtherErrors } from './forms.jsx';

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

function Login() {
  const { client } = useAuth();
  const [v, set] = useFormState({ email: '', password: '' });
  const { busy, fields, detail, run } = useSubmit();
  // On success the client emits signedIn and <SignedOutOnly> moves on to /profile.
  const submit = (e) => { e.preventDefault(); run(() => client.login(v.email, v.password)); };
  return (
    <section data-testid="login-page">
      <h2>Log in</h2>
      <form noValidate onSubmit={submit}>
        <Field form="login" name="email" label="Email" type="email" value={v.email} onChange={set} errors={fields} />
        <Field form="login" name="password" label="Password" type="password" value={v.password} onChange={set} errors={fields} />
        <OtherErrors form="login" fields={fields} shown={['email', 'password']} detail={detail} />
        <button type="submit" data-testid="login-submit" disabled={busy}>Log in</button>
      </form>
      <p>No account? <Link to="/register" data-testid="nav-register">Register</Link></p>
    </section>
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
          <p>Signed in as <strong data-testid="profile-email">{user.email}</strong> ({user.user_type})</p>
          <form noValidate onSubmit={submit}>
            {PROFILE_FIELDS.map((name) => (
              <Field key={name} form="profile" name={name} label={name.replace('_', ' ')} value={v[name]} onChange={edit} errors={save.fields} />
            ))}
            <OtherErrors form="profile" fields={save.fields} shown={PROFILE_FIELDS} detail={save.detail} />
            <button type="submit" data-testid="profile-save" disabled={save.busy}>Save</button>
            {saved && <span className="ok" data-testid="profile-saved">Saved.</span>}
          </form>
        </>
      )}
      <button data-testid="logout" onClick={logout}>Log out</button>
    </section>
  );
}
