// The nabla command line: help, errors (one line, non-zero exit), models, summary, and a short real
// training run on the shipped Fashion-MNIST slice followed by eval.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers.js";
import * as nb from "../src/index.js";

const CLI = join(ROOT, "dist", "cli", "main.js");
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 300_000 });

test("--help works for the tool and every command", () => {
  for (const args of [["--help"], ["train", "--help"], ["eval", "--help"], ["models", "--help"], ["summary", "--help"]]) {
    const r = run(...args);
    assert.equal(r.status, 0, args.join(" "));
    assert.match(r.stdout, /Usage: nabla/);
  }
});

test("bad input: one line on stderr, non-zero exit, no stack trace", () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["train", "--bogus", "1"], /unknown flag --bogus/],
    [["train", "--lr", "fast"], /--lr expects a number, got 'fast'/],
    [["train", "--epochs", "1.5"], /--epochs expects an integer/],
    [["train", "--optimizer", "magic"], /--optimizer must be one of/],
    [["train", "--model", "resnet9000"], /unknown model 'resnet9000'/],
    [["train", "--data", "/nonexistent/dir"], /--data \/nonexistent\/dir: no such folder/],
    [["train", "--resume", "/nonexistent/ckpt"], /--resume \/nonexistent\/ckpt: no such file/],
    [["train", "--epochs"], /--epochs needs a value/],
    [["eval"], /--checkpoint FILE is required/],
    [["eval", "--checkpoint", "/nonexistent/ckpt"], /no such file/],
    [["summary"], /summary needs a model name/],
    [["summary", "lenet5", "--input", "28x28"], /--input must look like 3x224x224/],
  ];
  for (const [args, msg] of cases) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(" "));
    assert.match(r.stderr, msg, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test("models lists the zoo with parameter counts; summary prints the table", () => {
  const m = run("models");
  assert.equal(m.status, 0);
  assert.match(m.stdout, /resnet18\s+11,689,512 parameters/);
  assert.match(m.stdout, /lenet5\s+61,706 parameters/);
  const s = run("summary", "lenet5", "--input", "1x28x28", "--num-classes", "10");
  assert.equal(s.status, 0);
  assert.match(s.stdout, /Total params: 61,706/);
});

test("train on the shipped slice prints test accuracy; eval reads the checkpoint back", () => {
  const out = mkdtempSync(join(tmpdir(), "nabla-cli-"));
  const r = run(
    "train",
    "--model",
    "lenet5",
    "--data",
    join(ROOT, "data", "fashion-mnist-slice"),
    "--epochs",
    "2",
    "--limit",
    "2000",
    "--batch-size",
    "32",
    "--out",
    out,
    "--scheduler",
    "plateau",
  );
  assert.equal(r.status, 0, r.stderr);
  const acc = /test accuracy: ([\d.]+)%/.exec(r.stdout);
  assert.ok(acc, r.stdout);
  assert.ok(Number(acc[1]) > 60, `accuracy ${acc[1]}% after 2 short epochs`);
  assert.match(r.stdout, /epoch 2\/2 .*val acc top1/);
  assert.ok(existsSync(join(out, "metrics.jsonl")) && existsSync(join(out, "checkpoint.safetensors")));
  const e = run("eval", "--checkpoint", join(out, "checkpoint.safetensors"));
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, new RegExp(`top-1 ${acc[1]}%`));
  // a checkpoint whose record of the run is edited: each wrong field is named, with the file, in one message
  const ck = join(out, "checkpoint.safetensors");
  const { tensors, metadata } = nb.io.loadSafetensorsFile(ck);
  const extra = JSON.parse(metadata.extra);
  for (const [edit, re] of [
    [{ model: "resnet9000" }, /extra\.model: unknown model "resnet9000"/],
    [{ modelOptions: { numClasses: 1000 } }, /extra\.modelOptions\.numClasses: 1000 is not an option nabla train writes/],
    [{ dataset: "imagenet" }, /extra\.dataset: must be one of/],
    [{ standardize: { mean: [0.3], std: [-1] } }, /extra\.standardize/],
    [{ history: {} }, /extra\.history: must be an array of epoch records/],
  ] as const) {
    const bad = join(out, "edited.safetensors");
    nb.io.saveSafetensors(bad, tensors, { ...metadata, extra: JSON.stringify({ ...extra, ...edit }) });
    const cmd =
      "history" in edit
        ? ["train", "--resume", bad, "--data", join(ROOT, "data", "fashion-mnist-slice"), "--epochs", "3", "--out", out]
        : ["eval", "--checkpoint", bad];
    const r2 = run(...cmd);
    assert.notEqual(r2.status, 0, JSON.stringify(edit));
    assert.ok(r2.stderr.includes(bad) && re.test(r2.stderr), `${JSON.stringify(edit)}: ${r2.stderr}`);
    assert.doesNotMatch(r2.stderr, /\n\s+at /, "no stack trace");
  }
});
