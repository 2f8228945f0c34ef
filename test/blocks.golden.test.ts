// The deep nets' blocks in train mode against torchvision (fixtures/blocks.safetensors, written by
// scripts/fixtures/blocks.py with Debian's PyTorch 1.13): BasicBlock, a grouped Bottleneck with a projection
// shortcut, googlenet's Inception and BasicConv2d, a two-layer DenseNet block — output, input and parameter
// gradients, and the running statistics after the step, in float64 and float32. Committed, so every CI run
// checks the BatchNorm paths of the deep nets (the whole-model checks need weight files that are not).

import { test } from "node:test";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";
import { BasicBlock, Bottleneck } from "../src/models/resnet.js";
import { Inception } from "../src/models/googlenet.js";
import { BasicConv2d } from "../src/models/blocks.js";
import { DenseBlock } from "../src/models/densenet.js";

const fx = nb.io.loadSafetensors(fixturePath("blocks.safetensors"));

const BLOCKS: Record<string, () => nb.nn.Module> = {
  basic_block: () => new BasicBlock(6, 6),
  bottleneck_groups: () =>
    new Bottleneck(8, 4, 2, new nb.nn.Sequential(new nb.nn.Conv2d(8, 16, 1, { stride: 2, bias: false }), new nb.nn.BatchNorm2d(16)), 2, 16),
  inception: () => new Inception(6, 4, 3, 5, 2, 3, 3),
  basic_conv2d: () => new BasicConv2d(3, 5, 3, { padding: 1 }),
  dense_block: () => new DenseBlock(2, 6, 2, 3, 0),
};

function group(prefix: string): Record<string, nb.Tensor> {
  return Object.fromEntries(
    Object.entries(fx)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

for (const [name, make] of Object.entries(BLOCKS)) {
  for (const [tag, dtype] of [
    ["f64", "float64"],
    ["f32", "float32"],
  ] as const) {
    test(`${name} (${dtype}, train mode): output, input / parameter gradients and running statistics equal torchvision's`, () => {
      const p = `${name}.${tag}/`;
      // float64: rounding only (~1e-13); float32: a few ulps through two or three BN layers
      const tol = dtype === "float64" ? { rtol: 1e-10, atol: 1e-10 } : { rtol: 2e-4, atol: 2e-5 };
      const m = make().to(dtype);
      m.loadStateDict(group(`${p}state/`));
      m.train();
      const x = fx[`${p}input`].detach().requiresGrad_();
      const y = m.forward(x);
      nb.testing.assertClose(y, fx[`${p}output`], { ...tol, msg: `${name} ${dtype} output` });
      y.mul(fx[`${p}grad_output`]).sum().backward();
      nb.testing.assertClose(x.grad!, fx[`${p}grad_input`], { ...tol, msg: `${name} ${dtype} input gradient` });
      const params = Object.fromEntries(m.namedParameters());
      const grads = group(`${p}grad/`);
      for (const [k, g] of Object.entries(grads)) nb.testing.assertClose(params[k].grad!, g, { ...tol, msg: `${name} ${dtype} grad ${k}` });
      const sd = m.stateDict();
      for (const [k, v] of Object.entries(group(`${p}after/`)))
        nb.testing.assertClose(sd[k], v, { ...tol, msg: `${name} ${dtype} ${k} after the step` });
      if (Object.keys(grads).length !== Object.keys(params).length)
        throw new Error(`${name}: ${Object.keys(params).length} parameters, ${Object.keys(grads).length} gradients in the fixture`);
    });
  }
}
