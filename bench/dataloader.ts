// DataLoader throughput with numWorkers 0 / 1 / 2: CIFAR-sized random images (3×32×32) through
// randomCrop(32, padding 4) + flip + normalize, batches of 128, four epochs per loader (the first one
// includes starting the workers), an empty loop body so only the loader is timed.
//   npm run bench:dataloader

import * as nb from "../src/index.js";

const T = nb.data.transforms;
const n = 20000;
const g = new nb.Generator(1);
const set = {
  images: Uint8Array.from({ length: n * 3 * 32 * 32 }, () => g.randint(0, 256)),
  labels: new Uint8Array(n),
  count: n,
  channels: 3,
  height: 32,
  width: 32,
};
const tf = T.compose([T.randomCrop(32, { padding: 4 }), T.randomHorizontalFlip(), T.normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])]);
const ds = new nb.data.ImageDataset(set, tf);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
let base = 0;
for (const w of [0, 1, 2]) {
  const l = new nb.data.DataLoader(ds, { batchSize: 128, shuffle: true, numWorkers: w });
  const times: number[] = [];
  for (let e = 0; e < 4; e++) {
    const t0 = performance.now();
    for await (const _ of l);
    times.push(performance.now() - t0);
  }
  const m = median(times.slice(1)); // epochs after the first (which starts the workers)
  if (w === 0) base = m;
  console.log(
    `numWorkers ${w}: epochs of ${n} images: ${times.map((t) => t.toFixed(0)).join(", ")} ms; ` +
      `median after the first ${m.toFixed(0)} ms, ${(base / m).toFixed(2)}× the throughput of numWorkers 0 in this run`,
  );
  await l.close();
}
