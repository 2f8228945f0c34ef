#!/usr/bin/env node
// The `nabla` executable. NABLA_BACKEND is checked before the library loads, so a wrong value is one line
// and exit code 2, not a stack trace from import time.

const wanted = process.env.NABLA_BACKEND;
if (wanted !== undefined && wanted !== "" && wanted !== "js" && wanted !== "native" && wanted !== "wasm") {
  process.stderr.write(`nabla: NABLA_BACKEND must be 'js', 'native' or 'wasm', got '${wanted}'\n`);
  process.exitCode = 2;
} else {
  // NABLA_BACKEND=native without a loadable addon (or wasm without the module): the library's import fails
  // and says why, in one line
  const commands = await import("./commands.js").catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 2;
    return null;
  });
  if (commands) process.exitCode = commands.main(process.argv.slice(2));
}
