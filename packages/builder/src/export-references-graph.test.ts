import assert from "node:assert/strict";
import { test } from "node:test";
import type { Derivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { exportReferencesGraph } from "./export-references-graph.ts";

const p = (name: string) => `/nix/store/${name.padEnd(32, "0")}-${name}`;
const graph: Record<string, string[]> = {
  [p("libc")]: [p("libc")],
  [p("bash")]: [p("libc")],
  [p("tool.drv")]: [p("src")],
  [p("src")]: [],
  [p("tool")]: [p("bash")],
};
const derivation = (env: Record<string, string>, outputs: Record<string, string> = {}) =>
  ({
    outputs: new Map(
      Object.entries(outputs).map(([name, path]) => [name, { path, hashAlgo: "", hash: "" }]),
    ),
    inputDrvs: new Map(),
    inputSrcs: [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map(Object.entries(env)),
  }) as Derivation;
const options = {
  storeDir: "/nix/store",
  db: {
    isValidPath: (path: string) => path in graph,
    references: (path: string) => graph[path] ?? [],
  },
  readDerivation: (path: string) => {
    assert.equal(path, p("tool.drv"));
    return derivation({}, { out: p("tool") });
  },
  inputs: Object.keys(graph),
};
const code = (expected: string, message: RegExp) => (error: unknown) =>
  error instanceof KilnError && error.code === expected && message.test(error.message);

test("each file holds the closure in --register-validity format, without hashes or derivers", () => {
  const drv = derivation({ exportReferencesGraph: `refs ${p("bash")}/bin/bash` });
  const { files, paths } = exportReferencesGraph("/x.drv", drv, options);
  assert.equal(
    files.get("refs"),
    `${p("bash")}\n\n1\n${p("libc")}\n${p("libc")}\n\n1\n${p("libc")}\n`,
  );
  assert.deepEqual(paths, [p("bash"), p("libc")]);
});

test("a derivation in the graph brings the closures of its outputs", () => {
  const drv = derivation({ exportReferencesGraph: `a ${p("bash")}\nb_2.x-y ${p("tool.drv")}` });
  const { files, paths } = exportReferencesGraph("/x.drv", drv, options);
  assert.deepEqual([...files.keys()], ["a", "b_2.x-y"]);
  // Sorted as Nix sorts store paths: "tool.drv…" before "tool0…".
  const entry = (path: string, references: string[]) =>
    `${path}\n\n${references.length}\n${references.map((r) => `${r}\n`).join("")}`;
  assert.equal(
    files.get("b_2.x-y"),
    entry(p("bash"), [p("libc")]) +
      entry(p("libc"), [p("libc")]) +
      entry(p("src"), []) +
      entry(p("tool.drv"), [p("src")]) +
      entry(p("tool"), [p("bash")]),
  );
  assert.deepEqual(paths, [p("bash"), p("libc"), p("src"), p("tool"), p("tool.drv")].sort());
});

test("malformed attributes and paths outside the input closure are refused", () => {
  const refuse = (value: string, message: RegExp) =>
    assert.throws(
      () => exportReferencesGraph("/x.drv", derivation({ exportReferencesGraph: value }), options),
      code("ERR_BAD_DERIVATION", message),
    );
  refuse(`refs`, /odd number of tokens/);
  refuse(`../refs ${p("bash")}`, /invalid file name '\.\.\/refs'/);
  refuse(`refs /etc/passwd`, /non-store path '\/etc\/passwd'/);
  refuse(`refs ${p("other")}`, /not in the input closure/);
  assert.deepEqual(exportReferencesGraph("/x.drv", derivation({}), options), {
    files: new Map(),
    paths: [],
  });
});
