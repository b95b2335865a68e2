// Workers (workerd/Cloudflare, and bundlers that import .wasm as a
// WebAssembly.Module): compiled at deploy time, instantiated at import.
import wasm from "./gatehouse_client_bg.wasm";
import { initSync, GatehouseClient as Core } from "./core.js";
import { makeClient } from "./client.js";

initSync({ module: wasm });
export const GatehouseClient = makeClient(Promise.resolve(), () => Core);
export { GatehouseError, isGatehouseError } from "./client.js";
