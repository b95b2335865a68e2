// Browsers and bundlers (Vite, webpack, Rollup, esbuild): the wasm is a URL
// asset fetched and compiled (streaming) as soon as this module is evaluated,
// in parallel with the app's own code.
import init, { GatehouseClient as Core } from "./core.js";
import { makeClient } from "./client.js";

let up = false;
const loaded = init({ module_or_path: new URL("./gatehouse_client_bg.wasm", import.meta.url) }).then(() => (up = true));
loaded.catch(() => {});
export const GatehouseClient = makeClient(loaded, () => up && Core);
export { GatehouseError, isGatehouseError } from "./client.js";
