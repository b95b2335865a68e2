export * from './index.js';
export default function init(options?: unknown): Promise<void>;
