// Bad input gets a clear error naming the op, the shapes or the dtype — never a wrong result.

import { test } from "node:test";
import * as nb from "../src/index.js";
import { throwsWith } from "./helpers.js";

const F = nb.nn.functional;

test("shape errors name the op and the shapes", () => {
  throwsWith(() => nb.matmul(nb.zeros([2, 3]), nb.zeros([4, 5])), "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)");
  throwsWith(() => nb.add(nb.zeros([2, 3]), nb.zeros([4])), "add", "[2, 3]", "[4]", "cannot be broadcast");
  throwsWith(() => nb.reshape(nb.zeros([2, 3]), [4, 2]), "reshape", "[4, 2]", "size 6");
  throwsWith(() => nb.cat([nb.zeros([2, 3]), nb.zeros([3, 3])], 1), "cat", "[2, 3]", "[3, 3]");
  throwsWith(() => nb.stack([nb.zeros([2]), nb.zeros([3])]), "stack", "[2]", "[3]");
  throwsWith(() => nb.expand(nb.zeros([2, 3]), [4, 3]), "expand", "[4, 3]");
  throwsWith(() => nb.narrow(nb.zeros([4]), 0, 2, 3), "narrow", "exceeds dimension size (4)");
  throwsWith(() => F.conv2d(nb.zeros([1, 3, 8, 8]), nb.zeros([4, 2, 3, 3])), "conv2d", "3 channels", "[4, 2, 3, 3]");
  throwsWith(() => F.conv2d(nb.zeros([1, 3, 2, 2]), nb.zeros([4, 3, 3, 3])), "conv2d", "smaller than the dilated kernel");
  throwsWith(() => F.conv2d(nb.zeros([3, 8]), nb.zeros([4, 3, 3, 3])), "conv2d", "4-D", "[3, 8]");
  throwsWith(() => F.maxPool2d(nb.zeros([1, 1, 4, 4]), 2, { padding: 2 }), "maxPool2d", "pad should be at most half");
  throwsWith(() => nb.gather(nb.zeros([2, 3]), 1, nb.tensor([[3], [0]], { dtype: "int32" })), "gather: index 3 is out of bounds", "size 3");
  throwsWith(() => nb.zeros([2, 2]).item(), "item", "4 elements");
});

test("out-of-range dims are rejected", () => {
  throwsWith(() => nb.sum(nb.zeros([2, 3]), 2), "sum: dimension out of range", "[-2, 1]", "got 2");
  throwsWith(() => nb.softmax(nb.zeros([2, 3]), -3), "softmax: dimension out of range");
  throwsWith(() => nb.transpose(nb.zeros([2]), 0, 1), "transpose: dimension out of range");
  throwsWith(() => nb.permute(nb.zeros([2, 3]), [0, 0]), "permute: repeated dim");
  throwsWith(() => nb.index(nb.zeros([2, 3]), [0, 5]), "index 5 is out of bounds for dimension 1 with size 3");
});

test("dtype errors name the dtypes", () => {
  throwsWith(() => nb.gather(nb.zeros([2, 3]), 1, nb.zeros([2, 1])), "gather: index must be an int32 tensor, got float32");
  throwsWith(() => F.conv2d(nb.zeros([1, 1, 3, 3]), nb.zeros([1, 1, 3, 3], { dtype: "float64" })), "conv2d", "float32", "float64");
  throwsWith(() => F.conv2d(nb.zeros([1, 1, 3, 3], { dtype: "int32" }), nb.zeros([1, 1, 3, 3])), "conv2d", "floating point", "int32");
  throwsWith(() => nb.zeros([2], { dtype: "float16" as nb.DType }), "unknown dtype 'float16'");
  throwsWith(() => nb.mean(nb.zeros([2], { dtype: "int32" })), "mean", "floating point", "int32");
  throwsWith(() => nb.add(nb.zeros([2]), "3" as unknown as number), "add", "expected a Tensor or a number");
});

test("creation errors", () => {
  throwsWith(() => nb.tensor([[1, 2], [3]]), "ragged");
  throwsWith(() => nb.tensor(new Float32Array(5), { shape: [2, 3] }), "shape [2, 3] needs 6 elements, got 5");
  throwsWith(() => nb.zeros([2, -1]), "invalid shape [2, -1]");
  throwsWith(() => nb.randint(5, 5, [2]), "randint", "low < high");
  throwsWith(() => F.dropout(nb.zeros([2]), 1.5), "dropout", "between 0 and 1");
});
