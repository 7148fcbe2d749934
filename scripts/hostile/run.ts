// `npm run hostile`: runs every hostile input of scripts/hostile/cases/*.ts through the real
// command-line tools and prints a Markdown table: each case's exit code, wall time, peak memory
// and the first line it wrote on stderr. A case that runs past the timeout is killed and shown
// as such. docs/security.md quotes this table.
//
// Peak memory comes from the child itself: a tiny preload (written into the case's scratch
// folder) records process.resourceUsage().maxRSS on exit into the file HOSTILE_MAXRSS names. A
// child killed at the timeout cannot write it; then Linux's /proc/<pid>/status VmHWM, read just
// before the kill, stands in.
//
// Usage: npx tsx scripts/hostile/run.ts [--timeout SECONDS] [FILTER]   (FILTER: a substring of case names)

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostileCase } from './case';

const root = fileURLToPath(new URL('../..', import.meta.url));
const casesDir = fileURLToPath(new URL('./cases/', import.meta.url));

const PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  try { writeFileSync(process.env.HOSTILE_MAXRSS, String(process.resourceUsage().maxRSS)); } catch {}
});
`;

interface Outcome {
  name: string;
  exit: string;
  seconds: number;
  peakMB: number | null;
  stderr: string;
}

async function loadCases(filter: string | undefined): Promise<HostileCase[]> {
  const files = (await readdir(casesDir)).filter((f) => f.endsWith('.ts')).sort();
  const all: HostileCase[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(casesDir, f)).href)) as { cases?: HostileCase[] };
    if (!Array.isArray(mod.cases)) throw new Error(`${f} exports no "cases" list`);
    all.push(...mod.cases);
  }
  return filter ? all.filter((c) => c.name.includes(filter)) : all;
}

async function vmHwmKB(pid: number): Promise<number | null> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** One line fit for a Markdown table cell. */
function cell(s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '�').replace(/\|/g, '\\|');
  return t.length > 200 ? `${t.slice(0, 199)}…` : t;
}

async function runCase(c: HostileCase, timeoutMs: number): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'lenet-hostile-'));
  try {
    const { cli, args } = await c.prepare(dir);
    const preload = join(dir, 'maxrss-preload.mjs');
    const rssFile = join(dir, 'maxrss');
    await writeFile(preload, PRELOAD);
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(preload).href, resolve(root, `src/node/cli/${cli}.ts`), ...args], {
      cwd: root,
      env: { ...process.env, HOSTILE_MAXRSS: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    let killedHwm: number | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void vmHwmKB(child.pid!).then((kb) => {
        killedHwm = kb;
        child.kill('SIGKILL');
      });
    }, timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('close', (code, signal) => done({ code, signal })),
    );
    clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    const kb = await readFile(rssFile, 'utf8').then(Number, () => killedHwm);
    // File names without the scratch folder, so the table names no machine path.
    const firstLine = (stderr.split('\n').find((l) => l.trim() !== '') ?? '').split(`${dir}/`).join('');
    return {
      name: c.name,
      exit: timedOut ? `killed after ${timeoutMs / 1000} s` : code !== null ? String(code) : `signal ${signal}`,
      seconds,
      peakMB: kb === null || !Number.isFinite(kb) ? null : kb / 1024,
      stderr: firstLine,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let timeoutS = 60;
  const t = argv.indexOf('--timeout');
  if (t >= 0) {
    timeoutS = Number(argv[t + 1]);
    argv.splice(t, 2);
    if (!(timeoutS > 0)) throw new Error('--timeout needs a number of seconds');
  }
  const cases = await loadCases(argv[0]);
  const rows: Outcome[] = [];
  process.stderr.write(`running ${cases.length} hostile cases (timeout ${timeoutS} s each)\n`);
  for (const c of cases) {
    const o = await runCase(c, timeoutS * 1000);
    process.stderr.write(`  ${o.name}: exit ${o.exit}, ${o.seconds.toFixed(2)} s\n`);
    rows.push(o);
  }
  const lines = [
    '| case | exit | seconds | peak RSS MB | first stderr line |',
    '| --- | --- | ---: | ---: | --- |',
    ...rows.map((o) => `| ${cell(o.name)} | ${o.exit} | ${o.seconds.toFixed(2)} | ${o.peakMB === null ? '—' : o.peakMB.toFixed(0)} | ${cell(o.stderr)} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`hostile: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
