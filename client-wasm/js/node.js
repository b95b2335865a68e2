// Node ≥ 20 (SSR, scripts, tests): the wasm is read from the package and
// compiled synchronously at import.
import { readFileSync } from "node:fs";
import { initSync, GatehouseClient as Core } from "./core.js";
import { makeClient } from "./client.js";

initSync({ module: readFileSync(new URL("./gatehouse_client_bg.wasm", import.meta.url)) });
export const GatehouseClient = makeClient(Promise.resolve(), () => Core);
export { GatehouseError, isGatehouseError } from "./client.js";
