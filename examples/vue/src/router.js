import { createRouter, createWebHistory } from 'vue-router';
import { useAuthStore } from './stores/auth.js';
import LoginView from './views/LoginView.vue';
import RegisterView from './views/RegisterView.vue';
import ProfileView from './views/ProfileView.vue';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/profile' },
    { path: '/login', component: LoginView, meta: { guestOnly: true } },
    { path: '/register', component: RegisterView, meta: { guestOnly: true } },
    { path: '/profile', component: ProfileView, meta: { requiresAuth: true } },
    { path: '/:rest(.*)*', redirect: '/profile' },
  ],
});

// The route guard: waits until the stored session has been read, then sends a
// signed-out visitor of a protected page to /login (and a signed-in one away
// from the login and register pages).
router.beforeEach(async (to) => {
  const auth = useAuthStore();
  await auth.ready();
  if (to.meta.requiresAuth && !auth.signedIn) return { path: '/login', query: { next: to.fullPath } };
  if (to.meta.guestOnly && auth.signedIn) return '/profile';
  return true;
});
