// Readable and usable by everyone, on every view, in both themes: axe-core (injected into the
// page) finds no serious or critical violation, colour contrast included, on Data, Model (also
// with what its units want), Train, Inspect, Evaluate, Compare, Health, Data lab, Embedding and
// Sweeps with real content (two short runs, a model on screen, an evaluation, a digit inspected,
// a data map, a finished sweep), on the keyboard dialog and with an error banner open. Every view is photographed at 1280×800
// and 960×640 in light and dark under test-results/views/.
// Also: the settings form explains a refused value under its field in the label's words, and an
// error leads with a plain sentence with the technical message one click away.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/common/records';
import { QUICK, SHOTS, startApp, trainRun, type App } from './app';
import { LABEL_ISSUES_DEFAULTS, cacheFile, defaultCacheDir, writeCachedProbabilities } from '../../src/node/data-lab/label-issues';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const THEMES = ['light', 'dark'] as const;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 960, height: 640 },
] as const;

let app: App;
let a: RunSummary;
let b: RunSummary;

beforeAll(async () => {
  app = await startApp({ colorScheme: 'light' });
  await mkdir(join(SHOTS, 'views'), { recursive: true });
  a = await trainRun(app.host, 'lenet5-relu-ce-bn', { limit: 2000, validation: 200, epochs: 2 });
  b = await trainRun(app.host, 'lenet5-relu-ce', { limit: 2000, validation: 200, lr: 0.02 });
});
afterAll(async () => app?.close());

