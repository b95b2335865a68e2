import { Component, inject } from '@angular/core';
import { RouterLink, RouterOutlet } from '@angular/router';
import { AuthService } from './auth.service';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink],
  template: `
    <header>
      <h1>Gatehouse · Angular</h1>
      <!-- signedIn follows the client's onChange events, this tab's and other tabs'. -->
      <nav>
        @if (auth.signedIn()) {
          <a routerLink="/profile">Profile</a>
        } @else {
          <a routerLink="/login">Log in</a> · <a routerLink="/register">Register</a>
        }
      </nav>
    </header>
    <router-outlet />
  `,
})
export class AppComponent {
  readonly auth = inject(AuthService);
}
