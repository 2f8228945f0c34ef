import * as nb from "../src/index.js";

// Every factory of the zoo at the smallest input it accepts, as [factory, options, one image's shape]:
// the training test and the ONNX export test run each.

// The ImageNet layouts at their smallest valid input (32×32 ends at 1×1 before pooling), plus the
// small-input variants (3×3 stem, no max-pool) of one model per family that offers them.
export const zooCases: Record<string, [string, Record<string, unknown>, number[]]> = {
  lenet5: ["lenet5", {}, [1, 28, 28]],
  convnet_bn: ["convnet_bn", {}, [1, 28, 28]],
  alexnet: ["alexnet", {}, [3, 63, 63]],
  googlenet: ["googlenet", {}, [3, 32, 32]],
  inception_v3: ["inception_v3", { auxLogits: false }, [3, 75, 75]], // the aux head needs ≥ 5×5 at 17×17, i.e. large inputs
  inception_v4: ["inception_v4", {}, [3, 75, 75]],
  inception_resnet_v1: ["inception_resnet_v1", {}, [3, 75, 75]],
  inception_resnet_v2: ["inception_resnet_v2", {}, [3, 75, 75]],
  bn_inception: ["bn_inception", {}, [3, 64, 64]],
  "resnet18 smallInput": ["resnet18", { smallInput: true }, [3, 28, 28]],
  "densenet121 smallInput": ["densenet121", { smallInput: true }, [3, 16, 16]],
  "vgg11_bn smallInput": ["vgg11_bn", { smallInput: true }, [3, 32, 32]],
};
for (const n of ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"])
  zooCases[n] = [n, { smallInput: true }, [3, 32, 32]];
for (const n of [
  "resnet18",
  "resnet34",
  "resnet50",
  "resnet101",
  "resnet152",
  "resnext50_32x4d",
  "resnext101_32x8d",
  "resnext101_64x4d",
  "preact_resnet18",
  "preact_resnet34",
  "preact_resnet50",
  "preact_resnet101",
  "preact_resnet152",
  "preact_resnet200",
  "densenet121",
  "densenet161",
  "densenet169",
  "densenet201",
])
  zooCases[n] = [n, {}, [3, 32, 32]];

/** Running statistics and affine parameters away from their init, so that eval-mode BatchNorm matters. */
export function randomizeBatchNorm(m: nb.nn.Module): void {
  for (const mod of m.modules()) {
    if (!(mod instanceof nb.nn.BatchNorm2d || mod instanceof nb.nn.BatchNorm1d)) continue;
    const c = mod.runningMean!.data.length;
    mod.runningMean!.data.set(nb.randn([c]).mul(0.1).data);
    mod.runningVar!.data.set(nb.rand([c]).add(0.5).data);
    mod.weight?.data.set(nb.rand([c]).add(0.5).data);
    mod.bias?.data.set(nb.randn([c]).mul(0.1).data);
  }
}

/**
 * One zoo case exported to ONNX, deterministically (seed 3, 10 classes, BatchNorm statistics randomized,
 * batch 2, dynamic batch): the bytes test/onnx.test.ts runs in onnxruntime are the bytes
 * scripts/fixtures/onnx_check.py had onnx.checker check (it records their SHA-256).
 */
export function exportZooCase(name: string): { model: nb.nn.Module; x: nb.Tensor; bytes: Uint8Array } {
  const [factory, opts, shape] = zooCases[name];
  nb.manualSeed(3);
  const model = nb.models.get(factory, { ...opts, numClasses: 10 });
  randomizeBatchNorm(model);
  const x = nb.randn([2, ...shape]);
  return { model, x, bytes: nb.onnx.export(model, x, { dynamicBatch: true }) };
}
