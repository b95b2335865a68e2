import { ApiError, credentials, hasServerCredentials, setCredentials, signIn } from '../api';
import { append, asyncForm, errorText, field, formError, h, icon } from '../ui';

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
    } finally {
      submit.textContent = 'Sign in';
    }
  };
  const message = (err: unknown) => {
    if (err instanceof ApiError) {
      if (err.code === 'user_type_not_allowed' || err.code === 'not_staff') return 'This dashboard is for staff and admins only.';
      if (err.code === 'api_key_invalid' || err.code === 'api_key_missing') return 'The dashboard’s API client is not recognised. Check its client id and key.';
    }
    return errorText(err);
  };
  const form = asyncForm('login-card', submit, error, send, [
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark' }, icon('shield', 18)), h('h1', {}, 'Gatehouse')),
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
  ], message);
  append(root, [form]);
}
