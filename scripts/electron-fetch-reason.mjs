// Loaded into Electron's installer (node --import) by `npm start` (src/node/launch/electron-binary.ts).
// The installer prints only "TypeError: fetch failed" and a stack when the download cannot start;
// the reason (ENOTFOUND, ECONNREFUSED, ETIMEDOUT…) hides in the error's `cause`. This wraps fetch
// to write one line with the URL and that reason, and one when the server answers (so the caller
// can tell a slow download from no connection). It changes nothing else.
const MARK = '[lenet-fetch]';
const fetch0 = globalThis.fetch;

function reasonOf(e) {
  const c = e?.cause;
  const inner = c?.errors?.[0] ?? c; // AggregateError from happy-eyeballs connects
  const code = inner?.code ?? c?.code ?? e?.code;
  const message = inner?.message ?? e?.message ?? String(e);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

globalThis.fetch = async function fetchReporting(input, init) {
  const url = typeof input === 'string' ? input : (input?.url ?? String(input));
  try {
    const res = await fetch0(input, init);
    process.stderr.write(`${MARK} response ${res.status} ${url}\n`);
    return res;
  } catch (e) {
    process.stderr.write(`${MARK} failed ${url}: ${reasonOf(e)}\n`);
    throw e;
  }
};
