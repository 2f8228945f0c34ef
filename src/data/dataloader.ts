// DataLoader: batches of a Dataset, reshuffled every epoch from a seeded generator. Full batch, batch
// size 1 and mini-batches are the primer's batch, stochastic and mini-batch gradient descent.

import { Generator, defaultGenerator } from "../tensor/random.js";
import { randperm } from "../ops/creation.js";
import { defaultCollate, type Dataset, type DatasetSpec, type Sample } from "./dataset.js";
import { Tensor } from "../tensor/tensor.js";
import { positionalOptions } from "../ops/args.js";
import type { BatchRequest, WorkerInit } from "./worker.js";
import { requireNode } from "../platform.js";

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
  /**
   * Worker threads assembling batches ahead of the loop (PyTorch's `num_workers`, default 0: in the
   * loop's thread). Needs `for await (const batch of loader)`; each worker rebuilds the dataset from its
   * `workerSpec()` (the built-in datasets and nb.data.transforms have one) or from `workerDataset`.
   * Each batch draws its random transforms from a generator seeded by (the loader's generator, batch
   * number), so a run is the same whichever worker makes which batch.
   */
  numWorkers?: number;
  /** Batches requested ahead per worker (default 2, as PyTorch's `prefetch_factor`). */
  prefetchFactor?: number;
  /** For datasets without a spec: a module (URL or absolute path) whose export `export(...args)` builds the dataset in each worker. */
  workerDataset?: { module: string; export: string; args?: unknown[] };
}

const OPTION_KEYS = ["batchSize", "shuffle", "dropLast", "generator", "collate", "numWorkers", "prefetchFactor", "workerDataset"] as const;

interface Pool {
  workers: { terminate(): Promise<number>; postMessage(m: unknown): void }[];
  waiting: Map<number, { resolve: (s: Sample) => void; reject: (e: Error) => void }>;
  failed: Error | null;
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

  readonly numWorkers: number;
  readonly prefetchFactor: number;
  private pool: Promise<Pool> | null = null;
  private nextId = 0;

  private readonly opts: DataLoaderOptions;

