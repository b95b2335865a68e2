/* @ts-self-types="./gatehouse_client.d.ts" */

/**
 * The wasm core of `GatehouseClient` (see js/client.js).
 */
export class GatehouseClient {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        GatehouseClientFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm["na"](ptr, 0);
    }
    /**
     * Stops the timer and the channel (for hot reload, tests, Node processes).
     */
    close() {
        wasm["oa"](this.__wbg_ptr);
    }
    /**
     * `send(token)` sends the request with the access token given (see `Inner::authed`).
     * @param {any} send
     * @returns {Promise<any>}
     */
    fetch(send) {
        const ret = wasm["pa"](this.__wbg_ptr, send);
        return ret;
    }
    /**
     * Forgets the session (after the shell's logout call), telling the other tabs.
     * @returns {Promise<any>}
     */
    forget() {
        const ret = wasm["qa"](this.__wbg_ptr);
        return ret;
    }
    /**
     * The session with an access token fit to send: refreshed first when it is
     * close to expiry (single flight, like `fetch`).
     * @returns {Promise<any>}
     */
    freshSession() {
        const ret = wasm["ra"](this.__wbg_ptr);
        return ret;
    }
    /**
     * Reads the session from the storage (picks up other tabs' changes).
     * @returns {Promise<any>}
     */
    getSession() {
        const ret = wasm["sa"](this.__wbg_ptr);
        return ret;
    }
    /**
     * `shell`: the options as js/client.js checked them, plus its callbacks
     * (see `host::Shell`).
     * @param {any} shell
     */
    constructor(shell) {
        const ret = wasm["ta"](shell);
        this.__wbg_ptr = ret;
        GatehouseClientFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * @returns {Promise<any>}
     */
    refresh() {
        const ret = wasm["ua"](this.__wbg_ptr);
        return ret;
    }
    /**
     * The current session as last seen (`null` when signed out).
     * @returns {any}
     */
    get session() {
        const ret = wasm["va"](this.__wbg_ptr);
        return ret;
    }
    /**
     * What the page tells the client (the package's JS wires it to events):
     * 0 `online` or visible again (retry a failed refresh now), 1 `pagehide`
     * (give up a held refresh claim so that other tabs take over at once).
     * @param {number} kind
     */
    signal(kind) {
        wasm["wa"](this.__wbg_ptr, kind);
    }
    /**
     * A new pair from the server (`{access, refresh}`) as the session;
     * `refreshed`: a password change (else a sign-in). Resolves with the session.
     * @param {any} pair
     * @param {boolean} refreshed
     * @returns {Promise<any>}
     */
    take(pair, refreshed) {
        const ret = wasm["xa"](this.__wbg_ptr, pair, refreshed);
        return ret;
    }
}
if (Symbol.dispose) GatehouseClient.prototype[Symbol.dispose] = GatehouseClient.prototype.free;
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        "ea": function(arg0) {
            const ret = typeof(arg0) === 'function';
            return ret;
        },
        "ba": function(arg0) {
            const val = arg0;
            const ret = typeof(val) === 'object' && val !== null;
            return ret;
        },
        "ca": function(arg0) {
            const ret = typeof(arg0) === 'string';
            return ret;
        },
        "fa": function(arg0) {
            const ret = arg0 === undefined;
            return ret;
        },
        "aa": function(arg0, arg1) {
            const ret = arg0 === arg1;
            return ret;
        },
        "da": function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'number' ? obj : undefined;
            getDataViewMemory0().setFloat64((arg0 >>> 0) + 8 * 1, isLikeNone(ret) ? 0 : ret, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, !isLikeNone(ret), true);
        },
        "$": function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        "ga": function(arg0) {
            arg0._wbg_cb_unref();
        },
        "t": function() { return handleError(function (arg0) {
            const ret = atob(arg0);
            return ret;
        }, arguments); },
        "p": function(arg0) {
            const ret = arg0.auto;
            return ret;
        },
        "G": function() { return handleError(function (arg0, arg1) {
            const ret = arg0.call(arg1);
            return ret;
        }, arguments); },
        "D": function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.call(arg1, arg2);
            return ret;
        }, arguments); },
        "n": function(arg0) {
            const ret = arg0.chan;
            return ret;
        },
        "d": function(arg0) {
            clearInterval(arg0);
        },
        "l": function(arg0) {
            clearTimeout(arg0);
        },
        "j": function(arg0) {
            arg0.close();
        },
        "_": function(arg0, arg1) {
            const ret = arg0.concat(arg1);
            return ret;
        },
        "B": function(arg0, arg1) {
            const ret = arg0.delete(arg1);
            return ret;
        },
        "k": function(arg0, arg1, arg2, arg3) {
            arg0.emit(getStringFromWasm0(arg1, arg2), arg3);
        },
        "M": function(arg0) {
            const ret = Array.from(arg0);
            return ret;
        },
        "U": function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        "g": function() { return handleError(function (arg0, arg1) {
            const ret = arg0.get(arg1);
            return ret;
        }, arguments); },
        "z": function(arg0, arg1) {
            const ret = arg0.get(arg1);
            return ret;
        },
        "x": function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        "w": function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        "N": function(arg0) {
            const ret = Array.isArray(arg0);
            return ret;
        },
        "m": function(arg0) {
            const ret = arg0.key;
            return ret;
        },
        "y": function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        "o": function(arg0) {
            const ret = arg0.margin;
            return ret;
        },
        "I": function() {
            const ret = new Map();
            return ret;
        },
        "O": function() {
            const ret = new Object();
            return ret;
        },
        "F": function(arg0, arg1) {
            try {
                var state0 = {a: arg0, b: arg1};
                var cb0 = (arg0, arg1) => {
                    const a = state0.a;
                    state0.a = 0;
                    try {
                        return wasm_bindgen__convert__closures_____invoke__h36b612059ede6d03(a, state0.b, arg0, arg1);
                    } finally {
                        state0.a = a;
                    }
                };
                const ret = new Promise(cb0);
                return ret;
            } finally {
                state0.a = 0;
            }
        },
        "J": function() {
            const ret = Date.now();
            return ret;
        },
        "L": function(arg0, arg1, arg2, arg3, arg4) {
            const ret = Array.of(arg0, arg1, arg2, arg3, arg4);
            return ret;
        },
        "a": function() { return handleError(function (arg0) {
            const ret = JSON.parse(arg0);
            return ret;
        }, arguments); },
        "i": function() { return handleError(function (arg0, arg1) {
            arg0.postMessage(arg1);
        }, arguments); },
        "X": function(arg0) {
            const ret = arg0.queueMicrotask;
            return ret;
        },
        "W": function(arg0) {
            queueMicrotask(arg0);
        },
        "K": function() {
            const ret = Math.random();
            return ret;
        },
        "u": function() { return handleError(function (arg0, arg1) {
            const ret = arg0.remove(arg1);
            return ret;
        }, arguments); },
        "f": function(arg0, arg1) {
            const ret = arg0.renew(arg1);
            return ret;
        },
        "Y": function(arg0, arg1, arg2, arg3, arg4) {
            const ret = arg0.replaceAll(getStringFromWasm0(arg1, arg2), getStringFromWasm0(arg3, arg4));
            return ret;
        },
        "T": function(arg0) {
            const ret = Promise.resolve(arg0);
            return ret;
        },
        "c": function(arg0, arg1, arg2) {
            const ret = setInterval(arg0, arg1, arg2);
            return ret;
        },
        "b": function(arg0, arg1) {
            const ret = setTimeout(arg0, arg1);
            return ret;
        },
        "V": function() { return handleError(function (arg0, arg1, arg2) {
            const ret = Reflect.set(arg0, arg1, arg2);
            return ret;
        }, arguments); },
        "A": function(arg0, arg1, arg2) {
            const ret = arg0.set(arg1, arg2);
            return ret;
        },
        "v": function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.set(arg1, arg2);
            return ret;
        }, arguments); },
        "s": function(arg0, arg1) {
            arg0.onmessage = arg1;
        },
        "r": function(arg0) {
            const ret = arg0.shared;
            return ret;
        },
        "Z": function(arg0, arg1, arg2) {
            const ret = arg0.split(getStringFromWasm0(arg1, arg2));
            return ret;
        },
        "P": function() {
            const ret = typeof globalThis === 'undefined' ? undefined : globalThis;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        "R": function() {
            const ret = typeof global === 'undefined' ? undefined : global;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        "Q": function() {
            const ret = typeof self === 'undefined' ? undefined : self;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        "S": function() {
            const ret = typeof window === 'undefined' ? undefined : window;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        "h": function(arg0) {
            const ret = arg0.status;
            return ret;
        },
        "q": function(arg0) {
            const ret = arg0.store;
            return ret;
        },
        "e": function(arg0) {
            const ret = JSON.stringify(arg0);
            return ret;
        },
        "E": function(arg0, arg1, arg2) {
            const ret = arg0.then(arg1, arg2);
            return ret;
        },
        "H": function(arg0, arg1) {
            const ret = arg0.then(arg1);
            return ret;
        },
        "C": function(arg0) {
            const ret = arg0.values();
            return ret;
        },
        "ia": function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 1, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__ha12e2f26f438a559);
            return ret;
        },
        "ja": function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 24, ret: Result(Unit), inner_ret: Some(Result(Unit)) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__hff0ee63e39e23348);
            return ret;
        },
        "ka": function(arg0) {
            // Cast intrinsic for `F64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        "la": function(arg0, arg1) {
            // Cast intrinsic for `Ref(String) -> Externref`.
            const ret = getStringFromWasm0(arg0, arg1);
            return ret;
        },
        "ha": function() {
            const table = wasm["Fa"];
            table.set(0, undefined);
            table.set(1024, undefined);
            table.set(1025, null);
            table.set(1026, true);
            table.set(1027, false);
        },
    };
    return {
        __proto__: null,
        "a": import0,
    };
}

