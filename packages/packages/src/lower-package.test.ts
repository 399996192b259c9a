import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { printDerivation } from "@kiln/formats/print-derivation";
import { LocalStore } from "@kiln/store/local-store";
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { licenses } from "./licenses.ts";
import { buildInputClosure, lowerPackage } from "./lower-package.ts";
import { createLoweringContext, type LoweredPackage } from "./lowering-context.ts";
import type { Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

const storeDir = "/gnu/store";
const bootstrap = bootstrapFor(storeDir);
const system = "x86_64-linux";
const root = mkdtempSync(join(tmpdir(), "kiln-lower-"));
after(() => rmSync(root, { recursive: true, force: true }));

const sourceDir = join(root, "src");
mkdirSync(sourceDir);
writeFileSync(join(sourceDir, "build.sh"), "echo built > result\n");

const base = {
  synopsis: "A test package",
  description: "A package for the tests.",
  license: licenses.cc0,
};
const lib: Package = {
  ...base,
  name: "lib",
  version: "1.0",
  buildSystem: "trivial",
  arguments: { builder: 'mkdir -p "$out"' },
};
const tool: Package = {
  ...base,
  name: "tool",
  version: "2.0",
  buildSystem: "gnu",
  source: { kind: "local", path: sourceDir, name: "tool-src" },
  propagatedInputs: [lib],
  outputs: ["out", "doc"],
};
const app: Package = {
  ...base,
  name: "app",
  version: "0.1",
  buildSystem: "gnu",
  source: { kind: "text", name: "app.sh", text: "echo app\n" },
  inputs: [tool, [tool, "doc"]],
  arguments: {
    phases: [{ remove: "check" }],
    patches: [{ kind: "text", name: "p.patch", text: "" }],
  },
};

function storePathsIn(text: string): string[] {
  return text.match(/\/gnu\/store\/[0-9a-z]{32}-[^\s"'/:]+/g) ?? [];
}

test("lowering computes the same paths with and without a store, and writes dependencies first", async () => {
  const pure = await lowerPackage(app, { system, storeDir, bootstrap });
  const store = LocalStore.open({
    storeDir,
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  try {
    // The seed must be valid before anything referring to it is added.
    const seedTree = join(root, "seed");
    mkdirSync(join(seedTree, "bin"), { recursive: true });
    const { copyFileSync, chmodSync } = await import("node:fs");
    copyFileSync("/bin/busybox", join(seedTree, "bin", "busybox"));
    chmodSync(join(seedTree, "bin", "busybox"), 0o555);
    assert.equal(
      await store.addToStore(seedTree, { name: "bootstrap-busybox-1.35.0" }),
      bootstrap.busybox,
    );
    const written = await lowerPackage(app, { system, storeDir, bootstrap, store });
    assert.equal(written.drvPath, pure.drvPath);
    assert.ok(store.isValidPath(written.drvPath));
    const closure = store.requisites([written.drvPath]);
    assert.ok(closure.some((path) => path.endsWith("-tool-2.0.drv")));
    assert.ok(
      closure.some((path) => path.endsWith("-lib-1.0.drv")),
      "propagated input is an input",
    );
    assert.ok(
      closure.some((path) => path.endsWith("-tool-src")),
      "local source added",
    );
    assert.equal(
      printDerivation(store.readDerivation(written.drvPath)),
      printDerivation(written.derivation),
    );
  } finally {
    store.close();
  }
});

test("derivations are hermetic: every store path they mention is an input or an output", async () => {
  const context = createLoweringContext({ system, storeDir, bootstrap });
  const lowered: LoweredPackage[] = [];
  for (const pkg of [lib, tool, app]) lowered.push(await lowerPackage(pkg, context));
  for (const { derivation } of lowered) {
    const allowed = new Set<string>([...derivation.inputSrcs]);
    for (const output of derivation.outputs.values()) allowed.add(output.path);
    for (const [drvPath, names] of derivation.inputDrvs) {
      const input = context.derivations.get(drvPath)!;
      for (const name of names) allowed.add(input.outputs.get(name)!.path);
    }
    const text = [derivation.builder, ...derivation.args, ...derivation.env.values()].join(" ");
    for (const path of storePathsIn(text)) assert.ok(allowed.has(path), `${path} is not an input`);
    assert.ok(!/ \/(usr|bin|etc|home)\//.test(` ${text}`), "no host path");
  }
  const appDrv = lowered[2]!.derivation;
  assert.deepEqual([...appDrv.inputDrvs.values()].map((names) => [...names]).sort(), [
    ["doc", "out"],
    ["out"],
  ]);
});

test("inheritance by spread changes exactly the packages that differ", async () => {
  const context = () => createLoweringContext({ system, storeDir, bootstrap });
  const original = await lowerPackage(app, context());
  const newerLib: Package = { ...lib, arguments: { builder: 'mkdir -p "$out/lib"' } };
  const newerTool: Package = { ...tool, propagatedInputs: [newerLib] };
  const changed = await lowerPackage(
    { ...app, inputs: [newerTool, [newerTool, "doc"]] },
    context(),
  );
  assert.notEqual(changed.drvPath, original.drvPath);
  const sameTool = await lowerPackage({ ...tool }, context());
  assert.equal(
    sameTool.drvPath,
    (await lowerPackage(tool, context())).drvPath,
    "a copy lowers the same",
  );
});

test("--system lowering: another system gives other paths; unsupported systems are refused", async () => {
  const arm = await lowerPackage(app, { system: "aarch64-linux", storeDir, bootstrap });
  const x86 = await lowerPackage(app, { system, storeDir, bootstrap });
  assert.equal(arm.derivation.system, "aarch64-linux");
  assert.notEqual(arm.drvPath, x86.drvPath);
  const only = { ...lib, supportedSystems: ["x86_64-linux"] };
  await assert.rejects(
    lowerPackage(only, { system: "aarch64-linux", storeDir, bootstrap }),
    /not supported on aarch64-linux/,
  );
});

test("propagated inputs reach every package that uses them, transitively, once", () => {
  const top: Package = { ...app, inputs: [tool, tool] };
  const closure = buildInputClosure(top).map(([pkg, output]) => `${pkg.name}:${output}`);
  assert.deepEqual(closure, ["tool:out", "lib:out"]);
});

test("url and git origins lower to fixed-output derivations pinned by their hash", async () => {
  const hash = "a".repeat(64);
  const fetched: Package = {
    ...lib,
    name: "fetched",
    buildSystem: "gnu",
    source: { kind: "url", url: "https://example.org/f-1.0.tar.gz", sha256: hash },
  };
  const lowered = await lowerPackage(fetched, { system, storeDir, bootstrap });
  const [[sourceDrvPath]] = [...lowered.derivation.inputDrvs];
  assert.match(sourceDrvPath!, /-f-1\.0\.tar\.gz\.drv$/);
  assert.match(lowered.derivation.env.get("src")!, /-f-1\.0\.tar\.gz$/);
  const checkout: Package = {
    ...fetched,
    source: { kind: "git", url: "https://example.org/f.git", commit: "0".repeat(40), sha256: hash },
  };
  const context = createLoweringContext({ system, storeDir, bootstrap });
  const viaGit = await lowerPackage(checkout, context);
  const gitDrv = context.derivations.get([...viaGit.derivation.inputDrvs.keys()][0]!)!;
  assert.equal(gitDrv.outputs.get("out")!.hashAlgo, "r:sha256");
  // Guix's builtin:git-download: no inputs at all, the variables guix-daemon reads.
  assert.equal(gitDrv.builder, "builtin:git-download");
  assert.deepEqual(gitDrv.args, []);
  assert.deepEqual([gitDrv.inputDrvs.size, gitDrv.inputSrcs.length], [0, 0]);
  assert.equal(gitDrv.env.get("url"), '"https://example.org/f.git"');
  assert.equal(gitDrv.env.get("commit"), "0".repeat(40));
  assert.equal(gitDrv.env.get("recursive?"), "#f");
  assert.equal(gitDrv.env.get("outputHashMode"), "recursive");
  assert.match(viaGit.derivation.env.get("src")!, /-fetched-1\.0-checkout$/);
  // The checkout's path depends only on its name and hash, not on where it comes from.
  const moved = await lowerPackage(
    {
      ...checkout,
      source: { ...checkout.source!, url: "https://mirror.example/f.git" },
    } as Package,
    { system, storeDir, bootstrap },
  );
  assert.equal(moved.derivation.env.get("src"), viaGit.derivation.env.get("src"));
  assert.notEqual(moved.drvPath, viaGit.drvPath, "but the derivation does");
  await assert.rejects(
    lowerPackage(
      { ...fetched, source: { kind: "url", url: "https://example.org/x", sha256: "short" } },
      { system, storeDir, bootstrap },
    ),
    PackageError,
  );
});

test("a trivial package without a builder, or without an out output, is refused", async () => {
  await assert.rejects(
    lowerPackage({ ...lib, arguments: {} }, { system, storeDir, bootstrap }),
    /needs arguments.builder/,
  );
  await assert.rejects(
    lowerPackage({ ...lib, outputs: ["bin"] }, { system, storeDir, bootstrap }),
    /must include "out"/,
  );
});
