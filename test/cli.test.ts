// The nabla command line: help, errors (one line, non-zero exit), models, summary, and a short real
// training run on the shipped Fashion-MNIST slice followed by eval.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, existsSync, readFileSync } from "node:fs";
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

test("an invalid NABLA_BACKEND is one line and exit code 2, not a stack trace from import time", () => {
  const r = spawnSync(process.execPath, [CLI, "models"], { encoding: "utf8", env: { ...process.env, NABLA_BACKEND: "gpu" } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "nabla: NABLA_BACKEND must be 'js', 'native' or 'wasm', got 'gpu'\n");
  assert.equal(r.stdout, "");
});

test("NABLA_BACKEND=wasm runs the CLI on the wasm backend (or says in one line that the module was not built)", () => {
  const r = spawnSync(process.execPath, [CLI, "models"], { encoding: "utf8", env: { ...process.env, NABLA_BACKEND: "wasm" } });
  if (existsSync(join(ROOT, "wasm", "nabla.wasm")) && existsSync(join(ROOT, "wasm", "nabla-threads.wasm"))) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /lenet5/);
  } else {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^nabla: the wasm backend could not be loaded: .*was not built/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
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
  // LeNet-5's mult-adds in closed form: conv1 28·28·6·25 + conv2 10·10·16·150 + fc 400·120 + 120·84 + 84·10
  const lenetMacs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10;
  const ma = run("models", "lenet5", "resnet18", "--mult-adds");
  assert.equal(ma.status, 0, ma.stderr);
  assert.match(ma.stdout, new RegExp(`lenet5\\s+61,706 parameters\\s+${(lenetMacs / 1e6).toFixed(3)} M mult-adds at 1x28x28`));
  // torchvision's count (fixtures/zoo.json: 1,814,073,344)
  assert.match(ma.stdout, /resnet18\s+11,689,512 parameters\s+1\.814 G mult-adds at 3x224x224/);
  assert.equal(ma.stdout.trim().split("\n").length, 2);
  assert.equal(run("models", "resnt18").status, 2);
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
  // validation is held out of the training images (10 %), never the test split
  assert.match(r.stdout, /: 1800 training \/ 200 validation \/ 1000 test images; adam lr 0\.001/);
  // the last line names every file written, and each exists
  const lastLine = r.stdout.trim().split("\n").at(-1)!;
  const files = ["checkpoint.safetensors", "metrics.jsonl", "training-curve.svg"].map((f) => join(out, f));
  assert.equal(lastLine, `wrote ${files.join(", ")}`);
  for (const f of files) assert.ok(existsSync(f), f);
  const svg = readFileSync(files[2], "utf8");
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 4, "train and validation lines in the loss and accuracy panels");
  assert.doesNotMatch(svg, /NaN|undefined|<script/);
  assert.equal(readFileSync(files[1], "utf8").trim().split("\n").length, 2);
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

test("CLI hygiene: --version, nabla help CMD, help within 100 columns, did-you-mean for commands, flags and models", () => {
  const v = run("--version");
  assert.equal(v.status, 0);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(v.stdout, `nabla ${pkg.version}\n`);
  for (const cmd of ["train", "eval", "models", "summary"]) {
    const h = run("help", cmd);
    assert.equal(h.status, 0, cmd);
    assert.equal(h.stdout, run(cmd, "--help").stdout);
    assert.match(h.stdout, new RegExp(`Usage: nabla ${cmd}`));
    for (const line of h.stdout.split("\n")) assert.ok(line.length <= 100, `${cmd} help line of ${line.length} columns: ${line}`);
  }
  for (const line of run("--help").stdout.split("\n")) assert.ok(line.length <= 100, line);
  const cases: [string[], RegExp][] = [
    [["trian"], /unknown command 'trian' \(did you mean train\?\)/],
    [["train", "--btach-size", "3"], /unknown flag --btach-size \(did you mean --batch-size\?\)/],
    [["train", "--model", "resnet19"], /unknown model 'resnet19' \(did you mean resnet18/],
    [["summary", "lenet"], /unknown model 'lenet' \(did you mean lenet5/],
    [["train", "--optimizer", "adam", "--momentum", "0.5"], /--momentum applies to --optimizer momentum, nesterov or rmsprop, not adam/],
    [["train", "--optimizer", "lbfgs", "--weight-decay", "0.1"], /--weight-decay does not apply to lbfgs/],
    [["train", "--val-split", "0", "--scheduler", "plateau"], /--scheduler plateau needs a validation split/],
  ];
  for (const [args, msg] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, msg);
  }
});

test("each optimizer trains at its own default learning rate (lbfgs is not left at Adam's 0.001); a fresh run starts a new log; resuming past --epochs has nothing to do", () => {
  const out = mkdtempSync(join(tmpdir(), "nabla-cli-"));
  const slice = join(ROOT, "data", "fashion-mnist-slice");
  const args = ["train", "--data", slice, "--limit", "1000", "--batch-size", "100", "--out", out];
  const r = run(...args, "--optimizer", "lbfgs", "--epochs", "2");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /lbfgs lr 1,/);
  const acc = Number(/test accuracy: ([\d.]+)%/.exec(r.stdout)![1]);
  assert.ok(acc > 30, `lbfgs test accuracy ${acc}% (chance is 10%)`);
  // a fresh run in the same folder starts its metrics anew
  const again = run(...args, "--optimizer", "sgd", "--epochs", "1");
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /sgd lr 0\.01,/);
  assert.equal(readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").length, 1);
  // the checkpoint is at epoch 1: --epochs 1 leaves nothing to do and writes nothing
  const ck = join(out, "checkpoint.safetensors");
  const before = readFileSync(ck);
  const done = run(...args, "--optimizer", "sgd", "--epochs", "1", "--resume", ck);
  assert.equal(done.status, 0, done.stderr);
  assert.equal(done.stdout, `nothing to do: ${ck} is at epoch 1 and --epochs is 1 (raise --epochs to train on)\n`);
  assert.deepEqual(readFileSync(ck), before);
});
