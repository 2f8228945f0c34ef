// No public function drops an argument silently: each one the package exports (read from src/index.ts by
// the TypeScript compiler, so a new export is covered without listing it here) throws a TypeError for an
// argument past its declared parameters; those with a rest parameter check their settings themselves.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import ts from "typescript";
import * as nb from "../src/index.js";
import { ROOT, throwsWith } from "./helpers.js";

/**
 * Every exported function of the package: its path under nb, its most parameters (-1: a rest parameter);
 * and Tensor's public methods, as "Tensor#name".
 */
function exportedFunctions(): { path: string; max: number }[] {
  const entry = join(ROOT, "src", "index.ts");
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const found: { path: string; max: number }[] = [];
  const walk = (module: ts.Symbol, prefix: string) => {
    for (const e of checker.getExportsOfModule(module)) {
      const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
      if (s.flags & ts.SymbolFlags.Module) walk(s, `${prefix}${e.name}.`);
      else if (!(s.flags & ts.SymbolFlags.Class) && s.valueDeclaration) {
        const sigs = checker.getTypeOfSymbolAtLocation(s, s.valueDeclaration).getCallSignatures();
        if (sigs.length === 0) continue;
        // a rest parameter in any declaration (an overloaded function's implementation included)
        const rest = (s.declarations ?? []).some((d) => {
          const f = ts.isVariableDeclaration(d) ? d.initializer : d;
          return f !== undefined && ts.isFunctionLike(f) && f.parameters.some((p) => p.dotDotDotToken);
        });
        found.push({ path: prefix + e.name, max: rest ? -1 : Math.max(...sigs.map((sig) => sig.getParameters().length)) });
      }
    }
  };
  walk(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!, "");
  const tensor = program.getSourceFile(join(ROOT, "src", "tensor", "tensor.ts"))!;
  ts.forEachChild(tensor, (n) => {
    if (!ts.isClassDeclaration(n) || n.name?.text !== "Tensor") return;
    for (const m of n.members) {
      if (
        !ts.isMethodDeclaration(m) ||
        !m.body ||
        !ts.isIdentifier(m.name) ||
        m.modifiers?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword)
      )
        continue;
      found.push({ path: `Tensor#${m.name.text}`, max: m.parameters.some((p) => p.dotDotDotToken) ? -1 : m.parameters.length });
    }
  });
  return found;
}

/** A function as a JavaScript caller sees it (TypeScript already refuses these calls). */
const js = (f: unknown) => f as (...a: unknown[]) => nb.Tensor;

/** `fn` at `path` under nb; a Tensor method bound to a tensor. */
const at = (path: string) => {
  if (path.startsWith("Tensor#")) {
    const t = nb.randn([2, 3]);
    const m = (t as unknown as Record<string, unknown>)[path.slice(7)] as (...a: unknown[]) => unknown;
    return typeof m === "function" ? m.bind(t) : m;
  }
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], nb) as (...a: unknown[]) => unknown;
};

/** The functions with a rest parameter check their arguments themselves: each is called with real inputs and one argument too many. */
const x4 = () => nb.randn([1, 2, 4, 4]);
const REST: Record<string, () => unknown> = {
  conv2d: () => nb.conv2d(x4(), nb.randn([2, 2, 1, 1]), null, 1, 0, 1, 1, "surplus" as never),
  maxPool2d: () => nb.maxPool2d(x4(), 2, 2, 0, 1, false, false, "surplus" as never),
  avgPool2d: () => nb.avgPool2d(x4(), 2, 2, 0, false, true, null, "surplus" as never),
  pad: () => js(nb.pad)(x4(), [1, 1, 1, 1], "constant", 0, "surplus"),
  clamp: () => js(nb.clamp)(x4(), 0, 1, "surplus"),
  arange: () => js(nb.arange)(0, 4, 1, "surplus"),
  eye: () => js(nb.eye)(2, 2, {}, "surplus"),
  "nn.functional.batchNorm": () => js(nb.nn.functional.batchNorm)(x4(), null, null, null, null, true, 0.1, 1e-5, "surplus"),
  "nn.functional.localResponseNorm": () => js(nb.nn.functional.localResponseNorm)(x4(), 2, 1e-4, 0.75, 1, "surplus"),
  "nn.init.uniform": () => js(nb.nn.init.uniform)(nb.zeros([2]), 0, 1, undefined, "surplus"),
  "nn.init.normal": () => js(nb.nn.init.normal)(nb.zeros([2]), 0, 1, undefined, "surplus"),
  "nn.init.xavierUniform": () => js(nb.nn.init.xavierUniform)(nb.zeros([2, 2]), 1, undefined, "surplus"),
  "nn.init.xavierNormal": () => js(nb.nn.init.xavierNormal)(nb.zeros([2, 2]), 1, undefined, "surplus"),
  "nn.init.kaimingUniform": () => js(nb.nn.init.kaimingUniform)(nb.zeros([2, 2]), 0, "fan_in", "leaky_relu", undefined, "surplus"),
  "nn.init.kaimingNormal": () => js(nb.nn.init.kaimingNormal)(nb.zeros([2, 2]), 0, "fan_in", "leaky_relu", undefined, "surplus"),
  "nn.init.truncNormal": () => js(nb.nn.init.truncNormal)(nb.zeros([2]), 0, 1, -2, 2, undefined, "surplus"),
  "Tensor#reshape": () => nb.randn([2, 3]).reshape([3, 2], "surplus" as never),
  "Tensor#view": () => nb.randn([2, 3]).view([3, 2], "surplus" as never),
  "Tensor#permute": () => nb.randn([2, 3]).permute([1, 0], "surplus" as never),
  "Tensor#expand": () => nb.randn([1, 3]).expand([2, 3], "surplus" as never),
  "Tensor#index": () => nb.randn([2, 3]).index(0, 1, "surplus" as never),
  "onnx.export": () => js(nb.onnx.export)(new nb.nn.ReLU(), x4(), {}, "surplus"),
};
for (const k of ["conv2d", "maxPool2d", "avgPool2d", "batchNorm", "localResponseNorm", "pad"])
  if (`nn.functional.${k}` in REST === false) REST[`nn.functional.${k}`] = REST[k];

