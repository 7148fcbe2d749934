/* global window, location */
// window.studio for the renderer served by the test host: the same StudioApi the preload
// exposes in Electron, one function per method, each a request over a WebSocket to the host,
// which runs the same Studio (src/node/studio/) main runs. Injected with page.addInitScript.
(() => {
  // The channel list of src/preload/channels.ts, put on the page by installStudioShim() just before
  // this script, so the two never drift apart.
  const METHODS = window.__STUDIO_METHODS__.filter((m) => m !== 'openDroppedModel');
  const b64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const unb64 = (text) => {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  };
  const encode = (value) =>
    JSON.stringify(value, (_k, v) => {
      if (v instanceof Float32Array) return { $f32: b64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
      if (v instanceof Uint8Array) return { $u8: b64(v) };
      return v;
    });
  const decode = (text) =>
    JSON.parse(text, (_k, v) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const keys = Object.keys(v);
        if (keys.length === 1 && typeof v.$f32 === 'string') return new Float32Array(unb64(v.$f32).buffer);
        if (keys.length === 1 && typeof v.$u8 === 'string') return unb64(v.$u8);
      }
      return v;
    });

  const pending = new Map();
  const listeners = new Set();
  let nextId = 1;
  const ws = new WebSocket(`ws://${location.host}/studio`);
  const open = new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', () => reject(new Error('test host: WebSocket failed')));
  });
  ws.addEventListener('message', (m) => {
    const msg = decode(m.data);
    if (msg.event) {
      for (const l of listeners) l(msg.event);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error));
  });
  const call = async (method, args) => {
    await open;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(encode({ id, method, args }));
    });
  };
  const api = {};
  for (const m of METHODS) api[m] = (...args) => call(m, args);
  api.openDroppedModel = () => Promise.reject(new Error('drag and drop needs the desktop app'));
  api.onEvent = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  window.studio = Object.freeze(api);
})();
