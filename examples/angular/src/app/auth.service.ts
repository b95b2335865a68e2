import { HttpClient } from '@angular/common/http';
import { DestroyRef, inject, Injectable, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { ProfileFields, RegisterData, User } from '@gatehouse/client';
import { isGatehouseError } from '@gatehouse/client';
import { firstValueFrom } from 'rxjs';
import { GATEHOUSE, GATEHOUSE_CONFIG } from './gatehouse';

/**
 * The app's view of the session, around the GatehouseClient. Sign-in, sign-up and
 * sign-out go through the client (it stores and rotates the tokens). Profile calls go
 * through Angular's HttpClient, like calls to your own API would: the interceptor
 * (auth.interceptor.ts) asks this service for a token.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly gh = inject(GATEHOUSE);
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);
  readonly config = inject(GATEHOUSE_CONFIG);

  /** True while a session exists (this tab or another one sharing localStorage). */
  readonly signedIn = signal(this.gh.session !== null);

  constructor() {
    const unsubscribe = this.gh.onChange((event, session) => {
      this.signedIn.set(session !== null);
      // The refresh token died (expired, revoked, replayed) or another tab logged
      // out: leave the protected pages.
      if (session === null && (event === 'sessionExpired' || event === 'signedOut')) {
        if (this.router.url.startsWith('/profile')) void this.router.navigateByUrl('/login');
      }
    });
    inject(DestroyRef).onDestroy(unsubscribe);
    // The stored session (a custom async storage is read only on demand).
    void this.gh.getSession().then((s) => this.signedIn.set(s !== null));
  }

  register(data: RegisterData) {
    return this.gh.register(data);
  }

  login(email: string, password: string) {
    return this.gh.login(email, password);
  }

  /** Blacklists the refresh token on the server; signs out locally even if that fails. */
  logout() {
    return this.gh.logout();
  }

  /** Reads the stored session, so a guard sees sign-ins and sign-outs of other tabs. */
  async isSignedIn(): Promise<boolean> {
    return (await this.gh.getSession()) !== null;
  }

  /** Requests to these URLs get the API key headers and the access token. */
  isApiUrl(url: string): boolean {
    return url.startsWith(this.config.baseUrl + '/');
  }

  /**
   * A usable access token, or null when signed out. `freshSession()` refreshes
   * first when the token is close to expiry, single flight: parallel requests
   * (and other tabs, through the storage) share one refresh.
   */
  async accessToken(): Promise<string | null> {
    return (await this.gh.freshSession())?.access ?? null;
  }

  /** After a 401 with `used`: a newer token if some other call already refreshed,
   *  else refresh now. Null when the session is over. */
  async tokenAfter401(used: string): Promise<string | null> {
    const s = await this.gh.getSession();
    if (!s) return null;
    if (s.access !== used) return s.access;
    return this.refreshed(used);
  }

  private async refreshed(current: string): Promise<string | null> {
    try {
      return (await this.gh.refresh()).access;
    } catch (e) {
      // A 401 ends the session (the client emits sessionExpired). A network error,
      // 429 or 5xx keeps it: send the current token and let the request report.
      if (isGatehouseError(e) && e.status === 401) return null;
      return current;
    }
  }

  profile(): Promise<User> {
    return firstValueFrom(this.http.get<User>(`${this.config.baseUrl}/api/auth/profile/`));
  }

  updateProfile(patch: Partial<ProfileFields>): Promise<User> {
    return firstValueFrom(this.http.patch<User>(`${this.config.baseUrl}/api/auth/profile/`, patch));
  }
}
