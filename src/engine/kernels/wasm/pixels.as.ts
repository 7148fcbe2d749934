// Input batches: y[i] = src[i] / 255 for len bytes at src (a batch's pixels, gathered by the host),
// 16 at a time. f32 division is correctly rounded, as the reference's pixel·(1/255) in f64 rounded
// to f32 turns out to be for all 256 byte values (a test checks every one).
// src may be the last quarter of y's own bytes (src = y + 3·len; the host stages the pixels
// there): each 16 bytes are loaded before the 64 they become are stored, and no store reaches
// source bytes not yet loaded.

export function pixels_to_f32(y: usize, src: usize, len: i32): void {
  const d = f32x4.splat(255);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const b = v128.load(src + <usize>i);
    const lo = i16x8.extend_low_i8x16_u(b);
    const hi = i16x8.extend_high_i8x16_u(b);
    const o = y + (<usize>i << 2);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d), 16);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d), 32);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d), 48);
  }
  for (; i < len; i++) store<f32>(y + (<usize>i << 2), <f32>load<u8>(src + <usize>i) / 255);
}
