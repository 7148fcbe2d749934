// The browser-test host: serves the built renderer (out/renderer) over http on 127.0.0.1 and
// implements window.studio over a WebSocket with the same Studio main uses, backed by
// the real trainer process. Dialogs answer from a queue the test fills.

import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { Studio } from '../../../src/node/studio/studio';
import { STUDIO_METHODS, type StudioMethod } from '../../../src/common/channels';
import type { TrainerChild } from '../../../src/node/trainer/host';
import { PARENT_PORT_SHIM } from '../../helpers/fork-trainer';
import { decode, encode } from './codec';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * The trainer as `npm run build` ships it: the entry chunk electron-vite emitted for main's
 * `?modulePath` import, the bundled shard worker, the compiled kernels; plain Node, no tsx.
 */
export function builtTrainer(outMain: string, wasmPath: string, threads: number): () => TrainerChild {
  const chunk = /chunks\/entry-[A-Za-z0-9_-]+\.js/.exec(readFileSync(join(outMain, 'index.js'), 'utf8'))?.[0];
  if (!chunk) throw new Error(`${outMain}/index.js names no trainer entry chunk: run npm run build`);
  const entry = join(outMain, chunk);
  return () => {
    const child = fork(entry, [`--wasm=${wasmPath}`, `--worker=${join(outMain, 'shard-worker.js')}`, `--threads=${threads}`], {
      execArgv: ['--import', PARENT_PORT_SHIM],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return {
      pid: child.pid,
      // Like Electron's utility process, a message to a trainer that has exited is dropped quietly.
      postMessage: (m) => {
        if (child.connected) child.send(m);
      },
      onMessage: (l) => {
        child.on('message', l);
      },
      onExit: (l) => {
        child.once('exit', (code, signal) => l(signal ? `killed by ${signal}` : `exit code ${code}`));
      },
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}

export interface TestHost {
  url: string;
  studio: Studio;
  /** Answers for the next dialogs (a path, or null for Cancel). */
  dialogAnswers: (string | null)[];
  close(): Promise<void>;
}

export async function startTestHost(opts: { rendererDir: string; dataDir: string; datasetDir: string; spawnTrainer: () => TrainerChild }): Promise<TestHost> {
  const sockets = new Set<WebSocket>();
  const dialogAnswers: (string | null)[] = [];
  const answer = async (): Promise<string | null> => dialogAnswers.shift() ?? null;
  const studio = new Studio({
    dataDir: opts.dataDir,
    embeddedDatasetDir: opts.datasetDir,
    app: { name: 'LeNet Studio', version: 'test-host', platform: process.platform },
    hooks: { chooseDatasetFolder: answer, chooseModelFile: answer, chooseSaveModelPath: answer, chooseExportPath: answer, chooseRunsExportPath: answer },
    spawnTrainer: opts.spawnTrainer,
    emit: (event) => {
      const text = encode({ event });
      for (const s of sockets) s.send(text);
    },
    log: (m) => process.stderr.write(`[test host] ${m}\n`),
  });
  await studio.init();

  const root = normalize(opts.rendererDir);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(root, path === '/' ? 'index.html' : path));
      if (!file.startsWith(root + sep) && file !== root) {
        res.writeHead(403).end();
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end('not found');
      }
    })();
  });
  const wss = new WebSocketServer({ server, path: '/studio' });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      void (async () => {
        const msg = decode(String(data)) as { id: number; method: string; args: unknown[] };
        try {
          if (!(STUDIO_METHODS as readonly string[]).includes(msg.method)) throw new Error(`unknown method ${msg.method}`);
          const result = await studio.call(msg.method as StudioMethod, Array.isArray(msg.args) ? msg.args : []);
          ws.send(encode({ id: msg.id, ok: true, result: result ?? null }));
        } catch (e) {
          ws.send(encode({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    studio,
    dialogAnswers,
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      await studio.dispose();
    },
  };
}