function wasm_bindgen__convert__closures_____invoke__ha12e2f26f438a559(arg0, arg1, arg2) {
    wasm["Ca"](arg0, arg1, arg2);
}

function wasm_bindgen__convert__closures_____invoke__hff0ee63e39e23348(arg0, arg1, arg2) {
    const ret = wasm["Ba"](arg0, arg1, arg2);
    if (ret[1]) {
        throw takeFromExternrefTable0(ret[0]);
    }
}

function wasm_bindgen__convert__closures_____invoke__h36b612059ede6d03(arg0, arg1, arg2, arg3) {
    wasm["Aa"](arg0, arg1, arg2, arg3);
}

const GatehouseClientFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm["na"](ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm["Ea"]();
    wasm["Fa"].set(idx, obj);
    return idx;
}

const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm["Ga"](state.a, state.b));

let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm["ma"].buffer)) {
        cachedDataViewMemory0 = new DataView(wasm["ma"].buffer);
    }
    return cachedDataViewMemory0;
}

function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm["ma"].buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm["Da"](idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function makeMutClosure(arg0, arg1, f) {
    const state = { a: arg0, b: arg1, cnt: 1 };
    const real = (...args) => {

        // First up with a closure we increment the internal reference
        // count. This ensures that the Rust closure environment won't
        // be deallocated while we're invoking it.
        state.cnt++;
        const a = state.a;
        state.a = 0;
        try {
            return f(a, state.b, ...args);
        } finally {
            state.a = a;
            real._wbg_cb_unref();
        }
    };
    real._wbg_cb_unref = () => {
        if (--state.cnt === 0) {
            wasm["Ga"](state.a, state.b);
            state.a = 0;
            CLOSURE_DTORS.unregister(state);
        }
    };
    CLOSURE_DTORS.register(real, state, state);
    return real;
}

function takeFromExternrefTable0(idx) {
    const value = wasm["Fa"].get(idx);
    wasm["Ha"](idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
    numBytesDecoded += bytes.length;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
        cachedTextDecoder.decode();
        numBytesDecoded = bytes.length;
    }
    return cachedTextDecoder.decode(bytes);
}

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    cachedDataViewMemory0 = null;
    cachedUint8ArrayMemory0 = null;
    wasm["Ia"]();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {

    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }

    if (module_or_path === undefined) {
        module_or_path = new URL('gatehouse_client_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