test("every exported function refuses an argument past its parameters", () => {
  const fns = exportedFunctions();
  assert.ok(fns.length > 200, `found only ${fns.length} exported functions`);
  const missing: string[] = [];
  let checked = 0;
  for (const { path, max } of fns) {
    const fn = at(path);
    assert.equal(typeof fn, "function", `${path} is not a function`);
    if (max < 0) {
      // a model factory takes one options object; the others are called with real inputs
      const call = path.startsWith("models.") ? () => fn({}, "surplus") : REST[path];
      if (!call) missing.push(`${path}: has a rest parameter and no case in REST`);
      else
        try {
          call();
          missing.push(`${path}: no error`);
        } catch (e) {
          // a varargs shape or index reads the extra value as one more entry, and refuses it
          if (!(e instanceof TypeError || e instanceof RangeError)) missing.push(`${path}: ${(e as Error).message.slice(0, 100)}`);
        }
      checked++;
      continue;
    }
    // the check comes first, so placeholder arguments reach it; trailing undefineds are not arguments
    try {
      fn(...new Array(max).fill(undefined), undefined, undefined);
    } catch (e) {
      assert.ok(!/takes at most/.test((e as Error).message), `${path}: a trailing undefined is refused: ${(e as Error).message}`);
    }
    try {
      fn(...new Array(max).fill(undefined), "surplus");
      missing.push(`${path}: no error`);
    } catch (e) {
      const m = (e as Error).message;
      const want = `takes at most ${max} argument${max === 1 ? "" : "s"} (`;
      if (!(e instanceof TypeError) || !m.includes(want) || !m.includes(`argument ${max + 1} is string "surplus"`))
        missing.push(`${path}: ${m.slice(0, 100)}`);
    }
    checked++;
  }
  assert.deepEqual(missing, [], `functions that drop or misname a surplus argument:\n${missing.join("\n")}`);
  assert.ok(checked > 200, `checked ${checked}`);
});

test("surplus arguments a PyTorch or JavaScript habit would pass are TypeErrors", () => {
  const x = nb.randn([2, 3]);
  throwsWith(() => js(nb.relu)(x, true), "relu: takes at most 1 argument (x), got 2; argument 2 is boolean true");
  throwsWith(() => js(nb.nn.functional.relu)(x, true), "relu: takes at most 1 argument");
  throwsWith(() => js(nb.add)(x, x, { alpha: 2 }), "add: takes at most 2 arguments (a, b), got 3; argument 3 is an options object");
  throwsWith(() => js(nb.transpose)(x, 0, 1, 2), "transpose: takes at most 3 arguments");
  throwsWith(() => js(nb.reshape)(x, [3, 2], 1), "reshape: takes at most 2 arguments");
  throwsWith(() => js(nb.manualSeed)(1, 2), "manualSeed: takes at most 1 argument");
  // Array.prototype.map passes (element, index, array)
  throwsWith(() => [x].map(js(nb.exp)), "exp: takes at most 1 argument (x), got 3; argument 2 is number 0");
  // an explicit trailing undefined is no argument
  assert.deepEqual(js(nb.add)(x, x, undefined).shape, [2, 3]);
  assert.deepEqual([x].map((t) => nb.exp(t))[0].shape, [2, 3]);
});
