import { HttpErrorResponse, HttpInterceptorFn, HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, from, switchMap, throwError } from 'rxjs';
import { AuthService } from './auth.service';

/**
 * For requests to the Gatehouse origin: adds X-Client-ID and X-API-Key, and
 * `Authorization: Bearer` with a token from AuthService (refreshed through the
 * client when it is about to expire). On a 401 `token_not_valid` it gets a new token
 * once (joining a refresh already under way) and retries once.
 */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  const auth = inject(AuthService);
  if (!auth.isApiUrl(req.url)) return next(req);

  const withHeaders = (r: HttpRequest<unknown>, token: string | null) =>
    r.clone({
      setHeaders: {
        'X-Client-ID': auth.config.clientId,
        'X-API-Key': auth.config.apiKey,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    });

  return from(auth.accessToken()).pipe(
    switchMap((token) =>
      next(withHeaders(req, token)).pipe(
        catchError((err: unknown) => {
          // Only a rejected token is worth a refresh (not, say, a wrong API key: 401 api_key_invalid).
          const rejected = err instanceof HttpErrorResponse && err.status === 401 && err.error?.code === 'token_not_valid';
          if (!token || !rejected) return throwError(() => err);
          return from(auth.tokenAfter401(token)).pipe(
            switchMap((fresh) => (fresh ? next(withHeaders(req, fresh)) : throwError(() => err))),
          );
        }),
      ),
    ),
  );
};
