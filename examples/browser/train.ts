// The browser example's training run, shared by its Web Worker and by the test that repeats it in Node:
// LeNet-5 on the shipped Fashion-MNIST slice, batches of 64 in the files' order, Adam (lr 1e-3), seed 0.

import type * as NB from "nabla";

export interface Split {
  images: Uint8Array; // n × 28 × 28 pixels
  labels: Uint8Array;
  n: number;
}

/** Images [first, first + count) as a [count, 1, 28, 28] float32 tensor in [0, 1], and their labels. */
export function batch(nb: typeof NB, s: Split, first: number, count: number): { x: NB.Tensor; y: NB.Tensor } {
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = s.images[first * 784 + i] / 255;
  const y = Int32Array.from(s.labels.subarray(first, first + count));
  return { x: nb.tensor(x, { shape: [count, 1, 28, 28] }), y: nb.tensor(y, { shape: [count], dtype: "int32" }) };
}

/**
 * `steps` Adam steps of LeNet-5 on consecutive batches of 64 (wrapping around the split), on the current
 * backend; `onStep(step, loss)` after each. Returns the model and the losses.
 */
export function trainLeNet(nb: typeof NB, train: Split, steps: number, onStep: (step: number, loss: number) => void = () => {}) {
  nb.manualSeed(0);
  const model = nb.models.lenet5();
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const per = Math.floor(train.n / 64);
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < steps; step++) {
    const { x, y } = batch(nb, train, (step % per) * 64, 64);
    opt.zeroGrad();
    const loss = nb.nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
    onStep(step, losses[step]);
  }
  return { model, losses };
}

/** Accuracy of `model` on the split, and its predictions for the first `show` images. */
export function evaluate(nb: typeof NB, model: NB.nn.Module, test: Split, show: number): { accuracy: number; predictions: number[] } {
  model.eval();
  return nb.noGrad(() => {
    let correct = 0;
    const predictions: number[] = [];
    for (let first = 0; first < test.n; first += 250) {
      const count = Math.min(250, test.n - first);
      const { x, y } = batch(nb, test, first, count);
      const pred = nb.argmax(model.forward(x), 1).data as Int32Array;
      for (let i = 0; i < count; i++) {
        if (pred[i] === y.data[i]) correct++;
        if (first + i < show) predictions.push(pred[i]);
      }
    }
    return { accuracy: correct / test.n, predictions };
  });
}
