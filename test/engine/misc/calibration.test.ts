// Calibration maths on hand-computed cases: ECE and reliability bins, temperature-scaled scores,
// the fitted temperature (the NLL's derivative, by central differences, is zero there) and the
// x-calibration metadata check.

import { describe, expect, it } from 'vitest';
import { applyTemperature, calibrationOf, fitTemperature, temperatureNll, temperatureOf } from '../../../src/engine/calibration';
import { ModelFileError } from '../../../src/engine/errors';
import { decodeModelFile, encodeModelFile } from '../../../src/engine/formats/modelfile';
import { jsKernels } from '../../../src/engine/kernels/js/backend';
import { Model } from '../../../src/engine/model';
import { mlpSpec } from '../../../src/engine/presets';

describe('calibrationOf', () => {
  it('bins the top score in 15 equal-width bins and weighs |accuracy − confidence| by bin size', () => {
    // 4 images, 2 classes: top scores 0.95 (right), 0.95 (wrong), 0.6 (right), 1.0 (right)
    const scores = [0.95, 0.05, 0.05, 0.95, 0.4, 0.6, 1, 0];
    const predictions = [0, 1, 1, 0];
    const labels = [0, 0, 1, 0];
    const c = calibrationOf(scores, predictions, labels, 2);
    expect(c.reliability).toHaveLength(15);
    // 0.95 and 1.0 fall in bin 14 ([14/15, 1]), 0.6 in bin 9 ([9/15, 10/15))
    expect(c.reliability[14]).toEqual({ count: 3, confidence: (0.95 + 0.95 + 1) / 3, accuracy: 2 / 3 });
    expect(c.reliability[9]).toEqual({ count: 1, confidence: 0.6, accuracy: 1 });
    expect(c.reliability[0]).toEqual({ count: 0, confidence: null, accuracy: null });
    expect(c.ece).toBeCloseTo((3 / 4) * Math.abs(2 / 3 - 2.9 / 3) + (1 / 4) * 0.4, 12);
    expect(calibrationOf([], [], [], 2).ece).toBe(0);
  });
});

describe('temperature scaling', () => {
  it('scales scores as softmax(log p / T), keeps the top class, and T = 1 changes nothing', () => {
    const p = Float32Array.from([0.7, 0.2, 0.1]);
    const q = applyTemperature(p, 3, 2);
    const r = [Math.sqrt(0.7), Math.sqrt(0.2), Math.sqrt(0.1)];
    const s = r[0] + r[1] + r[2];
    r.forEach((v, k) => expect(q[k]).toBeCloseTo(v / s, 6));
    expect([...applyTemperature(p, 3, 1)]).toEqual([...p]);
    expect(temperatureNll(p, [1], 3, 2)).toBeCloseTo(-Math.log(r[1] / s), 6);
  });

  it('fits the temperature where the NLL is smallest', () => {
    // An overconfident model: top score 0.99, right 80% of the time.
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 100; i++) {
      scores.push(0.99, 0.005, 0.005);
      labels.push(i % 5 === 0 ? 1 : 0);
    }
    const T = fitTemperature(scores, labels, 3);
    expect(T).toBeGreaterThan(1);
    // By hand: at T the scaled top score q satisfies q = 0.8 (the NLL of a constant prediction is
    // smallest when it equals the frequency), q = 0.99^(1/T) / (0.99^(1/T) + 2·0.005^(1/T)).
    const q = 0.99 ** (1 / T) / (0.99 ** (1 / T) + 2 * 0.005 ** (1 / T));
    expect(q).toBeCloseTo(0.8, 4);
    // and the derivative of the NLL there is zero (central differences)
    const h = 1e-4;
    const d = (temperatureNll(scores, labels, 3, T + h) - temperatureNll(scores, labels, 3, T - h)) / (2 * h);
    expect(Math.abs(d)).toBeLessThan(1e-4);
    // an underconfident one gets T < 1
    expect(fitTemperature([0.4, 0.3, 0.3], [0], 3)).toBeLessThan(1);
  });
});

describe('temperatureOf (x-calibration)', () => {
  it('reads a sane temperature, 1 when absent, and refuses anything else in one line', () => {
    expect(temperatureOf(undefined, 'm.lenet')).toBe(1);
    expect(temperatureOf({ temperature: 1.7 }, 'm.lenet')).toBe(1.7);
    for (const bad of [{ temperature: 0 }, { temperature: -1 }, { temperature: 1e9 }, { temperature: '2' }, { temperature: null }, {}, [2], 'hot', 3]) {
      expect(() => temperatureOf(bad, 'm.lenet')).toThrow(ModelFileError);
      try {
        temperatureOf(bad, 'm.lenet');
      } catch (e) {
        expect((e as Error).message).toMatch(/^m\.lenet: the calibration metadata \(x-calibration\) [^\n]+$/);
      }
    }
  });
});

describe('x-calibration in a model file', () => {
  it('round-trips, and a file with a bad temperature is refused by the reader', () => {
    const m = new Model(mlpSpec([4], [1, 2, 2], 3), jsKernels).init(1);
    const ok = decodeModelFile(encodeModelFile(m, { extra: { calibration: { temperature: 1.25 } } }), 'c.lenet');
    expect(ok.extra.calibration).toEqual({ temperature: 1.25 });
    expect(() => decodeModelFile(encodeModelFile(m, { extra: { calibration: { temperature: Number.MAX_VALUE } } }), 'c.lenet')).toThrow(/x-calibration/);
  });
});
