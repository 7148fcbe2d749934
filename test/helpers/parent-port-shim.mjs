// Loaded with `--import` into a Node child started by child_process.fork: gives it the
// `process.parentPort` an Electron utility process has. Messages arrive as `{ data }` events
// and, as in Electron, are queued until the first listener is registered.
const queued = [];
const listeners = [];
process.on('message', (data) => {
  const e = { data };
  if (listeners.length === 0) queued.push(e);
  else for (const l of listeners) l(e);
});
process.parentPort = {
  on(event, listener) {
    if (event !== 'message') return this;
    listeners.push(listener);
    while (queued.length > 0) listener(queued.shift());
    return this;
  },
  postMessage(message) {
    process.send(message);
  },
};
