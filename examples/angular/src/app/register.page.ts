import { Component, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from './auth.service';
import { FieldErrors, ShownError, toShownError } from './errors';

@Component({
  selector: 'app-register-page',
  imports: [RouterLink, FieldErrors],
  template: `
    <section data-testid="register-page">
      <h2>Register</h2>
      <form novalidate (submit)="submit($event, email.value, username.value, first.value, last.value, password.value, password2.value)">
        <label>Email <input #email data-testid="register-email" type="email" autocomplete="email" /></label>
        <app-field-errors [errors]="error().fields" name="email" />
        <label>Username <input #username data-testid="register-username" autocomplete="username" /></label>
        <app-field-errors [errors]="error().fields" name="username" />
        <label>First name <input #first data-testid="register-first_name" autocomplete="given-name" /></label>
        <app-field-errors [errors]="error().fields" name="first_name" />
        <label>Last name <input #last data-testid="register-last_name" autocomplete="family-name" /></label>
        <app-field-errors [errors]="error().fields" name="last_name" />
        <label>Password <input #password data-testid="register-password" type="password" autocomplete="new-password" /></label>
        <app-field-errors [errors]="error().fields" name="password" />
        <label>Password again <input #password2 data-testid="register-password2" type="password" autocomplete="new-password" /></label>
        <app-field-errors [errors]="error().fields" name="password2" />
        <app-field-errors [errors]="error().fields" name="non_field_errors" />
        @if (error().detail) {
          <p class="error" data-testid="register-error">{{ error().detail }}</p>
        }
        <button type="submit" data-testid="register-submit" [disabled]="busy()">Register</button>
      </form>
      <p>Have an account? <a routerLink="/login">Log in</a></p>
    </section>
  `,
})
export class RegisterPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly error = signal<ShownError>({ detail: null, fields: {} });
  readonly busy = signal(false);

  async submit(event: Event, email: string, username: string, first_name: string, last_name: string,
    password: string, password2: string) {
    event.preventDefault();
    this.busy.set(true);
    try {
      // The server signs the new user in: the client stores the pair it returns.
      await this.auth.register({ email, username, first_name, last_name, password, password2 });
      await this.router.navigateByUrl('/profile');
    } catch (e) {
      // A 400 carries every message by field, e.g. {"password": ["…too common.", "…entirely numeric."]}.
      this.error.set(toShownError(e));
    } finally {
      this.busy.set(false);
    }
  }
}
