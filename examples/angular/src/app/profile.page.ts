import { Component, inject, OnInit, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { User } from '@gatehouse/client';
import { AuthService } from './auth.service';
import { FieldErrors, FormState, toShownError } from './errors';

@Component({
  selector: 'app-profile-page',
  imports: [FieldErrors],
  template: `
    <section data-testid="profile-page">
      <h2>Profile</h2>
      @if (user(); as u) {
        <p>Signed in as <strong data-testid="profile-email">{{ u.email }}</strong> ({{ u.user_type }})</p>
        <form novalidate (submit)="save($event, username.value, first.value, last.value)" (input)="saved.set(false)">
          <label>Username <input #username data-testid="profile-username" [value]="u.username" /></label>
          <app-field-errors [errors]="form.error().fields" name="username" />
          <label>First name <input #first data-testid="profile-first_name" [value]="u.first_name" /></label>
          <app-field-errors [errors]="form.error().fields" name="first_name" />
          <label>Last name <input #last data-testid="profile-last_name" [value]="u.last_name" /></label>
          <app-field-errors [errors]="form.error().fields" name="last_name" />
          <button type="submit" data-testid="profile-save" [disabled]="form.busy()">Save</button>
          @if (saved()) {
            <span class="ok" data-testid="profile-saved">Saved.</span>
          }
        </form>
      } @else if (!form.error().detail) {
        <p>Loading…</p>
      }
      @if (form.error().detail) {
        <p class="error" data-testid="profile-error">{{ form.error().detail }}</p>
      }
      <button type="button" data-testid="logout" (click)="logout()">Log out</button>
    </section>
  `,
})
export class ProfilePage implements OnInit {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly user = signal<User | null>(null);
  readonly form = new FormState();
  readonly saved = signal(false);

  async ngOnInit() {
    try {
      // HttpClient GET; the interceptor adds the headers and refreshes if needed.
      this.user.set(await this.auth.profile());
    } catch (e) {
      this.form.error.set(toShownError(e));
    }
  }

  async save(event: Event, username: string, first_name: string, last_name: string) {
    event.preventDefault();
    const saved = async () => this.user.set(await this.auth.updateProfile({ username, first_name, last_name }));
    if (await this.form.run(saved)) this.saved.set(true);
  }

  async logout() {
    await this.auth.logout();
    await this.router.navigateByUrl('/login');
  }
}