  /** PyTorch's order `(dataset, batchSize, shuffle, { ...the rest })`, or `(dataset, { ...options })`. */
  constructor(dataset: Dataset, opts?: DataLoaderOptions);
  constructor(dataset: Dataset, batchSize: number, shuffle?: boolean, opts?: Omit<DataLoaderOptions, "batchSize" | "shuffle">);
  constructor(
    readonly dataset: Dataset,
    ...args: unknown[]
  ) {
    const opts = positionalOptions<DataLoaderOptions>("DataLoader", ["batchSize", "shuffle"], args, OPTION_KEYS.slice(2) as (keyof DataLoaderOptions & string)[]);
    this.opts = opts;
    if (!(dataset && typeof (dataset as Dataset).get === "function" && Number.isInteger((dataset as Dataset).length)))
      throw new TypeError("DataLoader: the first argument must be a Dataset (length and get(i))");
    if (opts.shuffle !== undefined && typeof opts.shuffle !== "boolean") throw new TypeError(`DataLoader: shuffle must be a boolean, got ${JSON.stringify(opts.shuffle)}`);
    const b = opts.batchSize ?? 1;
    if (!(b >= 1)) throw new RangeError(`DataLoader: batchSize should be a positive integer, got ${b}`);
    this.batchSize = Math.min(b, Math.max(dataset.length, 1));
    if (!Number.isInteger(this.batchSize)) throw new RangeError(`DataLoader: batchSize should be a positive integer, got ${b}`);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? defaultGenerator;
    this.numWorkers = opts.numWorkers ?? 0;
    if (!(Number.isInteger(this.numWorkers) && this.numWorkers >= 0)) throw new RangeError(`DataLoader: numWorkers should be an integer >= 0, got ${opts.numWorkers}`);
    this.prefetchFactor = opts.prefetchFactor ?? 2;
    if (!(Number.isInteger(this.prefetchFactor) && this.prefetchFactor >= 1))
      throw new RangeError(`DataLoader: prefetchFactor should be an integer >= 1, got ${opts.prefetchFactor}`);
    if (this.numWorkers > 0) {
      if (opts.collate) throw new TypeError("DataLoader: a custom collate function cannot run in worker threads; use numWorkers: 0 or the default collate");
      if (!opts.workerDataset) {
        const spec = dataset.workerSpec();
        if (typeof spec === "string") throw new TypeError(`DataLoader: numWorkers ${this.numWorkers}: ${spec}`);
      } else {
        const w = opts.workerDataset;
        if (typeof w !== "object" || typeof w.module !== "string" || typeof w.export !== "string" || !(w.args === undefined || Array.isArray(w.args)))
          throw new TypeError("DataLoader: workerDataset must be { module: string, export: string, args?: unknown[] }");
      }
    }
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
    if (this.numWorkers > 0)
      throw new TypeError(`DataLoader: with numWorkers ${this.numWorkers} the batches arrive asynchronously: iterate with for await (const batch of loader)`);
    const order = this.order();
    for (let b = 0; b < this.length; b++) {
      const idx = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      if (!this.opts.collate && this.dataset.getBatch) yield this.dataset.getBatch(idx, this.generator);
      else yield (this.opts.collate ?? defaultCollate)(Array.from(idx, (i) => this.dataset.get(i, this.generator)));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Sample> {
    if (this.numWorkers === 0) {
      for (const batch of this) yield batch;
      return;
    }
    const pool = await this.startPool();
    const order = this.order();
    const epochSeed = this.generator.nextUint32();
    const n = this.length;
    const pending = new Map<number, Promise<Sample>>();
    let next = 0;
    const submit = (b: number) => {
      const indices = order.slice(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const id = this.nextId++;
      const req: BatchRequest = { id, indices, seed: (epochSeed + Math.imul(b, 0x9e3779b9)) >>> 0 };
      const p = new Promise<Sample>((resolve, reject) => {
        if (pool.failed) return reject(pool.failed);
        pool.waiting.set(id, { resolve, reject });
      });
      p.catch(() => {}); // handled when awaited in order
      pool.workers[b % pool.workers.length].postMessage(req);
      pending.set(b, p);
    };
    const ahead = this.numWorkers * this.prefetchFactor;
    while (next < Math.min(n, ahead)) submit(next++);
    for (let b = 0; b < n; b++) {
      const batch = await pending.get(b)!;
      pending.delete(b);
      if (next < n) submit(next++);
      yield batch;
    }
  }

  /** Stop the worker threads (they also stop by themselves when the process has nothing else to do). */
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await Promise.all((await p).workers.map((w) => w.terminate()));
  }

  private startPool(): Promise<Pool> {
    if (this.pool) return this.pool;
    this.pool = (async () => {
      const { Worker } = requireNode("node:worker_threads", "DataLoader workers (numWorkers > 0)");
      const w = this.opts.workerDataset;
      const init: WorkerInit = w
        ? { spec: null, module: { url: w.module.startsWith("file:") || !w.module.startsWith("/") ? w.module : `file://${w.module}`, export: w.export, args: w.args ?? [] } }
        : { spec: shared(this.dataset.workerSpec() as DatasetSpec), module: null };
      const pool: Pool = { workers: [], waiting: new Map(), failed: null };
      const fail = (e: Error) => {
        pool.failed = e;
        for (const p of pool.waiting.values()) p.reject(e);
        pool.waiting.clear();
      };
      for (let i = 0; i < this.numWorkers; i++) {
        const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: init });
        worker.unref();
        worker.on("message", (m: { id: number; error?: string; x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } }) => {
          const p = pool.waiting.get(m.id);
          if (!p) return;
          pool.waiting.delete(m.id);
          if (m.error) p.reject(new Error(`DataLoader worker ${i}: ${m.error}`));
          else p.resolve({ x: new Tensor(m.x.data, m.x.shape), y: new Tensor(m.y.data, m.y.shape) });
        });
        worker.on("error", (e) => fail(new Error(`DataLoader worker ${i} failed: ${e.message}`)));
        worker.on("exit", (code) => {
          if (code !== 0) fail(new Error(`DataLoader worker ${i} exited with code ${code}`));
        });
        pool.workers.push(worker);
      }
      return pool;
    })();
    return this.pool;
  }
}

/** The spec with its image bytes moved to one shared buffer, so the workers read them without a copy each. */
function shared(spec: DatasetSpec): DatasetSpec {
  if (spec.kind === "subset") return { ...spec, dataset: shared(spec.dataset) };
  if (spec.kind !== "image" || spec.set.images.buffer instanceof SharedArrayBuffer) return spec;
  const images = new Uint8Array(new SharedArrayBuffer(spec.set.images.length));
  images.set(spec.set.images);
  return { ...spec, set: { ...spec.set, images } };
}
