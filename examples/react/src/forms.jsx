// Form pieces shared by the pages: an input with the server's messages for it
// under it (data-testid="error-<field>"), and the errors of fields that have no input.

export function Field({ form, name, label, type = 'text', value, onChange, errors }) {
  const msgs = errors?.[name];
  return (
    <div className="field">
      <label htmlFor={`${form}-${name}`}>{label}</label>
      <input
        id={`${form}-${name}`}
        name={name}
        type={type}
        data-testid={`${form}-${name}`}
        value={value}
        onChange={(e) => onChange(name, e.target.value)}
        autoComplete={type === 'password' ? (form === 'login' ? 'current-password' : 'new-password') : undefined}
      />
      {msgs && <div className="error" data-testid={`error-${name}`}>{msgs.join(' ')}</div>}
    </div>
  );
}

export function OtherErrors({ fields, shown, form, detail }) {
  const rest = Object.entries(fields).filter(([name]) => !shown.includes(name));
  return (
    <>
      {rest.map(([name, msgs]) => (
        <div key={name} className="error" data-testid={`error-${name}`}>{[].concat(msgs).join(' ')}</div>
      ))}
      {detail && <div className="error" data-testid={`${form}-error`}>{detail}</div>}
    </>
  );
}
