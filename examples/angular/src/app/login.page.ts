import { Component, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from './auth.service';
import { FieldErrors, ShownError, toShownError } from './errors';

@Component({
  selector: 'app-login-page',
  imports: [RouterLink, FieldErrors],
  template: `
    <section data-testid="login-page">
      <h2>Log in</h2>
      <!-- novalidate: the server judges the input and the page shows its messages. -->
      <form novalidate (submit)="submit($event, email.value, password.value)">
        <label>Email <input #email data-testid="login-email" type="email" autocomplete="username" /></label>
        <app-field-errors [errors]="error().fields" name="email" />
        <label>Password <input #password data-testid="login-password" type="password" autocomplete="current-password" /></label>
        <app-field-errors [errors]="error().fields" name="password" />
        @if (error().detail) {
          <p class="error" data-testid="login-error">{{ error().detail }}</p>
        }
        <button type="submit" data-testid="login-submit" [disabled]="busy()">Log in</button>
      </form>
      <p>No account yet? <a routerLink="/register" data-testid="nav-register">Register</a></p>
    </section>
  `,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly error = signal<ShownError>({ detail: null, fields: {} });
  readonly busy = signal(false);

  async submit(event: Event, email: string, password: string) {
    event.preventDefault();
    this.busy.set(true);
    try {
      await this.auth.login(email, password);
      await this.router.navigateByUrl('/profile');
    } catch (e) {
      // Wrong credentials: 401 {"detail": "No active account…", "code": "no_active_account"}.
      this.error.set(toShownError(e));
    } finally {
      this.busy.set(false);
    }
  }
}
