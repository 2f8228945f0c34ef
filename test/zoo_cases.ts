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
