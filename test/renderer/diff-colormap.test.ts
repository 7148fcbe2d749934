// Compare's settings table (only what differs) and the colour scales' arithmetic.

import { describe, expect, it } from 'vitest';
import { lenet5Spec } from '../../src/engine/presets';
import type { RunDetail } from '../../src/common/records';
import { CIVIDIS, DIVERGING_LIGHT, lutIndex, makeLut, scaleRange } from '../../src/renderer/src/lib/colormap';
import { architecture, diffConfigs } from '../../src/renderer/src/lib/diff';

function run(id: string, over: Partial<RunDetail['settings']>, bn = false): RunDetail {
  return {
    id,
    preset: bn ? 'lenet5-relu-ce-bn' : 'lenet5-relu-ce',
    settings: { epochs: 3, batchSize: 32, lr: 0.02, momentum: 0.9, decay: 0, schedule: { type: 'cosine' }, seed: 1, shuffle: true, ...over },
    status: 'done',
    createdAt: '2026-01-01T00:00:00Z',
    epochsDone: 3,
    bestEpoch: 3,
    finalTestAccuracy: 0.97,
    bestValidationAccuracy: 0.97,
    spec: lenet5Spec({ act: 'relu', bn }),
    epochs: [],
    lossCurve: [],
    confusion: null,
    dataset: { path: null, name: 'MNIST', trainCount: 60000, testCount: 10000, rows: 28, cols: 28, fingerprint: 'abcdef0123456789' },
    trainCount: 55000,
    validationCount: 5000,
  };
}

describe('diffConfigs', () => {
  it('lists only the settings that differ, in table order', () => {
    const rows = diffConfigs([run('a', {}), run('b', { lr: 0.05 }, true), run('c', { lr: 0.02 })]);
    expect(rows.map((r) => r.key)).toEqual(['preset', 'architecture', 'lr']);
    expect(rows.find((r) => r.key === 'lr')!.values).toEqual(['0.02', '0.05', '0.02']);
  });

  it('a run trained with label corrections shows what they changed next to one without', () => {
    const fixed = run('b', {});
    fixed.dataset = {
      ...fixed.dataset,
      fingerprint: '0123456789abcdef',
      overlay: { hash: 'fedcba9876543210', baseFingerprint: 'abcdef0123456789', relabelled: 1200, excluded: 3 },
    };
    fixed.trainCount = 54997;
    const rows = diffConfigs([run('a', {}), fixed]);
    expect(rows.map((r) => r.key)).toEqual(['trainCount', 'dataset', 'corrections']);
    expect(rows.find((r) => r.key === 'corrections')!.values).toEqual(['none', '1,200 relabelled, 3 excluded']);
  });

  it('identical runs and single runs have no differences', () => {
    expect(diffConfigs([run('a', {}), run('b', {})])).toEqual([]);
    expect(diffConfigs([run('a', {})])).toEqual([]);
  });

  it('describes the layers compactly', () => {
    expect(architecture(lenet5Spec({ act: 'tanh', bn: false }))).toBe(
      'conv 6@5×5 p2 · tanh · avg 2 · conv 16@5×5 (table) · tanh · avg 2 · flatten · fc 120 · tanh · fc 84 · tanh · fc 10 · tanh',
    );
  });
});

describe('colour scales', () => {
  it('a LUT runs through its stops', () => {
    const lut = makeLut(['#000000', '#ff8000']);
    expect(Array.from(lut.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(lut.subarray(255 * 3))).toEqual([255, 128, 0]);
    expect(CIVIDIS.lut.length).toBe(768);
  });

  it('indices clamp, and NaN sits in the middle', () => {
    expect(lutIndex(-5, 0, 1)).toBe(0);
    expect(lutIndex(5, 0, 1)).toBe(255);
    expect(lutIndex(0.5, 0, 1)).toBe(128);
    expect(lutIndex(Number.NaN, 0, 1)).toBe(128);
  });

  it('a diverging scale is symmetric around 0', () => {
    expect(scaleRange(DIVERGING_LIGHT, -0.2, 3)).toEqual([-3, 3]);
    expect(scaleRange(CIVIDIS, -0.2, 3)).toEqual([-0.2, 3]);
  });
});
