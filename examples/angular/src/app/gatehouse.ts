import { InjectionToken } from '@angular/core';
// The pkg/bundler build: it imports its .wasm as an ES module, which Angular's
// esbuild-based builder resolves (emitted under media/, instantiated with a
// top-level await, which needs a zoneless app). See the README, "The wasm".
import { GatehouseClient } from '@gatehouse/client';

export interface GatehouseConfig {
  baseUrl: string;
  clientId: string;
  apiKey: string;
}

/** The one GatehouseClient of the app (created before bootstrap in main.ts). */
export const GATEHOUSE = new InjectionToken<GatehouseClient>('GatehouseClient');
export const GATEHOUSE_CONFIG = new InjectionToken<GatehouseConfig>('GatehouseConfig');

/** The API's origin and this frontend's credentials, read at run time so that one
 *  build works against any server (`public/config.json` in development). */
export async function loadConfig(): Promise<GatehouseConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/config.json: HTTP ${res.status}`);
  const c = (await res.json()) as Partial<GatehouseConfig>;
  if (!c.baseUrl || !c.clientId || !c.apiKey) throw new Error('/config.json needs baseUrl, clientId and apiKey');
  return { baseUrl: c.baseUrl.replace(/\/+$/, ''), clientId: c.clientId, apiKey: c.apiKey };
}

export function createClient(config: GatehouseConfig): GatehouseClient {
  return new GatehouseClient({
    ...config,
    // The session survives a reload and is shared (refreshes included) by tabs.
    storage: 'localStorage',
    // No refresh timer: the HTTP interceptor refreshes when a request needs a token
    // (auth.service.ts accessToken()), so an idle tab spends no refresh tokens.
    autoRefresh: false,
  });
}
