// The trainer's side of its channel to the host. In Electron's utility process that is
// `process.parentPort` (messages arrive as `{ data }` events and are queued until the first
// listener); tests give a plain Node child the same object via a small shim (see TOOLCHAIN.md).
// Typed structurally here, because src/node may not import Electron, not even its types.

export interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

export function connectParentPort(): ParentPortLike {
  const port = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!port || typeof port.postMessage !== 'function' || typeof port.on !== 'function') {
    throw new Error('the trainer must run as an Electron utility process (process.parentPort is missing)');
  }
  return port;
}
