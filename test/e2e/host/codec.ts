// JSON for the test host's WebSocket, keeping the typed arrays the API carries (model weights,
// pixels, predictions): they travel as {"$f32": base64} / {"$u8": base64}. The browser side of
// the same encoding is in shim.js.

export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Float32Array) return { $f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    if (v instanceof Uint8Array) return { $u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    return v;
  });
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && typeof o.$f32 === 'string') {
        const b = Buffer.from(o.$f32, 'base64');
        const copy = new Uint8Array(b.length);
        copy.set(b);
        return new Float32Array(copy.buffer);
      }
      if (keys.length === 1 && typeof o.$u8 === 'string') return new Uint8Array(Buffer.from(o.$u8, 'base64'));
    }
    return v;
  });
}