interface Finding {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The page's CSP refuses
 * inline scripts (so page.addScriptTag cannot inject it); evaluating the script through the
 * DevTools protocol is allowed and leaves the CSP in force for the app.
 */
async function axeFindings(page: Page): Promise<Finding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await readFile(AXE, 'utf8'));
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`) }));
}

async function theme(t: (typeof THEMES)[number]): Promise<void> {
  await app.page.emulateMedia({ colorScheme: t });
  // Charts and canvases redraw on the theme change; let them.
  await app.page.waitForTimeout(300);
}

/** At both sizes: a photograph, and no serious or critical axe violation. */
async function checkAndShoot(name: string, t: (typeof THEMES)[number]): Promise<void> {
  const findings: Record<string, Finding[]> = {};
  for (const size of SIZES) {
    await app.page.setViewportSize(size);
    await app.page.waitForTimeout(200);
    await app.shot(`views/${name}-${size.width}x${size.height}-${t}`);
    const found = await axeFindings(app.page);
    if (found.length) findings[`${size.width}x${size.height}`] = found;
  }
  await app.page.setViewportSize(SIZES[0]);
  expect(findings, `${name}, ${t}`).toEqual({});
}

// Each view, brought to a state with content.
const VIEWS: [string, (page: Page) => Promise<void>][] = [
  [
    'train',
    async (page) => {
      await page.getByTestId('nav-train').click();
      await page.locator('[data-testid="run-item"]', { hasText: 'lenet5-relu-ce-bn' }).click();
      await page.getByTestId('runs').locator('li.selected').waitFor();
    },
  ],
  [
    'data',
    async (page) => {
      await page.getByTestId('nav-data').click();
      await page.getByTestId('data-view').locator('canvas').first().waitFor();
    },
  ],
  [
    'model',
    async (page) => {
      await page.getByTestId('nav-model').click();
      await page.getByTestId('layer-table').waitFor();
    },
  ],
  [
    'model-units',
    async (page) => {
      await page.getByTestId('nav-model').click();
      await page.getByTestId('unit-layer-conv2').click();
      await page.getByTestId('unit-grid').waitFor({ timeout: 60_000 });
      await page.getByTestId('unit-viz').scrollIntoViewIfNeeded();
    },
  ],
  [
    'inspect',
    async (page) => {
      await page.getByTestId('nav-inspect').click();
      await page.getByTestId('pick-index').fill('3');
      await page.getByTestId('pick-go').click();
      await page.getByTestId('scores').waitFor();
    },
  ],
  [
    'evaluate',
    async (page) => {
      await page.getByTestId('nav-evaluate').click();
      await page.getByTestId('confusion').waitFor({ timeout: 60_000 });
    },
  ],
  [
    'compare',
    async (page) => {
      await page.getByTestId('nav-compare').click();
      for (const r of [a, b]) if (!(await page.getByTestId(`pick-${r.id}`).isChecked())) await page.getByTestId(`pick-${r.id}`).check();
      await page.getByTestId('config-diff').waitFor();
      await page.getByTestId('fixed-broke-summary').waitFor({ timeout: 60_000 });
    },
  ],
  [
    'health',
    async (page) => {
      await page.getByTestId('nav-health').click();
      await page.getByTestId('health-run').selectOption(a.id);
      await page.getByTestId('health-overlay').selectOption(b.id);
      await page.getByTestId('band-charts').locator('canvas').first().waitFor();
    },
  ],
  [
    'embedding',
    async (page) => {
      await page.getByTestId('nav-embedding').click();
      await page.getByTestId('embedding-canvas').and(page.locator(':not([data-drawn="0"])')).waitFor({ timeout: 60_000 });
      await page.getByTestId('legend-class-3').click();
      await page.getByTestId('embedding-gallery').waitFor();
    },
  ],
  [
    'datalab',
    async (page) => {
      await seedLabelIssues();
      await page.getByTestId('nav-datalab').click();
      await page.getByTestId('issues-gallery').locator('li canvas').first().waitFor({ timeout: 60_000 });
      await page.getByTestId('data-map-canvas').waitFor({ timeout: 60_000 });
      await page.getByTestId('region-gallery').or(page.getByTestId('region-empty')).waitFor({ timeout: 60_000 });
    },
  ],
  [
    'sweeps',
    async (page) => {
      // A finished 2 × 2-run sweep: its chart, its tables.
      if (!(await app.host.studio.sweeps.list()).length) {
        await app.host.studio.sweeps.start({
          preset: 'lenet5-relu-ce',
          settings: { ...QUICK, limit: 300, validation: 30 },
          axes: ['lr=0.01,0.02'],
          seeds: 2,
          random: null,
        });
        await expect.poll(async () => (await app.host.studio.sweeps.list())[0].state, { timeout: 120_000 }).toBe('done');
      }
      await page.getByTestId('nav-sweeps').click();
      await page.getByTestId('parallel-coords').waitFor();
    },
  ],
];

/**
 * The Data lab with content and without training four models here: finder probabilities written
 * to its cache (every 50th image confidently of the next class), as a finished search leaves them.
 */
async function seedLabelIssues(): Promise<void> {
  const info = await app.host.studio.dataset();
  const labels = new Uint8Array(info.trainCount);
  for (let s = 0; s < info.trainCount; s += 1000) labels.set((await app.host.studio.datasetImages('train', s, 1000)).labels, s);
  const probs = new Float32Array(info.trainCount * 10).fill(0.1 / 9);
  labels.forEach((y, i) => (probs[i * 10 + (i % 50 === 0 ? (y + 1) % 10 : y)] = 0.9));
  const dir = defaultCacheDir(app.dataDir);
  await writeCachedProbabilities(cacheFile(dir, info.fingerprint, LABEL_ISSUES_DEFAULTS), dir, probs, info.trainCount);
}

describe('the settings form in Chromium', () => {
  it('explains a refused value under its field, in the words of its label, tied to the input', async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    const batch = page.getByLabel('Batch size', { exact: true });
    expect(await batch.getAttribute('data-testid')).toBe('batch');
    await batch.fill('0');
    const message = page.getByTestId('batchSize-error');
    await expect.poll(() => message.textContent()).toBe('Batch size must be a whole number from 1 to 4,096.');
    expect(await batch.getAttribute('aria-invalid')).toBe('true');
    const described = await batch.getAttribute('aria-describedby');
    expect(described).toBeTruthy();
    expect(await message.getAttribute('id')).toBe(described);
    // Next to the field: the message sits right under the input, in the same grid cell.
    const [ib, mb] = [(await batch.boundingBox())!, (await message.boundingBox())!];
    expect(mb.y).toBeGreaterThanOrEqual(ib.y + ib.height - 1);
    expect(mb.y).toBeLessThan(ib.y + ib.height + 24);
    expect(Math.abs(mb.x - ib.x)).toBeLessThan(4);
    expect(await page.getByText(/batchSize:/).count()).toBe(0);
    await app.shot('views/settings-error-1280x800-light');
    const findings = await axeFindings(page);
    await batch.fill('32');
    expect(findings).toEqual([]);

    await message.waitFor({ state: 'detached' });
    expect(await batch.getAttribute('aria-invalid')).toBe('false');
    expect(await batch.getAttribute('aria-describedby')).toBeNull();
  });
});

describe('every view, both themes, in Chromium', () => {
  beforeAll(async () => {
    const { page } = app;
    await page.getByTestId('nav-train').click();
    await page.locator('[data-testid="run-item"]', { hasText: 'lenet5-relu-ce-bn' }).getByRole('button', { name: 'Latest model' }).click();
    await page.getByTestId('model-label').waitFor();
  });

  for (const t of THEMES) {
    for (const [name, open] of VIEWS) {
      it(`${name}, ${t}: no serious or critical axe violation; photographed at both sizes`, async () => {
        await theme(t);
        await open(app.page);
        await checkAndShoot(name, t);
      });
    }

    it(`the keyboard dialog, ${t}`, async () => {
      const { page } = app;
      await theme(t);
      await page.getByTestId('nav-train').click();
      await page.getByTestId('shortcuts').click();
      await page.getByTestId('shortcuts-dialog').waitFor();
      try {
        await checkAndShoot('shortcuts', t);
      } finally {
        await page.keyboard.press('Escape');
        await page.getByTestId('shortcuts-dialog').waitFor({ state: 'detached' });
      }
    });
  }
});

/** Where the keyboard focus is: an outline of at least 2 px that no clipping box cuts off, or why not. */
async function focusProblem(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const name = `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''} "${(el.textContent ?? '').trim().slice(0, 20)}"`;
    const st = getComputedStyle(el);
    const width = Number.parseFloat(st.outlineWidth);
    if (st.outlineStyle === 'none' || !(width >= 2)) return `${name}: no focus ring`;
    const grow = Number.parseFloat(st.outlineOffset) + width;
    const r = el.getBoundingClientRect();
    const ring = { left: r.left - grow, right: r.right + grow, top: r.top - grow, bottom: r.bottom + grow };
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ps = getComputedStyle(p);
      if (ps.overflowX !== 'hidden' && ps.overflowY !== 'hidden') continue;
      const c = p.getBoundingClientRect();
      if (ring.left < c.left - 0.5 || ring.right > c.right + 0.5 || ring.top < c.top - 0.5 || ring.bottom > c.bottom + 0.5)
        return `${name}: focus ring clipped by ${p.className}`;
    }
    return null;
  });
}

describe('the focus ring in Chromium', () => {
  it('every control on Data and Train shows a whole focus ring when reached with Tab', async () => {
    const { page } = app;
    await theme('light');
    const problems = new Set<string>();
    for (const view of ['data', 'train']) {
      await page.getByTestId(`nav-${view}`).click();
      await page.getByTestId(`nav-${view}`).focus();
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        const p = await focusProblem(page);
        if (p) problems.add(`${view}: ${p}`);
      }
    }
    expect([...problems]).toEqual([]);
  });
});

describe('errors in plain words, in Chromium', () => {
  it('a text file opened as a model: a plain sentence first, the technical message under Details', async () => {
    const { page } = app;
    await theme('light');
    await page.getByTestId('nav-train').click();
    const file = join(app.dataDir, 'notes.lenet');
    await writeFile(file, 'These are my notes on the model and not a model.\n'.repeat(20));
    app.host.dialogAnswers.push(file);
    await page.getByTestId('model').getByRole('button', { name: 'Open…' }).click();

    const notice = page.getByTestId('notices').locator('li.error').last();
    await notice.waitFor();
    expect(await notice.getByTestId('notice-summary').textContent()).toBe('“notes.lenet” is not a LeNet Studio model (it looks like text).');
    const details = notice.getByTestId('notice-details');
    // The technical message is there, folded: one click shows it.
    const technical = details.locator('p');
    expect(await technical.isVisible()).toBe(false);
    await details.getByText('Details').click();
    expect(await technical.isVisible()).toBe(true);
    expect(await technical.textContent()).toMatch(/notes\.lenet: header length \d+ bytes is above the 16 MiB cap/);

    for (const t of THEMES) {
      await theme(t);
      await checkAndShoot('error-banner', t);
    }
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await notice.waitFor({ state: 'detached' });
  });
});
