import { ApiError, credentials, hasServerCredentials, setCredentials, signIn, signInWithPasskey, verifyMfa } from '../api';
import { append, asyncForm, clear, errorText, field, formError, h, icon } from '../ui';

const brand = () => h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, icon('shield', 18)), h('h1', {}, 'Gatehouse'));

const message = (err: unknown) => {
  if (err instanceof ApiError) {
    if (err.code === 'user_type_not_allowed' || err.code === 'not_staff') return 'This dashboard is for staff and admins only.';
    if (err.code === 'api_key_invalid' || err.code === 'api_key_missing') return 'The dashboard’s API client is not recognised. Check its client id and key.';
    if (err.code === 'invalid_mfa_code') return 'That code is not right. Try the current one from your app.';
    if (err.code === 'mfa_token_invalid') return 'This sign-in has expired or ran out of attempts. Start again.';
    if (err.code === 'passkey_cancelled') return 'No passkey was used: the browser’s request was cancelled or timed out.';
    if (err.code === 'passkey_unknown') return 'This passkey is not registered here any more.';
    if (err.code === 'passkeys_unavailable') return 'Passkeys need the dashboard’s API client to list this site as its first allowed origin.';
  }
  return errorText(err);
};

export function loginPage(root: HTMLElement, done: () => void): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = formError();
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in');

  // Without operator-configured credentials, the page asks for the
  // dashboard's API client (README.md, "Dashboard credentials").
  const askClient = !hasServerCredentials();
  const saved = credentials();
  const clientId = h('input', { name: 'client_id', placeholder: 'cl_…', required: askClient, value: saved?.clientId ?? '' });
  const apiKey = h('input', { name: 'api_key', type: 'password', placeholder: 'sk_…', required: askClient, autocomplete: 'off', value: saved?.apiKey ?? '' });
  const remember = h('input', { type: 'checkbox', name: 'remember', checked: !!saved });

  const send = async () => {
    submit.textContent = 'Signing in…';
    try {
      if (askClient) setCredentials({ clientId: clientId.value.trim(), apiKey: apiKey.value.trim() }, remember.checked);
      await signIn(email.value.trim(), password.value);
      done();
    } catch (e) {
      // A second factor is on: the password was right, the code comes next.
      if (e instanceof ApiError && e.code === 'mfa_required' && e.body.mfa_token) {
        clear(root);
        return mfaStep(root, e.body.mfa_token, e.body.methods ?? [], done);
      }
      throw e;
    } finally {
      submit.textContent = 'Sign in';
    }
  };
  // Passwordless: no email or password; the browser offers this site's passkeys.
  const passkeyBtn = passkeyButton({ class: 'btn btn-block', id: 'passkey-sign-in' }, 'Sign in with a passkey', error, done, () => {
    if (askClient) setCredentials({ clientId: clientId.value.trim(), apiKey: apiKey.value.trim() }, remember.checked);
    return signInWithPasskey();
  });
  const form = asyncForm('login-card', submit, error, send, [
    brand(),
    h('p', { class: 'muted' }, 'Sign in to the admin dashboard.'),
    error,
    field('Email', email),
    field('Password', password),
    askClient
      ? h(
          'fieldset',
          { class: 'client-creds' },
          h('legend', {}, 'Dashboard API client'),
          h('small', { class: 'hint' }, 'This server has no dashboard client configured. Create one with ', h('code', {}, 'gatehouse create-api-client --type admin'), '.'),
          field('Client ID', clientId),
          field('API key', apiKey),
          h('label', { class: 'check' }, remember, ' Remember on this browser'),
        )
      : null,
    submit,
    typeof PublicKeyCredential == 'function' ? h('div', { class: 'login-alt' }, passkeyBtn) : null,
  ], message);
  append(root, [form]);
}

/** The second step: the authenticator code, or a recovery code instead, or
 * a passkey (`methods` has "passkey"; the only way when it has no "totp"). */
function mfaStep(root: HTMLElement, mfaToken: string, methods: string[], done: () => void): void {
  if (!methods.includes('totp')) return passkeyStep(root, mfaToken, done);
  let recovery = false;
  const code = h('input', { name: 'mfa_code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,7}', required: true, autofocus: true });
  const label = h('span', { class: 'field-label' }, 'Authenticator code');
  const error = formError();
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Verify');
  const toggle = h('button', { class: 'btn btn-ghost btn-sm', type: 'button', id: 'use-recovery' }, 'Use a recovery code instead');
  toggle.onclick = () => {
    recovery = !recovery;
    label.textContent = recovery ? 'Recovery code' : 'Authenticator code';
    toggle.textContent = recovery ? 'Use the authenticator code' : 'Use a recovery code instead';
    code.inputMode = recovery ? 'text' : 'numeric';
    code.pattern = recovery ? '.*' : '[0-9 ]{6,7}';
    code.value = '';
    code.focus();
  };
  const send = async () => {
    submit.textContent = 'Verifying…';
    try {
      const v = code.value.trim();
      await verifyMfa(mfaToken, recovery ? { recoveryCode: v } : { code: v.replace(/\s/g, '') });
      done();
    } finally {
      submit.textContent = 'Verify';
    }
  };
  const usePasskey = methods.includes('passkey')
    ? passkeyButton({ class: 'btn btn-ghost btn-sm', id: 'use-passkey' }, 'Use a passkey instead', error, done, () => verifyMfa(mfaToken, { passkey: true }))
    : null;
  append(root, [
    asyncForm('login-card', submit, error, send, [
      brand(),
      h('p', { class: 'muted' }, 'Two-factor authentication is on for this account. Enter the 6-digit code from your authenticator app.'),
      error,
      h('label', { class: 'field' }, label, code),
      submit,
      h('div', { class: 'login-alt' }, toggle, usePasskey, backLink(root, done)),
    ], message),
  ]);
}

/** A button beside a form that signs in with a passkey (`ceremony`), then
 *  `done()`; disabled meanwhile, a failure shown in the form's `error`. */
function passkeyButton(attrs: Record<string, string>, label: string, error: HTMLElement, done: () => void, ceremony: () => Promise<unknown>): HTMLButtonElement {
  const b = h('button', { ...attrs, type: 'button' }, label);
  b.onclick = async () => {
    error.hidden = true;
    b.disabled = true;
    try {
      await ceremony();
      done();
    } catch (e) {
      error.textContent = message(e);
      error.hidden = false;
    } finally {
      b.disabled = false;
    }
  };
  return b;
}

const backLink = (root: HTMLElement, done: () => void) =>
  h('a', { href: '#/', class: 'hint', onclick: (e: Event) => { e.preventDefault(); clear(root); loginPage(root, done); } }, 'Start again');

/** The second step of an account whose only factor is a passkey. */
function passkeyStep(root: HTMLElement, mfaToken: string, done: () => void): void {
  const error = formError();
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit', id: 'use-passkey', autofocus: true }, 'Use your passkey');
  const send = async () => {
    await verifyMfa(mfaToken, { passkey: true });
    done();
  };
  append(root, [
    asyncForm('login-card', submit, error, send, [
      brand(),
      h('p', { class: 'muted' }, 'This account signs in with a passkey as its second step. Your browser will ask for it.'),
      error,
      submit,
      h('div', { class: 'login-alt' }, backLink(root, done)),
    ], message),
  ]);
}
