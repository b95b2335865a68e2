import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { GatehouseClient } from '@gatehouse/client';
import { AuthProvider } from './auth.jsx';
import App from './App.jsx';
import './style.css';

// Run-time configuration ({ baseUrl, clientId, apiKey, socialProviders? }), so
// one build works against any server: see ../README.md.
const config = await fetch('/config.json').then((r) => {
  if (!r.ok) throw new Error(`/config.json: ${r.status}`);
  return r.json();
});

// ONE client for the whole app, created outside React: components must not
// create clients (each would run its own refresh timer). localStorage keeps the
// session across reloads and lets tabs share one refresh.
// socialProviders: the ids of the sign-in providers enabled for this API client
// (a "Sign in with …" button each).
const { socialProviders = [], ...options } = config;
const gh = new GatehouseClient({ ...options, storage: 'localStorage' });
// A hot-reloaded module must stop the old client's timer and channel.
import.meta.hot?.dispose(() => gh.close());

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <BrowserRouter>
      <AuthProvider client={gh} providers={socialProviders}>
        <App />
      </AuthProvider>
    </BrowserRouter>
  </StrictMode>,
);
