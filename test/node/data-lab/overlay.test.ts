// Label overlays: bad files are refused in one line naming the problem; applying one really
// changes what is trained (relabelled images carry the new label, excluded ones are gone), the
// IDX files stay as they are, and the run records the overlay.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyOverlay, type LabelOverlay } from '../../../src/common/overlay';
import { loadMnist, type MnistData } from '../../../src/node/datasets';
import { applyOverlay, loadSavedOverlay, overlayHash, overlaidFingerprint, parseOverlay, saveOverlay } from '../../../src/node/data-lab/overlay';
import { runCli } from '../../helpers/cli';
import { mnistSubset } from '../../helpers/mnist-subset';

let dir: string;
let root: string;
let data: MnistData;

beforeAll(async () => {
  dir = await mnistSubset(1000, 100);
  data = await loadMnist(dir);
  root = await mkdtemp(join(tmpdir(), 'lenet-overlay-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const overlay = (o: Partial<LabelOverlay>): LabelOverlay => ({ ...emptyOverlay(data.fingerprint), ...o });

describe('overlay files', () => {
  it('refuses bad overlays with one line saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /expected an object/],
      [JSON.stringify({ ...overlay({}), format: 'x' }), /format/],
      [JSON.stringify({ ...overlay({}), extra: 1 }), /no key "extra"/],
      [JSON.stringify(overlay({ relabel: [{ index: 1, label: 10 }] })), /label 10 is not a class/],
      [JSON.stringify(overlay({ relabel: [{ index: -1, label: 1 }] })), /relabel\[0\]\.index/],
      [JSON.stringify(overlay({ relabel: [{ index: 1.5, label: 1 }] })), /relabel\[0\]\.index/],
      [JSON.stringify(overlay({ exclude: [1000] })), /image 1000 is past the last training image \(999\)/],
      [JSON.stringify(overlay({ exclude: [3, 3] })), /image 3 is excluded twice/],
      [JSON.stringify(overlay({ relabel: [{ index: 3, label: 1 }], exclude: [3] })), /both relabelled and excluded/],
      [JSON.stringify(overlay({ fingerprint: '00ff' })), /made for the dataset with fingerprint 00ff/],
    ];
    for (const [text, why] of cases) {
      let msg = '';
      try {
        parseOverlay(text, 'x.json', data);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg, text).toMatch(why);
      expect(msg).toMatch(/^overlay x\.json: /);
      expect(msg).not.toContain('\n');
    }
  });

  it('applies relabels and exclusions to a copy, keeping file order; the fingerprint joins the hash', () => {
    const before = data.train.labels.slice();
    const o = overlay({ relabel: [{ index: 5, label: (before[5] + 1) % 10 }], exclude: [0, 2] });
    const d = applyOverlay(data, o);
    expect(d.train.count).toBe(998);
    // image 1 is now first, image 3 second; image 5 (now at 3) has its new label
    expect(Array.from(d.train.labels.subarray(0, 4))).toEqual([before[1], before[3], before[4], (before[5] + 1) % 10]);
    expect(Array.from(d.train.pixels.subarray(0, 784))).toEqual(Array.from(data.train.pixels.subarray(784, 2 * 784)));
    expect(Array.from(data.train.labels)).toEqual(Array.from(before));
    expect(d.overlay).toEqual({ hash: overlayHash(o), baseFingerprint: data.fingerprint, relabelled: 1, excluded: 2 });
    expect(d.fingerprint).toBe(overlaidFingerprint(data.fingerprint, overlayHash(o)));
    expect(d.fingerprint).not.toBe(data.fingerprint);
    // the same corrections in another order hash the same
    expect(overlayHash({ ...o, exclude: [2, 0] })).toBe(overlayHash(o));
  });

  it('saves canonically and atomically under overlays/<fingerprint>.json and loads it back', async () => {
    const app = join(root, 'app');
    expect(await loadSavedOverlay(app, data)).toBeNull();
    const path = await saveOverlay(app, overlay({ exclude: [9, 4] }), data);
    expect(path).toBe(join(app, 'overlays', `${data.fingerprint}.json`));
    expect((await loadSavedOverlay(app, data))?.exclude).toEqual([4, 9]);
    await expect(saveOverlay(app, overlay({ exclude: [5000] }), data)).rejects.toThrow(/past the last training image/);
  });
});

describe('train --overlay', () => {
  it('trains with the corrections: relabelled images carry the new label, excluded ones are gone, run.json records it', async () => {
    // every kept image relabelled 3: the model can only learn to say 3
    const o = overlay({ exclude: Array.from({ length: 100 }, (_, i) => i) });
    o.relabel = Array.from({ length: 900 }, (_, i) => ({ index: 100 + i, label: 3 }));
    const file = join(root, 'all-threes.json');
    await writeFile(file, JSON.stringify(o));
    const run = join(root, 'run');
    const r = await runCli(
      'train',
      ['--data', dir, '--epochs', '1', '--threads', '1', '--overlay', file, '--run-dir', run, '--validation', '0', '--history', 'off', '--json'],
      {
        timeout: 120_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const epoch = JSON.parse(r.stdout.trim().split('\n')[0]) as { testAccuracy: number; trainAccuracy: number };
    const threes = data.test.labels.filter((y) => y === 3).length / data.test.count;
    expect(epoch.testAccuracy).toBeCloseTo(threes, 6);
    expect(epoch.trainAccuracy).toBeGreaterThan(0.5); // the running accuracy of the epoch; real labels would be ~10 % "3"
    const cfg = JSON.parse(await readFile(join(run, 'run.json'), 'utf8')) as { trainCount: number; dataset: { fingerprint: string; overlay: unknown } };
    expect(cfg.trainCount).toBe(900);
    expect(cfg.dataset.overlay).toEqual({ hash: overlayHash(o), baseFingerprint: data.fingerprint, relabelled: 900, excluded: 100 });
    expect(cfg.dataset.fingerprint).toBe(overlaidFingerprint(data.fingerprint, overlayHash(o)));
    // the IDX files are untouched
    expect((await loadMnist(dir)).fingerprint).toBe(data.fingerprint);
  }, 180_000);

  it('refuses a bad overlay file in one line, before training', async () => {
    const bad = join(root, 'bad.json');
    await writeFile(bad, JSON.stringify(overlay({ exclude: [5000] })));
    for (const [file, why] of [
      [bad, /image 5000 is past the last training image/],
      [join(root, 'none.json'), /does not exist/],
    ] as const) {
      const r = await runCli('train', ['--data', dir, '--epochs', '1', '--overlay', file, '--json'], { timeout: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  }, 180_000);
});
