// Sizes a tensor cannot hold are RangeErrors before anything is allocated, with the same message on every
// backend: the kernels index with 32-bit integers (the addon's sizes and geometry are int32), so 2^31 − 1
// elements is the limit, and a stride, padding or dilation of 2^31 or more is rejected (packed into the
// addon's Int32Array geometry it would wrap: padding 2^32 ran as 0).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { onBackend } from "./helpers.js";

const F = nb.nn.functional;

for (const backend of nb.backend.listBackends()) {
  test(`${backend}: too many elements, or geometry past 2^31, is a RangeError naming the size or the argument`, () => {
    onBackend(backend, () => {
      assert.throws(
        () => nb.zeros([3, 1, 2 ** 30 + 1]),
        /zeros: shape \[3, 1, 1073741825\] has 3221225475 elements, more than a tensor can hold/,
      );
      assert.throws(() => nb.randn([2 ** 16, 2 ** 16]), /randn: shape \[65536, 65536\] has 4294967296 elements/);
      // small operands, a product too large to hold
      assert.throws(
        () => nb.matmul(nb.ones([65536, 1]), nb.ones([1, 65536])),
        /matmul: the product of \[65536, 1\] and \[1, 65536\] has 4294967296 elements/,
      );
      const x = nb.ones([1, 1, 4, 4]),
        w = nb.ones([1, 1, 3, 3]);
      assert.throws(
        () => F.conv2d(x, w, { padding: 2 ** 32 }),
        /conv2d: padding must be non-negative integers below 2\^31, got 4294967296/,
      );
      assert.throws(() => F.conv2d(x, w, { stride: 2 ** 31 }), /conv2d: stride must be non-negative integers below 2\^31/);
      assert.throws(() => F.maxPool2d(x, 2, { dilation: [1, 2 ** 31] }), /maxPool2d: dilation must be non-negative integers below 2\^31/);
      // just inside the limits still works
      assert.deepEqual(F.conv2d(x, w, { padding: 1, stride: 3 }).shape, [1, 1, 2, 2]);
    });
  });
}
