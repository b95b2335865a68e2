import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { provideZonelessChangeDetection } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { provideRouter } from '@angular/router';
import { AppComponent } from './app/app.component';
import { authInterceptor } from './app/auth.interceptor';
import { createClient, GATEHOUSE, GATEHOUSE_CONFIG, loadConfig } from './app/gatehouse';
import { routes } from './app/routes';

// The client's options come from /config.json at run time, so the client is made
// before bootstrap and provided as a value (see app/gatehouse.ts).
async function main() {
  const config = await loadConfig();
  const client = createClient(config);
  await bootstrapApplication(AppComponent, {
    providers: [
      provideZonelessChangeDetection(),
      provideRouter(routes),
      provideHttpClient(withInterceptors([authInterceptor])),
      { provide: GATEHOUSE_CONFIG, useValue: config },
      { provide: GATEHOUSE, useValue: client },
    ],
  });
}

main().catch((e) => {
  document.body.textContent = `Could not start: ${e instanceof Error ? e.message : e}`;
  console.error(e);
});
