import * as zlib from 'node:zlib';

/** Bytes of a file's start deflated to decide how hard to compress the rest. */
export const PROBE_BYTES = 64 * 1024;

/** Level for data that barely shrinks (model weights, archives, images): stored blocks, no searching. */
export const LEVEL_INCOMPRESSIBLE = 0;
/** Level for compressible data streamed into loose objects: git's own loose-object default (core.looseCompression). */
export const LEVEL_STREAMED = 1;
/** Level for compressible small files packed together: zlib's default, git's pack default. */
export const LEVEL_PACKED = zlib.constants.Z_DEFAULT_COMPRESSION;

/**
 * The cheap probe: deflate a sample at the fastest level. If it shrinks by less than 10 %,
 * the file is treated as incompressible and stored (level 0), which costs little more than a copy.
 */
export function isIncompressible(sample: Uint8Array): boolean {
  if (sample.byteLength < 512) return false;
  const part = sample.subarray(0, PROBE_BYTES);
  const probe = zlib.deflateRawSync(part, oneShotOptions(1, part.byteLength));
  return probe.length > 0.9 * part.byteLength;
}

/**
 * zlib options for deflating `size` bytes in one call: an output chunk that fits the result
 * (zlib's default 16 KiB chunk per call is mostly garbage for small files), and a window no
 * larger than the input (less memory to set up, same output for inputs that fit it).
 */
export function oneShotOptions(level: number, size: number): zlib.ZlibOptions {
  let windowBits = 9;
  while (windowBits < 15 && 1 << windowBits < size) windowBits++;
  return { level, chunkSize: Math.max(64, size + 64 + (size >>> 10)), windowBits, memLevel: windowBits < 13 ? 6 : 8 };
}

const table = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (as in a pack index): zlib's native one where Node has it (20.15+), else a table. */
export function crc32(data: Uint8Array, value = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(data, value);
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
