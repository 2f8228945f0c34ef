// The zip container of torch.save's files: the central directory (zip64 included) and stored entries,
// each checked against its CRC-32. PyTorch writes every entry stored (uncompressed), 64-byte aligned.
// Errors come from the caller's `fail(at, msg)`, which names the file.

import { utf8 } from "./bytes.js";

export type ZipFail = (at: number, msg: string) => Error;

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  local: number;
  at: number;
}

// CRC-32 (zip's polynomial), slicing by 8: eight tables, eight bytes per step.
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();
function crc32(b: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end = b.length - 7; i < end; i += 8) {
    const lo = (c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)] ^
      t[6 * 256 + ((lo >>> 8) & 0xff)] ^
      t[5 * 256 + ((lo >>> 16) & 0xff)] ^
      t[4 * 256 + (lo >>> 24)] ^
      t[3 * 256 + b[i + 4]] ^
      t[2 * 256 + b[i + 5]] ^
      t[256 + b[i + 6]] ^
      t[b[i + 7]];
  }
  for (; i < b.length; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The entries of the archive, by name. */
export function readZip(bytes: Uint8Array, fail: ZipFail): Map<string, ZipEntry> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let eocd = -1;
  for (let i = len - 22; i >= Math.max(0, len - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail(len, "no zip end-of-central-directory record: the file is truncated or not a zip archive");
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOff = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw fail(eocd, "a zip64 archive without its zip64 locator");
    const rec = Number(dv.getBigUint64(loc + 8, true));
    if (rec + 56 > len || dv.getUint32(rec, true) !== 0x06064b50) throw fail(loc, "the zip64 locator points outside the file");
    count = Number(dv.getBigUint64(rec + 32, true));
    cdSize = Number(dv.getBigUint64(rec + 40, true));
    cdOff = Number(dv.getBigUint64(rec + 48, true));
  }
  if (cdOff + cdSize > len)
    throw fail(
      eocd,
      `the central directory (${cdSize} bytes at ${cdOff}) lies beyond the end of the file (${len} bytes): the file is truncated`,
    );
  const entries = new Map<string, ZipEntry>();
  let p = cdOff;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOff + cdSize || dv.getUint32(p, true) !== 0x02014b50)
      throw fail(p, `central directory entry ${i} of ${count} is missing or corrupt`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressed = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true),
      extraLen = dv.getUint16(p + 30, true),
      commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdOff + cdSize) throw fail(p, `central directory entry ${i} runs past the directory`);
    const name = utf8(bytes.subarray(p + 46, p + 46 + nameLen), () =>
      fail(p, `central directory entry ${i}: a name that is not valid UTF-8`),
    );
    // zip64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in order
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = dv.getUint16(e, true),
        sz = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + sz) throw fail(e, `entry '${name}': a short zip64 field`);
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + sz;
    }
    if (entries.has(name)) throw fail(p, `the archive names '${name}' twice`);
    entries.set(name, { name, method, crc, compressed, size, local, at: p });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The bytes of a stored entry, CRC-checked (`fail` gets messages that name the entry). */
export function entryBytes(bytes: Uint8Array, e: ZipEntry, zipFail: ZipFail): Uint8Array {
  const fail: ZipFail = (at, msg) => zipFail(at, `entry '${e.name}': ${msg}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.local + 30 > bytes.length || dv.getUint32(e.local, true) !== 0x04034b50)
    throw fail(e.local, "no local header where the directory says: the file is corrupt or truncated");
  if (e.method !== 0)
    throw fail(
      e.local,
      `compression method ${e.method} (torch.save stores entries uncompressed; this archive was rewritten by another tool)`,
    );
  const start = e.local + 30 + dv.getUint16(e.local + 26, true) + dv.getUint16(e.local + 28, true);
  if (e.size !== e.compressed) throw fail(e.local, "a stored entry whose sizes disagree");
  if (start + e.size > bytes.length)
    throw fail(start, `${e.size} bytes of data, but the file ends after ${bytes.length - start}: the file is truncated`);
  const data = bytes.subarray(start, start + e.size);
  const crc = crc32(data);
  if (crc !== e.crc) throw fail(start, `CRC-32 ${hex(crc)} differs from the recorded ${hex(e.crc)}: the data is corrupt`);
  return data;
}
const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");
