// llm.c-style tensor comparison: on failure, report the name, the worst element and the first values.

export interface CloseReport {
  ok: boolean;
  maxAbs: number;
  worst: number;
  message: string;
}

export function compareTensors(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): CloseReport {
  if (actual.length !== expected.length) {
    return { ok: false, maxAbs: Infinity, worst: -1, message: `${name}: length ${actual.length} != expected ${expected.length}` };
  }
  let maxAbs = 0;
  let worst = -1;
  let ok = true;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= atol + rtol * Math.abs(expected[i]))) {
      if (ok || d > maxAbs) worst = i;
      ok = false;
    }
    if (d > maxAbs || Number.isNaN(d)) maxAbs = d;
  }
  const first = (a: ArrayLike<number>): string => Array.from({ length: Math.min(5, a.length) }, (_, i) => a[i].toPrecision(6)).join(', ');
  const message = ok
    ? `${name}: OK (max |diff| ${maxAbs.toExponential(2)})`
    : `${name}: NOT OK, max |diff| ${maxAbs.toExponential(3)}; at [${worst}] got ${actual[worst]} expected ${expected[worst]}; first got [${first(actual)}] expected [${first(expected)}]`;
  return { ok, maxAbs, worst, message };
}
