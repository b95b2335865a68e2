import './style.css';
import { api, claims, loadConfig, mfaEnrollmentRequired, onSessionChange, signedIn, signOut } from './api';
import { append, clear, errorText, h, icon } from './ui';
import { loginPage } from './pages/login';
import { overviewPage } from './pages/overview';
import { usersPage } from './pages/users';
import { clientsPage, clientDetailPage } from './pages/clients';
import { auditPage } from './pages/audit';
import { keysPage } from './pages/keys';
import { webhooksPage } from './pages/webhooks';
import { providersPage } from './pages/providers';
import { mfaBanner } from './pages/mfa';
import { accountPage } from './pages/account';

// Hash routes (#/users, #/clients/cl_x): the hosts serve one index.html and
// need no fallback rules.
type Page = (root: HTMLElement, params: string[]) => Promise<void> | void;

const routes: [RegExp, Page, string][] = [
  [/^\/$/, overviewPage, 'overview'],
  [/^\/users$/, usersPage, 'users'],
  [/^\/clients$/, clientsPage, 'clients'],
  [/^\/clients\/([^/]+)$/, clientDetailPage, 'clients'],
  [/^\/audit$/, auditPage, 'audit'],
  [/^\/account$/, accountPage, 'account'],
  [/^\/keys$/, keysPage, 'keys'],
  [/^\/webhooks$/, webhooksPage, 'webhooks'],
  [/^\/providers$/, providersPage, 'providers'],
];

const app = document.getElementById('app')!;

function route(): { page: Page; params: string[]; nav: string } | null {
  const path = decodeURIComponent(location.hash.replace(/^#/, '').split('?')[0] || '/');
  for (const [re, page, nav] of routes) {
    const m = re.exec(path);
    if (m) return { page, params: m.slice(1), nav };
  }
  return null;
}

function navLink(href: string, label: string, key: string, active: string, ic: string) {
  return h('a', { href, class: key === active ? 'nav-link active' : 'nav-link', 'aria-current': key === active ? 'page' : undefined }, h('span', { class: 'nav-icon' }, icon(ic)), label);
}

interface Profile {
  id: number;
  username: string;
  email: string;
}
let profile: Promise<Profile> | null = null;
let profileOf = 0;
let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const c = claims();
  if (!signedIn() || !c || !c.is_staff) {
    clear(app);
    app.className = 'login-shell';
    loginPage(app, () => {
      if (!location.hash || location.hash === '#/login') location.hash = '#/';
      else render();
    });
    return;
  }
  const r = route();
  if (!r) {
    location.hash = '#/';
    return;
  }
  clear(app);
  app.className = 'shell';
  const main = h('main', { class: 'content', id: 'content' });
  if (mfaEnrollmentRequired()) main.append(mfaBanner());
  const role = c.is_superuser ? 'admin' : 'staff';
  const who = h('span', { class: 'whoami-name' }, `User #${c.user_id}`);
  if (!profile || profileOf !== c.user_id) {
    profileOf = c.user_id;
    profile = api<Profile>('GET', '/api/auth/profile/');
  }
  profile
    .then((p) => {
      who.textContent = p.username;
      who.title = p.email;
    })
    .catch(() => {
      profile = null;
    });
  append(app, [
    h(
      'aside',
      { class: 'sidebar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, icon('shield', 18)), h('span', {}, 'Gatehouse')),
      h(
        'nav',
        { class: 'nav', 'aria-label': 'Main' },
        navLink('#/', 'Overview', 'overview', r.nav, 'overview'),
        navLink('#/users', 'Users', 'users', r.nav, 'users'),
        navLink('#/clients', 'API clients', 'clients', r.nav, 'key'),
        navLink('#/audit', 'Audit log', 'audit', r.nav, 'audit'),
        navLink('#/account', 'Your account', 'account', r.nav, 'shield'),
        c.is_superuser ? navLink('#/keys', 'Signing keys', 'keys', r.nav, 'shield') : null,
        // Webhooks are for admins only (they see every user's events).
        role === 'admin' ? navLink('#/webhooks', 'Webhooks', 'webhooks', r.nav, 'key') : null,
        // So are sign-in providers (deployment settings across every client).
        role === 'admin' ? navLink('#/providers', 'Sign-in providers', 'providers', r.nav, 'key') : null,
        h('a', { href: '/api/schema/swagger/', class: 'nav-link', target: '_blank', rel: 'noopener' }, h('span', { class: 'nav-icon' }, icon('docs')), 'API docs'),
      ),
      h(
        'div',
        { class: 'whoami' },
        h('div', { class: 'whoami-id' }, who, h('span', { class: `badge badge-${role}` }, role)),
        h('button', { class: 'btn btn-ghost btn-sm', id: 'sign-out', onclick: () => signOut() }, 'Sign out'),
      ),
    ),
    main,
  ]);
  try {
    await r.page(main, r.params);
  } catch (e) {
    if (seq !== renderSeq) return;
    clear(main);
    append(main, [h('div', { class: 'empty error' }, errorText(e))]);
  }
}

window.addEventListener('hashchange', () => render());
onSessionChange(() => render());

loadConfig().then(render, (e) => {
  clear(app);
  append(app, [h('div', { class: 'login-card form-error' }, `The dashboard could not start: ${errorText(e)}`)]);
});
