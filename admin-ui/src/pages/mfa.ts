// Two-factor enrolment from the dashboard: the banner a staff login gets when
// the login answer said `mfa_enrollment_required`, and the dialog that enrols
// TOTP (QR code, confirm with a code, the recovery codes shown once).
import { api, enrolled, type TotpEnrollment } from '../api';
import { asyncForm, errorText, field, formError, h, modal, toast } from '../ui';

export function mfaBanner(): HTMLElement {
  return h(
    'div',
    { class: 'mfa-banner', role: 'status', id: 'mfa-banner' },
    h('span', {}, 'Set up two-factor authentication: this dashboard asks staff and admins to use an authenticator app or a passkey.'),
    h(
      'span',
      { class: 'row-actions' },
      h('a', { class: 'btn btn-sm', href: '#/account', id: 'mfa-passkey' }, 'Add a passkey'),
      h('button', { class: 'btn btn-primary btn-sm', id: 'mfa-enrol', onclick: () => enrolDialog() }, 'Set up an app'),
    ),
  );
}

/** The SVG document as an image: a data: URL stays within the page's CSP
 * (no inline markup), and UTF-8 safe through base64. */
const svgImg = (svg: string) => {
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return h('img', { class: 'mfa-qr', alt: 'QR code for your authenticator app', width: 200, height: 200, src: `data:image/svg+xml;base64,${btoa(bin)}` });
};

export async function enrolDialog(): Promise<void> {
  let en: TotpEnrollment;
  try {
    en = await api<TotpEnrollment>('POST', '/api/auth/mfa/totp/enroll/');
  } catch (e) {
    toast(errorText(e), 'error');
    return;
  }
  let codes: string[] | null = null;
  await modal('Two-factor authentication', (close) => {
    const body = h('div', {});
    const code = h('input', { name: 'totp_code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, autofocus: true });
    const error = formError();
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Turn on');
    const send = async () => {
      const r = await api<{ recovery_codes: string[] }>('POST', '/api/auth/mfa/totp/confirm/', { code: code.value.replace(/\s/g, '') });
      codes = r.recovery_codes;
      body.replaceChildren(
        h('p', {}, 'Two-factor authentication is on. Save these recovery codes somewhere safe: each signs in once without the app, and they are shown only now.'),
        h('ul', { class: 'recovery-codes', id: 'recovery-codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
        h('div', { class: 'actions' }, h('button', { class: 'btn btn-primary', id: 'mfa-done', onclick: close }, 'I saved them')),
      );
    };
    body.append(
      asyncForm('mfa-enrol-form', submit, error, send, [
        h('p', {}, 'Scan this code with an authenticator app, then enter the 6-digit code it shows.'),
        svgImg(en.qr_svg),
        h('p', { class: 'hint' }, 'Or type this key: ', h('code', { id: 'totp-secret' }, en.secret)),
        error,
        field('Code from the app', code),
        h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'button', onclick: close }, 'Cancel'), submit),
      ]),
    );
    return [body];
  });
  if (codes) {
    toast('Two-factor authentication is on.');
    enrolled();
  }
}
