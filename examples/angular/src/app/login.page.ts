import { Component, inject } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from './auth.service';
import { FieldErrors, FormState } from './errors';

@Component({
  selector: 'app-login-page',
  imports: [RouterLink, FieldErrors],
  template: `
    <section data-testid="login-page">
      <h2>Log in</h2>
      <!-- novalidate: the server judges the input and the page shows its messages. -->
      <form novalidate (submit)="submit($event, email.value, password.value)">
        <label>Email <input #email data-testid="login-email" type="email" autocomplete="username" /></label>
        <app-field-errors [errors]="form.error().fields" name="email" />
        <label>Password <input #password data-testid="login-password" type="password" autocomplete="current-password" /></label>
        <app-field-errors [errors]="form.error().fields" name="password" />
        @if (form.error().detail) {
          <p class="error" data-testid="login-error">{{ form.error().detail }}</p>
        }
        <button type="submit" data-testid="login-submit" [disabled]="form.busy()">Log in</button>
      </form>
      <p>No account yet? <a routerLink="/register" data-testid="nav-register">Register</a></p>
    </section>
  `,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly form = new FormState();

  async submit(event: Event, email: string, password: string) {
    event.preventDefault();
    // Wrong credentials: 401 {"detail": "No active account…", "code": "no_active_account"}.
    if (await this.form.run(() => this.auth.login(email, password))) await this.router.navigateByUrl('/profile');
  }
}
