#!/usr/bin/env node
// The `gradpipe` command. All the work is in cli.ts; exitCode (not process.exit) lets `serve` keep running.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
