import assert from "node:assert/strict";
import { test } from "node:test";
import type { Derivation } from "@kiln/formats/derivation";
import fc from "fast-check";
import { planBuilds } from "./build-plan.ts";
import { describeDryRun } from "./describe-dry-run.ts";

const S = "/nix/store";

/** A derivation `name` with outputs, input derivations and sources; paths are made up. */
function drv(
  name: string,
  options: { outputs?: string[]; inputs?: Record<string, string[]>; srcs?: string[] } = {},
): Derivation {
  const outputs = new Map(
    (options.outputs ?? ["out"]).map((output) => [
      output,
      { path: outPath(name, output), hashAlgo: "", hash: "" },
    ]),
  );
  return {
    outputs,
    inputDrvs: new Map(Object.entries(options.inputs ?? {})),
    inputSrcs: options.srcs ?? [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map([["name", name]]),
  };
}

const hash = (name: string) => name.padEnd(32, "0").slice(0, 32);
const drvPath = (name: string) => `${S}/${hash(name)}-${name}.drv`;
const outPath = (name: string, output = "out") =>
  `${S}/${hash(`${name}${output}`)}-${name}${output === "out" ? "" : `-${output}`}`;

function world(drvs: Record<string, Derivation>, valid: Iterable<string> = []) {
  const byPath = new Map(Object.entries(drvs).map(([name, d]) => [drvPath(name), d]));
  const validSet = new Set(valid);
  const reads: string[] = [];
  return {
    reads,
    readDerivation(path: string) {
      reads.push(path);
      const found = byPath.get(path);
      if (found === undefined) throw new Error(`no derivation ${path}`);
      return found;
    },
    isValid: (path: string) => validSet.has(path),
  };
}

test("a chain is built inputs first; dry run lists it as Nix does", () => {
  const w = world({
    c: drv("c"),
    b: drv("b", { inputs: { [drvPath("c")]: ["out"] } }),
    a: drv("a", { inputs: { [drvPath("b")]: ["out"] } }),
  });
  const plan = planBuilds([drvPath("a")], w);
  assert.deepEqual(
    plan.builds.map((b) => b.drvPath),
    [drvPath("c"), drvPath("b"), drvPath("a")],
  );
  assert.deepEqual(plan.builds[1].dependsOn, [drvPath("c")]);
  assert.deepEqual(
    plan.builds.map((b) => b.requested),
    [false, false, true],
  );
  const results = plan.builds.map((b) => ({ drvPath: b.drvPath, status: "would-build" as const }));
  assert.equal(
    describeDryRun(results),
    `these 3 derivations will be built:\n  ${drvPath("c")}\n  ${drvPath("b")}\n  ${drvPath("a")}\n`,
  );
  assert.equal(
    describeDryRun(results.slice(0, 1)),
    `this derivation will be built:\n  ${drvPath("c")}\n`,
  );
  assert.equal(describeDryRun([]), "");
});

test("valid outputs stop the walk: their derivation's inputs are not even read", () => {
  const w = world(
    {
      c: drv("c"),
      b: drv("b", { inputs: { [drvPath("c")]: ["out"] } }),
      a: drv("a", { inputs: { [drvPath("b")]: ["out"] } }),
    },
    [outPath("b")],
  );
  const plan = planBuilds([drvPath("a")], w);
  assert.deepEqual(
    plan.builds.map((b) => b.drvPath),
    [drvPath("a")],
  );
  assert.deepEqual(plan.builds[0].dependsOn, []);
  assert.ok(!w.reads.includes(drvPath("c")));
});

test("only the wanted outputs of an input matter; a requested derivation wants all", () => {
  const multi = drv("m", { outputs: ["out", "dev"] });
  const user = drv("u", { inputs: { [drvPath("m")]: ["out"] } });
  const validOut = world({ m: multi, u: user }, [outPath("m")]);
  assert.deepEqual(
    planBuilds([drvPath("u")], validOut).builds.map((b) => b.drvPath),
    [drvPath("u")],
    "dev of m is missing but not wanted",
  );
  const requestedToo = planBuilds([drvPath("u"), drvPath("m")], validOut);
  assert.deepEqual(
    requestedToo.builds.map((b) => b.drvPath).sort(),
    [drvPath("m"), drvPath("u")].sort(),
  );
  assert.deepEqual(requestedToo.builds.find((b) => b.drvPath === drvPath("u"))?.dependsOn, [
    drvPath("m"),
  ]);
});

test("requested derivations that are valid are reported, not built", () => {
  const w = world({ a: drv("a") }, [outPath("a")]);
  const plan = planBuilds([drvPath("a"), drvPath("a")], w);
  assert.deepEqual(plan.builds, []);
  assert.deepEqual(
    plan.valid.map((v) => v.drvPath),
    [drvPath("a")],
  );
});

test("--check rebuilds the requested derivations only", () => {
  const w = world({ b: drv("b"), a: drv("a", { inputs: { [drvPath("b")]: ["out"] } }) }, [
    outPath("a"),
    outPath("b"),
  ]);
  const plan = planBuilds([drvPath("a")], { ...w, check: true });
  assert.deepEqual(
    plan.builds.map((b) => [b.drvPath, b.check]),
    [[drvPath("a"), true]],
  );
});

test("missing input sources of derivations to build are collected", () => {
  const src = `${S}/${hash("src")}-src`;
  const w = world({ a: drv("a", { srcs: [src] }), v: drv("v", { srcs: [src] }) }, [outPath("v")]);
  const plan = planBuilds([drvPath("a"), drvPath("v")], w);
  assert.deepEqual(plan.missingSources, [{ path: src, drvPath: drvPath("a") }]);
});

test("bad graphs are errors naming the problem", () => {
  const cyclic = world({
    a: drv("a", { inputs: { [drvPath("b")]: ["out"] } }),
    b: drv("b", { inputs: { [drvPath("a")]: ["out"] } }),
  });
  assert.throws(() => planBuilds([drvPath("a")], cyclic), /form a cycle/);
  const noOutput = world({ a: drv("a", { inputs: { [drvPath("b")]: ["lib"] } }), b: drv("b") });
  assert.throws(() => planBuilds([drvPath("a")], noOutput), /wants output "lib" of .*b\.drv/);
  assert.throws(() => planBuilds([drvPath("zz")], noOutput), /no derivation/);
});

test("property: every build comes after the builds it depends on, each once", () => {
  // Random DAGs: derivation i may depend on any j < i; random outputs are valid.
  const arbitraryGraph = fc.integer({ min: 1, max: 25 }).chain((n) =>
    fc.record({
      edges: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), {
        minLength: n,
        maxLength: n,
      }),
      valid: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      requested: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  );
  fc.assert(
    fc.property(arbitraryGraph, ({ edges, valid, requested }) => {
      const n = valid.length;
      const name = (i: number) => `d${i}`;
      const drvs: Record<string, Derivation> = {};
      for (let i = 0; i < n; i++) {
        const inputs: Record<string, string[]> = {};
        for (let j = 0; j < i; j++) if (edges[i][j]) inputs[drvPath(name(j))] = ["out"];
        drvs[name(i)] = drv(name(i), { inputs });
      }
      const w = world(
        drvs,
        valid.flatMap((v, i) => (v ? [outPath(name(i))] : [])),
      );
      const roots = requested.flatMap((r, i) => (r ? [drvPath(name(i))] : []));
      const plan = planBuilds(roots, w);
      const position = new Map(plan.builds.map((b, i) => [b.drvPath, i]));
      assert.equal(position.size, plan.builds.length, "no duplicates");
      for (const build of plan.builds) {
        for (const dep of build.dependsOn)
          assert.ok(position.get(dep)! < position.get(build.drvPath)!);
        // A build depends on exactly its inputs that are built too.
        const inputs = [...build.derivation.inputDrvs.keys()].filter((p) => position.has(p));
        assert.deepEqual([...build.dependsOn].sort(), inputs.sort());
      }
      // Whatever is built has a missing output or is needed by something built.
      for (const build of plan.builds) {
        const i = Number(build.drvPath.match(/-d(\d+)\.drv$/)![1]);
        assert.equal(valid[i], false);
      }
      // Every requested derivation with a missing output is built.
      for (const root of roots) {
        const i = Number(root.match(/-d(\d+)\.drv$/)![1]);
        assert.equal(position.has(root), !valid[i]);
      }
    }),
    { numRuns: 150 },
  );
});
