import { Routes } from '@angular/router';
import { authGuard } from './auth.guard';
import { LoginPage } from './login.page';
import { ProfilePage } from './profile.page';
import { RegisterPage } from './register.page';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'profile' },
  { path: 'login', component: LoginPage },
  { path: 'register', component: RegisterPage },
  { path: 'profile', component: ProfilePage, canActivate: [authGuard] },
  { path: '**', redirectTo: 'profile' },
];
