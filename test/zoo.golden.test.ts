// Zoo outputs against torchvision (and, for bn_inception / inception_resnet_v1, the public PyTorch ports)
// with identical weights. The weight fixtures are large and never committed: generate them with
// `/usr/bin/python3 scripts/fixtures/zoo.py --ports DIR --weights` (fixtures/zoo/; DIR as in the script's
// docstring); models without a fixture are skipped with a message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";

const NAMES = [
  "alexnet",
  "vgg11",
  "vgg11_bn",
  "vgg13",
  "vgg13_bn",
  "vgg16",
  "vgg16_bn",
  "vgg19",
  "vgg19_bn",
  "googlenet",
  "inception_v3",
  "resnet18",
  "resnet34",
  "resnet50",
  "resnet101",
  "resnet152",
  "resnext50_32x4d",
  "resnext101_32x8d",
  "densenet121",
  "densenet161",
  "densenet169",
  "densenet201",
  "bn_inception",
  "inception_resnet_v1",
];
const AUX = new Set(["googlenet", "inception_v3"]);

function group(fx: Record<string, nb.Tensor>, prefix: string): Record<string, nb.Tensor> {
  return Object.fromEntries(
    Object.entries(fx)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** Relative L2 distance ‖a − b‖ / ‖b‖. */
function relL2(a: nb.Tensor, b: nb.Tensor): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.data.length; i++) {
    num += (a.data[i] - b.data[i]) ** 2;
    den += b.data[i] ** 2;
  }
  return Math.sqrt(num / den);
}

for (const name of NAMES) {
  const path = fixturePath(`zoo/${name}.safetensors`);
  const skip = existsSync(path) ? false : `no fixture ${path}: run /usr/bin/python3 scripts/fixtures/zoo.py --ports DIR --weights ${name}`;
  test(`${name}: logits equal torchvision's with the same weights`, { skip }, () => {
    const fx = nb.io.loadSafetensors(path);
    const opts = AUX.has(name) ? { auxLogits: false } : {};
    const m = nb.nn.init.skipInit(() => nb.models.get(name, opts));
    m.loadStateDict(group(fx, "state/"));
    m.eval();
    const y = nb.noGrad(() => m.forward(fx.input));
    const scale = Math.max(...Array.from(fx.eval_logits.data, Math.abs));
    nb.testing.assertClose(y, fx.eval_logits, { rtol: 1e-4, atol: 1e-4 * scale, msg: `${name} eval logits` });
    if (!("train_logits" in fx)) return;
    // Training mode (batch statistics, dropout off), in float64 on both sides.
    const md = nb.nn.init.skipInit(() => nb.models.get(name, opts)).to("float64");
    md.loadStateDict(group(fx, "state/"));
    md.train();
    for (const mod of md.modules()) if (mod instanceof nb.nn.Dropout) mod.eval();
    const x = fx.input.to("float64").detach().requiresGrad_();
    const yt = md.forward(x);
    nb.testing.assertClose(yt, fx.train_logits, { rtol: 1e-9, atol: 1e-9, msg: `${name} train logits` });
    nb.mul(yt, fx.train_grad_output).sum().backward();
    // float64 on both sides: a wrong BatchNorm backward would be off by O(1), rounding by ~1e-12.
    const err = relL2(x.grad!, fx.train_input_grad);
    assert.ok(err < 1e-8, `${name} input gradient relative L2 error ${err}`);
    const sd = md.stateDict();
    // running means of near-zero channels are sums that cancel: compare with an absolute floor far below their O(1) scale
    for (const [k, v] of Object.entries(group(fx, "train_state/")))
      nb.testing.assertClose(sd[k], v, { rtol: 1e-9, atol: 1e-10, msg: `${name} ${k}` });
  });
}
