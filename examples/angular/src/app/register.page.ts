import { Component, inject } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { AuthService } from './auth.service';
import { FieldErrors, FormState } from './errors';

@Component({
  selector: 'app-register-page',
  imports: [RouterLink, FieldErrors],
  template: `
    <section data-testid="register-page">
      <h2>Register</h2>
      <form novalidate (submit)="submit($event, email.value, username.value, first.value, last.value, password.value, password2.value)">
        <label>Email <input #email data-testid="register-email" type="email" autocomplete="email" /></label>
        <app-field-errors [errors]="form.error().fields" name="email" />
        <label>Username <input #username data-testid="register-username" autocomplete="username" /></label>
        <app-field-errors [errors]="form.error().fields" name="username" />
        <label>First name <input #first data-testid="register-first_name" autocomplete="given-name" /></label>
        <app-field-errors [errors]="form.error().fields" name="first_name" />
        <label>Last name <input #last data-testid="register-last_name" autocomplete="family-name" /></label>
        <app-field-errors [errors]="form.error().fields" name="last_name" />
        <label>Password <input #password data-testid="register-password" type="password" autocomplete="new-password" /></label>
        <app-field-errors [errors]="form.error().fields" name="password" />
        <label>Password again <input #password2 data-testid="register-password2" type="password" autocomplete="new-password" /></label>
        <app-field-errors [errors]="form.error().fields" name="password2" />
        <app-field-errors [errors]="form.error().fields" name="non_field_errors" />
        @if (form.error().detail) {
          <p class="error" data-testid="register-error">{{ form.error().detail }}</p>
        }
        <button type="submit" data-testid="register-submit" [disabled]="form.busy()">Register</button>
      </form>
      <p>Have an account? <a routerLink="/login">Log in</a></p>
    </section>
  `,
})
export class RegisterPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly form = new FormState();

  async submit(event: Event, email: string, username: string, first_name: string, last_name: string,
    password: string, password2: string) {
    event.preventDefault();
    // The server signs the new user in: the client stores the pair it returns. A
    // 400 carries every message by field, e.g. {"password": ["…too common.", "…entirely numeric."]}.
    const registered = () => this.auth.register({ email, username, first_name, last_name, password, password2 });
    if (await this.form.run(registered)) await this.router.navigateByUrl('/profile');
  }
}
