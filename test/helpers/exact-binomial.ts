// The exact two-sided McNemar p-value in integer arithmetic, 2·Σ_{k≤min} C(n,k) / 2^n capped at 1:
// an independent check of src/common/stats.ts, which sums the same terms in log space.

export function exactMcNemar(b: number, c: number): number {
  const n = BigInt(b + c);
  const m = BigInt(Math.min(b, c));
  let C = 1n;
  let S = 0n;
  for (let k = 0n; k <= m; k++) {
    S += C;
    C = (C * (n - k)) / (k + 1n);
  }
  const num = 2n * S;
  const den = 2n ** n;
  if (num >= den) return 1;
  // Scale so the quotient keeps ~60 significant bits through the integer division, then scale back.
  const shift = Math.max(0, den.toString(2).length - num.toString(2).length + 60);
  return Number((num << BigInt(shift)) / den) * 2 ** -Math.ceil(shift / 2) * 2 ** -Math.floor(shift / 2);
}
