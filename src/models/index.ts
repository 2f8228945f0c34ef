// nb.models: the classic CNNs, with torchvision's factory names, layouts and state-dict keys.

import type { Module } from "../nn/module.js";
import { lenet5, convnet_bn } from "./lenet.js";
import { alexnet } from "./alexnet.js";
import { vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn } from "./vgg.js";
import { googlenet } from "./googlenet.js";
import { inception_v3 } from "./inception.js";
import { bn_inception } from "./bn_inception.js";
import { inception_v4, inception_resnet_v1, inception_resnet_v2 } from "./inception_v4.js";
import {
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  resnext50_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  preact_resnet18,
  preact_resnet34,
  preact_resnet50,
  preact_resnet101,
  preact_resnet152,
  preact_resnet200,
} from "./resnet.js";
import { densenet121, densenet161, densenet169, densenet201 } from "./densenet.js";
import { surplus } from "../surplus.js";

export * from "./lenet.js";
export * from "./alexnet.js";
export * from "./vgg.js";
export * from "./googlenet.js";
export * from "./bn_inception.js";
export * from "./inception.js";
export * from "./inception_v4.js";
export * from "./resnet.js";
export * from "./densenet.js";
export { summary, type ModelSummary, type LayerSummary } from "../nn/summary.js";
export type { ModelOptions } from "./blocks.js";

/** Every factory by name. */
export const factories: Record<string, (opts?: any) => Module> = {
  lenet5,
  convnet_bn,
  alexnet,
  vgg11,
  vgg11_bn,
  vgg13,
  vgg13_bn,
  vgg16,
  vgg16_bn,
  vgg19,
  vgg19_bn,
  googlenet,
  bn_inception,
  inception_v3,
  inception_v4,
  inception_resnet_v1,
  inception_resnet_v2,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  resnext50_32x4d,
  resnext101_32x8d,
  resnext101_64x4d,
  preact_resnet18,
  preact_resnet34,
  preact_resnet50,
  preact_resnet101,
  preact_resnet152,
  preact_resnet200,
  densenet121,
  densenet161,
  densenet169,
  densenet201,
};

/** Other names some factories are known by: `inception_v2` is `bn_inception` (Szegedy et al. 2016, Table 3). */
export const aliases: Record<string, string> = { inception_v2: "bn_inception" };

/** The names of every model in the zoo (each once; `aliases` lists the other names `get` accepts). */
export function list(): string[] {
  if (arguments.length > 0) surplus(arguments, "list()");
  return Object.keys(factories);
}

const canonical = (name: string) => (Object.prototype.hasOwnProperty.call(aliases, name) ? aliases[name] : name);

/**
 * The input one image of a model is measured at (`nabla models --mult-adds`, the README's table): 1×28×28
 * for LeNet-5 and the small BN net, 3×299×299 for Inception v3 / v4 / Inception-ResNet, 3×224×224 else.
 */
export function referenceInput(name: string): number[] {
  if (arguments.length > 1) surplus(arguments, "referenceInput(name)");
  name = canonical(name);
  if (!Object.prototype.hasOwnProperty.call(factories, name)) throw new TypeError(`models.referenceInput: unknown model '${name}'`);
  if (name === "lenet5" || name === "convnet_bn") return [1, 28, 28];
  if (/^inception_(v3|v4|resnet)/.test(name)) return [3, 299, 299];
  return [3, 224, 224];
}

/** Build a model by name, e.g. `nb.models.get("resnet18", { numClasses: 10, smallInput: true })`. */
export function get(name: string, opts: Record<string, unknown> = {}): Module {
  if (arguments.length > 2) surplus(arguments, "get(name, opts)");
  const key = canonical(name);
  const f = Object.prototype.hasOwnProperty.call(factories, key) ? factories[key] : undefined;
  if (!f) throw new RangeError(`models.get: unknown model '${name}' (available: ${list().join(", ")})`);
  return f(opts);
}
