// Second factors: the second step of a login that answered `mfa_required`
// (a code from the app, a recovery code, or a passkey), and the profile's
// Security section (TOTP enrolment with its QR code and the recovery codes
// shown once; passkeys: add, list, delete). Passkeys need the page on one of
// the API client's origins, the first of which names the relying party
// (http://localhost:PORT in development: WebAuthn refuses an IP address).
import { useEffect, useState } from 'react';
import { useAuth, useSubmit } from './auth.jsx';
import { OtherErrors } from './forms.jsx';

/** After the password: `mfa` is the rejection's { token, methods }. */
export function SecondStep({ mfa, onRestart }) {
  const { client } = useAuth();
  const [code, setCode] = useState('');
  const { busy, fields, detail, run } = useSubmit();
  // Six digits are the app's code; anything else is taken as a recovery code.
  const answer = () => (/^\d{6}$/.test(code.replace(/\s/g, '')) ? { code: code.replace(/\s/g, '') } : { recoveryCode: code });
  const submit = (e) => { e.preventDefault(); run(() => client.verifyMfa(mfa.token, answer())); };
  return (
    <section data-testid="mfa-page">
      <h2>Second step</h2>
      {mfa.methods.includes('totp') && (
        <form noValidate onSubmit={submit}>
          <label htmlFor="mfa-code">Code from your authenticator app, or a recovery code</label>
          <input id="mfa-code" data-testid="mfa-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit" data-testid="mfa-submit" disabled={busy}>Verify</button>
        </form>
      )}
      {mfa.methods.includes('passkey') && (
        <button data-testid="mfa-passkey" disabled={busy} onClick={() => run(() => client.verifyMfa(mfa.token, { passkey: true }))}>Use a passkey</button>
      )}
      <OtherErrors form="mfa" fields={fields} shown={[]} detail={detail} />
      <p><button type="button" data-testid="mfa-restart" onClick={onRestart}>Start again</button></p>
    </section>
  );
}

/** The profile's Security section. */
export function Security() {
  const { client } = useAuth();
  const [factors, setFactors] = useState(null);
  const [keys, setKeys] = useState([]);
  const [enrolment, setEnrolment] = useState(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState(null);
  const { busy, detail, run } = useSubmit();
  const reload = async () => {
    setFactors(await client.mfaFactors());
    setKeys(await client.listPasskeys());
  };
  useEffect(() => { run(reload); /* eslint-disable-next-line react-hooks/exhaustive-deps */ }, [client]);

  const enrol = () => run(async () => setEnrolment(await client.enrollTotp()));
  const confirm = (e) => {
    e.preventDefault();
    run(async () => {
      const r = await client.confirmTotp(code.replace(/\s/g, ''));
      setEnrolment(null);
      setCode('');
      setCodes(r.recovery_codes); // shown this once
      await reload();
    });
  };
  const addPasskey = () => run(async () => { await client.registerPasskey(`Passkey ${keys.length + 1}`); await reload(); });
  const remove = (id) => run(async () => { await client.deletePasskey(id); await reload(); });

  return (
    <div data-testid="security">
      <h3>Security</h3>
      {factors && (factors.totp ? (
        <p data-testid="totp-on">Authenticator app: on ({factors.recovery_codes_left} recovery codes left).</p>
      ) : enrolment ? (
        <form noValidate onSubmit={confirm}>
          <p>Scan this with an authenticator app, then type the code it shows.</p>
          {/* A data: URL, not inline SVG markup: fine under a strict CSP. */}
          <img data-testid="totp-qr" alt="QR code for your authenticator app" width="200" height="200" src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qr_svg)}`} />
          <p className="muted">Or type this key: <code data-testid="totp-secret">{enrolment.secret}</code></p>
          <label htmlFor="totp-code">Code</label>
          <input id="totp-code" data-testid="totp-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit" data-testid="totp-confirm" disabled={busy}>Turn on</button>
        </form>
      ) : (
        <button data-testid="totp-enroll" disabled={busy} onClick={enrol}>Set up an authenticator app</button>
      ))}
      {codes && (
        <div className="banner" data-testid="recovery-codes">
          Save these recovery codes: each signs in once without the app, and they are shown only now.
          <ul>{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
          <button data-testid="recovery-done" onClick={() => setCodes(null)}>I saved them</button>
        </div>
      )}
      <h4>Passkeys</h4>
      <ul data-testid="passkey-list">
        {keys.map((k) => (
          <li key={k.id} data-testid="passkey-item">
            {k.name} <button data-testid="passkey-delete" disabled={busy} onClick={() => remove(k.id)}>Delete</button>
          </li>
        ))}
      </ul>
      <button data-testid="passkey-add" disabled={busy} onClick={addPasskey}>Add a passkey</button>
      {detail && <div className="error" data-testid="security-error">{detail}</div>}
    </div>
  );
}
