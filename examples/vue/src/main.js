import { createApp, watch } from 'vue';
import { createPinia } from 'pinia';
import { GatehouseClient } from '@gatehouse/client';
import App from './App.vue';
import { router } from './router.js';
import { useAuthStore } from './stores/auth.js';
import './style.css';

// Run-time configuration ({ baseUrl, clientId, apiKey }), so one build works
// against any server: see ../README.md.
const config = await fetch('/config.json').then((r) => {
  if (!r.ok) throw new Error(`/config.json: ${r.status}`);
  return r.json();
});

// ONE client for the app. localStorage keeps the session across reloads and
// lets tabs share one refresh.
const gh = new GatehouseClient({ ...config, storage: 'localStorage' });
import.meta.hot?.dispose(() => gh.close());

const app = createApp(App).use(createPinia());
const auth = useAuthStore();
auth.init(gh);
app.use(router);

// When the session ends while a protected page is open (logout in another tab,
// a revoked login: the client emits signedOut / sessionExpired), leave it.
watch(() => auth.signedIn, (signedIn) => {
  const route = router.currentRoute.value;
  if (!signedIn && auth.status !== 'loading' && route.meta.requiresAuth) {
    router.replace({ path: '/login', query: { next: route.fullPath } });
  }
});

app.mount('#app');
