// DataLoader: batches of a Dataset, reshuffled every epoch from a seeded generator. Full batch, batch
// size 1 and mini-batches are the primer's batch, stochastic and mini-batch gradient descent.

import { Generator, defaultGenerator } from "../tensor/random.js";
import { randperm } from "../ops/creation.js";
import { defaultCollate, type Dataset, type Sample } from "./dataset.js";

export interface DataLoaderOptions {
  /** Samples per batch (default 1); `Infinity` or the dataset length gives full-batch descent. */
  batchSize?: number;
  /** Reshuffle at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Source of the shuffles and of random transforms (default: the global generator). */
  generator?: Generator;
  /** Turn a list of samples into a batch (default: stack x and y). */
  collate?: (samples: Sample[]) => Sample;
}

/**
 * Iterate a dataset in batches, synchronously (`for … of`) or asynchronously (`for await … of`).
 *
 * @example
 * const loader = new nb.data.DataLoader(train, { batchSize: 64, shuffle: true, generator: new nb.Generator(0) });
 * for (const { x, y } of loader) { ... }
 */
export class DataLoader implements Iterable<Sample>, AsyncIterable<Sample> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;

  constructor(readonly dataset: Dataset, private readonly opts: DataLoaderOptions = {}) {
    const b = opts.batchSize ?? 1;
    if (!(b >= 1)) throw new RangeError(`DataLoader: batchSize should be a positive integer, got ${b}`);
    this.batchSize = Math.min(b, Math.max(dataset.length, 1));
    if (!Number.isInteger(this.batchSize)) throw new RangeError(`DataLoader: batchSize should be a positive integer, got ${b}`);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? defaultGenerator;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch (draws from the generator when shuffling). */
  private order(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return randperm(n, { generator: this.generator }).data as Int32Array;
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  *[Symbol.iterator](): Iterator<Sample> {
    const order = this.order();
    for (let b = 0; b < this.length; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      if (!this.opts.collate && this.dataset.getBatch) yield this.dataset.getBatch(idx, this.generator);
      else yield (this.opts.collate ?? defaultCollate)(Array.from(idx, (i) => this.dataset.get(i, this.generator)));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Sample> {
    for (const batch of this) yield batch;
  }
}
