// Progress output: a live bar on a terminal, plain log lines otherwise.

import type { BatchInfo, EpochRecord } from "../train/fit.js";

const fmtTime = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

export class Progress {
  private lastPlain = 0;
  constructor(
    private readonly epochs: number,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly tty = Boolean(process.stdout.isTTY),
  ) {}

  batch(i: BatchInfo): void {
    const eta = (i.elapsed / i.batch) * (i.batches - i.batch);
    const stats = `loss ${i.loss.toFixed(4)}  acc ${(100 * i.acc).toFixed(2)}%  ${Math.round(i.imagesPerSec)} img/s  ETA ${fmtTime(eta)}`;
    if (this.tty) {
      const width = 24,
        filled = Math.round((width * i.batch) / i.batches);
      this.out.write(
        `\r\x1b[2Kepoch ${i.epoch}/${this.epochs} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${i.batch}/${i.batches}  ${stats}`,
      );
    } else if (i.batch === i.batches || i.elapsed - this.lastPlain >= 10) {
      this.lastPlain = i.batch === i.batches ? 0 : i.elapsed;
      this.out.write(`epoch ${i.epoch}/${this.epochs} batch ${i.batch}/${i.batches}  ${stats}\n`);
    }
  }

  epoch(r: EpochRecord): void {
    if (this.tty) this.out.write("\r\x1b[2K");
    const val =
      r.valLoss !== undefined
        ? `  val loss ${r.valLoss.toFixed(4)}  val acc ${Object.entries(r.valAcc!)
            .map(([k, v]) => `top${k} ${(100 * v).toFixed(2)}%`)
            .join(" ")}`
        : "";
    this.out.write(
      `epoch ${r.epoch}/${this.epochs}  train loss ${r.trainLoss.toFixed(4)}  train acc ${(100 * r.trainAcc).toFixed(2)}%${val}  lr ${r.lr.toExponential(2)}  ${Math.round(r.imagesPerSec)} img/s  ${r.seconds.toFixed(1)} s\n`,
    );
  }
}
