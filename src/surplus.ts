// A public function given more arguments than it takes: JavaScript drops them silently, so `relu(x, true)`
// or `transpose(x, 0, 1, 2)` would run as if they were not there. Each public function starts with
// `if (arguments.length > N) surplus(arguments, "name(param, …)")`; test/surplus.test.ts checks that every
// function the package exports does, with N its declared parameters.

import { describe } from "./ops/args.js";

/** A TypeError naming the first argument past `signature`'s parameters that is not undefined, if any. */
export function surplus(args: ArrayLike<unknown>, signature: string): void {
  const open = signature.indexOf("(");
  const params = signature.slice(open + 1, -1);
  const n = params === "" ? 0 : params.split(", ").length;
  for (let i = n; i < args.length; i++) {
    if (args[i] === undefined) continue;
    throw new TypeError(
      `${signature.slice(0, open)}: takes at most ${n} argument${n === 1 ? "" : "s"} (${params}), got ${args.length}; ` +
        `argument ${i + 1} is ${describe(args[i])}`,
    );
  }
}
