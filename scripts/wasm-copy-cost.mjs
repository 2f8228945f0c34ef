// What the wasm backend's copies cost: a LeNet-5 b64 Adam training step on the wasm backend, with the bytes
// its kernel calls copy into and out of the module's memory and the time those copies take, against the
// step's time. Run after npm run build and npm run build:wasm:  node scripts/wasm-copy-cost.mjs [steps]
const steps = Number(process.argv[2] ?? 30);
// the module's memory, captured when nabla instantiates it
let memory = null;
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const instance = new Instance(module, imports);
  memory ??= instance.exports.memory;
  return instance;
};
const set = Uint8Array.prototype.set;
let copying = false,
  bytes = 0,
  ms = 0;
Uint8Array.prototype.set = function (src, offset) {
  if (!copying || memory === null || (this.buffer !== memory.buffer && src.buffer !== memory.buffer)) return set.call(this, src, offset);
  const t0 = performance.now();
  set.call(this, src, offset);
  ms += performance.now() - t0;
  bytes += src.length;
};
const nb = await import(new URL("../dist/index.js", import.meta.url).href);
nb.backend.setBackend("wasm");
nb.manualSeed(0);
const model = nb.models.lenet5();
const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
const x = nb.randn([64, 1, 28, 28]),
  y = nb.randint(0, 10, [64]);
const step = () => {
  opt.zeroGrad();
  nb.nn.functional.crossEntropy(model.forward(x), y).backward();
  opt.step();
};
for (let i = 0; i < 10; i++) step();
const times = [];
copying = true;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
copying = false;
times.sort((a, b) => a - b);
const stepMs = times[Math.floor(times.length / 2)];
console.log(
  `LeNet-5 b64 training step on wasm: median ${stepMs.toFixed(2)} ms; per step ${(bytes / steps / 1e6).toFixed(2)} MB copied in and out ` +
    `in ${(ms / steps).toFixed(3)} ms (${((ms / steps / stepMs) * 100).toFixed(1)} % of the step, ${(bytes / (ms / 1e3) / 1e9).toFixed(1)} GB/s)`,
);
