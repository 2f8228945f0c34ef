#!/usr/bin/env node
// The `nabla` executable.

import { main } from "./commands.js";

process.exitCode = main(process.argv.slice(2));
