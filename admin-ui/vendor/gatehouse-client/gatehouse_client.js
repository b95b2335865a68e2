export * from './index.js';
// The package loads its wasm itself: `init` only keeps the older call shape.
export default function init() { return Promise.resolve(); }
