// The Pinia auth store around @gatehouse/client. The client does the work
// (tokens in storage, refresh before expiry, one retry after a 401, one
// refresh at a time across tabs); the store mirrors "signed in or not" for
// templates and the route guard, and is the one place views call the API from.
import { computed, ref } from 'vue';
import { defineStore } from 'pinia';

export const useAuthStore = defineStore('auth', () => {
  // Not reactive on purpose: a wasm-backed object, never to be proxied by Vue.
  let client = null;
  let loaded = Promise.resolve();
  const status = ref('loading'); // then 'signedIn' | 'signedOut'
  const refreshes = ref(0);
  const signedIn = computed(() => status.value === 'signedIn');

  function init(gh) {
    client = gh;
    // signedIn | refreshed | signedOut | sessionExpired
    gh.onChange((event, session) => {
      status.value = session ? 'signedIn' : 'signedOut';
      if (event === 'refreshed') refreshes.value += 1;
    });
    loaded = gh.getSession().then((s) => {
      if (status.value === 'loading') status.value = s ? 'signedIn' : 'signedOut';
    });
  }

  return {
    status,
    refreshes,
    signedIn,
    init,
    ready: () => loaded,
    // Each rejects with a GatehouseError: { status, code, detail, fields }.
    // The status is set here too, not only from the client's events, so that the
    // guard of the very next navigation already sees it.
    async login(email, password) {
      const session = await client.login(email, password);
      status.value = 'signedIn';
      return session;
    },
    async register(data) { // signs the new user in
      const res = await client.register(data);
      status.value = 'signedIn';
      return res;
    },
    async logout() { // blacklists the refresh token; local sign-out even if that fails
      await client.logout();
      status.value = 'signedOut';
    },
    profile: () => client.profile(), // refreshes first if the access token is (nearly) expired
    updateProfile: (patch) => client.updateProfile(patch), // PATCH
  };
});
