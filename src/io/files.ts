// Reading a user's file safely: only regular files (a FIFO would block forever, /dev/zero never ends), and
// no larger than the caller allows — checked with stat before a byte is read.

import { nodeModule, requireNode } from "../platform.js";

/** The largest file a Buffer can hold (outside Node, where no file is read, 2³¹ − 1). */
export const MAX_FILE_BYTES = nodeModule("node:buffer")?.constants.MAX_LENGTH ?? 2 ** 31 - 1;

/** The bytes of `path`, which must be a regular file of at most `maxBytes`; `fail(detail)` builds the error. */
export function readRegularFile(path: string, maxBytes: number, fail: (detail: string) => Error): Uint8Array {
  const { closeSync, constants, fstatSync, openSync, readSync } = requireNode("node:fs", `reading ${path}`);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fail(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw fail(
        `not a regular file (${st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : st.isCharacterDevice() ? "a character device" : "a special file"})`,
      );
    if (st.size > maxBytes) throw fail(`${st.size} bytes, more than the ${maxBytes} allowed here`);
    const buf = new Uint8Array(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
