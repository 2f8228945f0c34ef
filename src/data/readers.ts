// Readers for MNIST-format IDX files (gzipped or not) and the CIFAR-10 binary format, validating
// everything and naming the file (and byte offset) of anything corrupt or truncated.

import { MAX_FILE_BYTES, readRegularFile } from "../io/files.js";
import { requireNode } from "../platform.js";
import { surplus } from "../surplus.js";

export class DataFormatError extends Error {
  constructor(file: string, msg: string) {
    super(`${file}: ${msg}`);
    this.name = "DataFormatError";
  }
}

/**
 * The file's bytes, inflated when it is gzip data. `expected(prefix)` gives the length the format allows,
 * from the first inflated bytes (an IDX header): inflating stops one byte past it, so a small .gz that would
 * inflate to gigabytes (a gzip bomb) costs no more than the header promises.
 */
function readMaybeGzip(src: string | Uint8Array, file: string, expected: (prefix: Uint8Array) => number): Uint8Array {
  const raw = typeof src === "string" ? readRegularFile(src, MAX_FILE_BYTES, (detail) => new DataFormatError(file, detail)) : src;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    const input = raw;
    const { constants: zlibConstants, gunzipSync } = requireNode("node:zlib", `inflating gzip data (${file}; outside Node, inflate it first, e.g. with DecompressionStream)`);
    let prefix: Uint8Array;
    try {
      // the start of the stream (at most ~1000× its 4 KB of input), without requiring the stream's end
      prefix = new Uint8Array(gunzipSync(input.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
    } catch (e) {
      throw new DataFormatError(file, `corrupt gzip data at its start (${(e as Error).message})`);
    }
    const limit = expected(prefix);
    try {
      return new Uint8Array(gunzipSync(input, { maxOutputLength: limit + 1 }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
        throw new DataFormatError(file, `gzip data inflates past the ${limit} bytes the format allows here (trailing data, or a gzip bomb)`);
      }
      throw new DataFormatError(file, `corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

/** The length an IDX file's header promises (header + data), or Infinity when the prefix is too short to tell (the parse reports it). */
function idxLength(b: Uint8Array): number {
  if (b.length < 4 || b[3] === 0 || b.length < 4 + 4 * b[3]) return 4 + 4 * (b[3] ?? 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let n = 1;
  for (let i = 0; i < b[3]; i++) n *= dv.getUint32(4 + 4 * i, false);
  return 4 + 4 * b[3] + n;
}

/** The largest CIFAR-10 binary file: every record of the dataset (60,000) in one. */
const CIFAR_MAX_BYTES = 60000 * (1 + 3 * 32 * 32);

/** An IDX array of unsigned bytes: the MNIST image (3-D) and label (1-D) files. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Read an IDX file (MNIST / Fashion-MNIST), gzipped or not. Validates the magic number (unsigned-byte
 * type 0x08 and the dimension count), the dimensions against the file size, and (optionally) the
 * expected number of dimensions.
 */
export function readIdx(fileOrBytes: string | Uint8Array, expectDims?: number, name = nameOf(fileOrBytes, "IDX")): IdxArray {
  if (arguments.length > 3) surplus(arguments, "readIdx(fileOrBytes, expectDims, name)");
  return parseIdx(readMaybeGzip(fileOrBytes, name, idxLength), name, expectDims);
}

/** What errors call a source: its path, or "<what bytes>". */
const nameOf = (src: string | Uint8Array, what: string) => (typeof src === "string" ? src : `<${what} bytes>`);

/**
 * An IDX array from bytes already in memory (inflated, not gzip), e.g. fetched in a page; `name` is what
 * errors call it. The same checks as readIdx.
 */
export function parseIdx(b: Uint8Array, name: string, expectDims?: number): IdxArray {
  if (arguments.length > 3) surplus(arguments, "parseIdx(b, name, expectDims)");
  const file = name;
  if (b.length < 4) throw new DataFormatError(file, `truncated: ${b.length} bytes, no IDX header (need 4 at byte 0)`);
  if (b[0] !== 0 || b[1] !== 0) throw new DataFormatError(file, `bad magic number 0x${Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, "0")).join("")} at byte 0 (an IDX file starts with 0x0000)`);
  if (b[2] !== 0x08) throw new DataFormatError(file, `unsupported IDX element type 0x${b[2].toString(16)} at byte 2 (expected 0x08, unsigned byte)`);
  const ndim = b[3];
  if (ndim === 0 || (expectDims !== undefined && ndim !== expectDims)) {
    throw new DataFormatError(file, `IDX file has ${ndim} dimensions (byte 3), expected ${expectDims ?? "at least 1"}`);
  }
  const headerLen = 4 + 4 * ndim;
  if (b.length < headerLen) throw new DataFormatError(file, `truncated header: ${b.length} bytes, the ${ndim} dimension sizes end at byte ${headerLen}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => dv.getUint32(4 + 4 * i, false));
  const n = shape.reduce((a, c) => a * c, 1);
  if (b.length - headerLen < n) {
    throw new DataFormatError(file, `truncated: dimensions [${shape.join(", ")}] need ${n} data bytes from byte ${headerLen}, file has ${b.length - headerLen}`);
  }
  if (b.length - headerLen > n) throw new DataFormatError(file, `${b.length - headerLen - n} unexpected trailing bytes after byte ${headerLen + n}`);
  return { shape, data: b.subarray(headerLen, headerLen + n) };
}

/** Images [N, 28, 28] (or any H, W) as bytes, and labels [N] checked to lie in [0, numClasses). */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  channels: number;
  height: number;
  width: number;
}

/**
 * Read an MNIST-format pair of image and label files — paths, or their bytes (gzipped or not; in a browser,
 * inflated ones: fetch → DecompressionStream) — checking they agree and labels are < numClasses.
 */
export function readMnistPair(images: string | Uint8Array, labels: string | Uint8Array, numClasses = 10): ImageSet {
  if (arguments.length > 3) surplus(arguments, "readMnistPair(images, labels, numClasses)");
  const imagesFile = nameOf(images, "images"),
    labelsFile = nameOf(labels, "labels");
  const img = readIdx(images, 3, imagesFile);
  const lab = readIdx(labels, 1, labelsFile);
  if (img.shape[0] !== lab.shape[0]) {
    throw new DataFormatError(labelsFile, `${lab.shape[0]} labels for ${img.shape[0]} images in ${imagesFile}`);
  }
  for (let i = 0; i < lab.data.length; i++) {
    if (lab.data[i] >= numClasses) throw new DataFormatError(labelsFile, `label ${lab.data[i]} at index ${i} (byte ${8 + i}) is not below ${numClasses}`);
  }
  return { images: img.data, labels: lab.data, count: img.shape[0], channels: 1, height: img.shape[1], width: img.shape[2] };
}

/**
 * Read CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin): records of 1 label byte + 3072 pixel
 * bytes (3 × 32 × 32, channel-major), from paths or bytes. Validates record alignment and labels.
 */
export function readCifar10(files: (string | Uint8Array)[]): ImageSet {
  if (arguments.length > 1) surplus(arguments, "readCifar10(files)");
  const rec = 1 + 3 * 32 * 32;
  const parts = files.map((src, i) => {
    const file = nameOf(src, `CIFAR-10 batch ${i}`);
    const b = readMaybeGzip(src, file, () => CIFAR_MAX_BYTES);
    if (b.length === 0 || b.length % rec !== 0) {
      throw new DataFormatError(file, `size ${b.length} is not a positive multiple of the ${rec}-byte CIFAR-10 record (truncated at record ${Math.floor(b.length / rec)}, byte ${Math.floor(b.length / rec) * rec})`);
    }
    const n = b.length / rec;
    for (let i = 0; i < n; i++) {
      if (b[i * rec] > 9) throw new DataFormatError(file, `label ${b[i * rec]} of record ${i} (byte ${i * rec}) is not below 10`);
    }
    return { b, n };
  });
  const count = parts.reduce((a, p) => a + p.n, 0);
  const images = new Uint8Array(count * 3072), labels = new Uint8Array(count);
  let k = 0;
  for (const { b, n } of parts) {
    for (let i = 0; i < n; i++, k++) {
      labels[k] = b[i * rec];
      images.set(b.subarray(i * rec + 1, (i + 1) * rec), k * 3072);
    }
  }
  return { images, labels, count, channels: 3, height: 32, width: 32 };
}
