import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

const scratch = mkdtempSync(join(tmpdir(), "kiln-nar-cli-"));
const tree = join(scratch, "tree");
mkdirSync(join(tree, "bin"), { recursive: true });
writeFileSync(join(tree, "bin", "tool"), "#!/bin/sh\necho tool\n", { mode: 0o755 });
writeFileSync(join(tree, "README"), "read me\n");
symlinkSync("bin/tool", join(tree, "link"));

test("kiln nar dump writes exactly what nix-store --dump writes", (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const ours = runKiln(["nar", "dump", tree]);
  assert.equal(ours.status, 0, ours.stderr);
  const theirs = spawnSync("nix-store", ["--dump", tree]).stdout;
  assert.deepEqual(ours.stdoutBytes, theirs);
});

test("dump, restore, ls and cat agree with each other", () => {
  const archive = runKiln(["nar", "dump", tree]).stdoutBytes;
  const target = join(scratch, "restored");
  const restored = runKiln(["nar", "restore", target], { input: archive });
  assert.equal(restored.status, 0, restored.stderr);
  assert.deepEqual(runKiln(["nar", "dump", target]).stdoutBytes, archive);
  const file = join(scratch, "tree.nar");
  writeFileSync(file, archive);
  assert.equal(runKiln(["nar", "ls", file]).stdout, "/\n/README\n/bin\n/bin/tool\n/link\n");
  assert.equal(runKiln(["nar", "ls", file, "bin"]).stdout, "/bin\n/bin/tool\n");
  assert.match(runKiln(["nar", "ls", "-l", file]).stdout, /-r-xr-xr-x +20 \/bin\/tool\n/);
  assert.equal(runKiln(["nar", "cat", file, "bin/tool"]).stdout, "#!/bin/sh\necho tool\n");
  assert.equal(runKiln(["nar", "cat", "-", "README"], { input: archive }).stdout, "read me\n");
  const missing = runKiln(["nar", "cat", file, "nope"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope/);
});

test("a malformed archive is refused with a message and restores nothing", () => {
  const archive = runKiln(["nar", "dump", tree]).stdoutBytes;
  const truncated = archive.subarray(0, archive.length - 20);
  const target = join(scratch, "bad");
  const run = runKiln(["nar", "restore", target], { input: truncated });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^kiln: error: nar: /);
  assert.equal(existsSync(target), false);
  assert.deepEqual(
    readdirSync(scratch).filter((name) => name.startsWith("bad")),
    [],
  );
  const garbage = runKiln(["nar", "ls", "-"], { input: "not a nar at all, clearly" });
  assert.equal(garbage.status, 1);
  assert.match(garbage.stderr, /bad magic|input ended|nar/);
  assert.equal(readFileSync(join(tree, "README"), "utf8"), "read me\n");
});
