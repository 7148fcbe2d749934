// One hostile input for scripts/hostile/run.ts: it writes its file(s) into a scratch folder and names
// the command-line tool to run on them. The runner prints each case's exit code, time and peak memory.
export interface HostileCase {
  /** One line naming the attack, e.g. "spec bomb: 1024 filters 32×32 on a 1024×1024 input". */
  name: string;
  /** Writes the hostile file(s) into `dir`; returns the CLI (src/node/cli/<cli>.ts) and its arguments. */
  prepare(dir: string): Promise<{ cli: 'train' | 'evaluate' | 'export' | 'experiments'; args: string[] }>;
}
