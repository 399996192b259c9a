import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { computeLiveness } from "./compute-liveness.ts";
import { deletionOrder } from "./deletion-order.ts";
import { storeGraphOf } from "./store-graph.ts";

const p = (name: string) => `/gnu/store/${name.padEnd(32, "0")}-${name}`;

// app → lib → libc; app.drv builds app and refers to src; tool is built by tool.drv.
const app = p("app");
const lib = p("lib");
const libc = p("libc");
const appDrv = `${p("appdrv")}.drv`;
const src = p("src");
const tool = p("tool");
const toolDrv = `${p("tooldrv")}.drv`;
const orphan = p("orphan");
const graph = storeGraphOf({
  references: {
    [app]: [lib, app],
    [lib]: [libc],
    [libc]: [],
    [appDrv]: [src, toolDrv],
    [src]: [],
    [tool]: [],
    [toolDrv]: [],
    [orphan]: [],
  },
  derivers: { [app]: appDrv, [tool]: toolDrv, [lib]: `${p("gone")}.drv` },
  outputs: { [appDrv]: [app], [toolDrv]: [tool] },
});

test("a root keeps its closure; by default (keep-derivations) also the derivations of live outputs", () => {
  const { live, dead } = computeLiveness(graph, { roots: [app] });
  assert.deepEqual([...live].sort(), [app, appDrv, lib, libc, src, toolDrv].sort());
  assert.deepEqual(dead, [orphan, tool].sort());
});

test("keep-derivations off: a live output does not keep its derivation", () => {
  const { live } = computeLiveness(graph, { roots: [app], keepDerivations: false });
  assert.deepEqual([...live].sort(), [app, lib, libc].sort());
});

test("keep-outputs: a live derivation keeps its valid outputs, and their closure", () => {
  const off = computeLiveness(graph, { roots: [appDrv], keepDerivations: false });
  assert.deepEqual([...off.live].sort(), [appDrv, src, toolDrv].sort());
  const on = computeLiveness(graph, { roots: [appDrv], keepOutputs: true, keepDerivations: false });
  assert.deepEqual([...on.live].sort(), [app, appDrv, lib, libc, src, tool, toolDrv].sort());
});

test("invalid roots are ignored; a registered deriver that is not valid is no edge", () => {
  const { live } = computeLiveness(graph, { roots: [p("missing"), lib] });
  assert.deepEqual([...live].sort(), [lib, libc].sort());
});

test("a path being built keeps the derivation producing it and that derivation's inputs' outputs", () => {
  // `app` is locked (being rebuilt, say): appDrv is kept, and so is tool, the output of
  // an input derivation, although keep-outputs is off.
  const { live } = computeLiveness(graph, { roots: [], busy: [app] });
  assert.ok(live.has(appDrv) && live.has(tool) && live.has(lib));
  assert.ok(!live.has(orphan));
  // An invalid path being built (not in the graph yet) is kept through its producers.
  const building = p("fresh");
  const g = storeGraphOf({
    references: { [appDrv]: [src], [src]: [] },
    outputs: { [appDrv]: [building] },
  });
  assert.deepEqual(computeLiveness(g, { roots: [], busy: [building] }).dead, []);
});

/** Random DAGs: path i may refer only to paths j < i, so there is no cycle. */
const dags = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.array(fc.nat(n - 1), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.array(fc.nat(n - 1), { maxLength: 5 }),
    ),
  );

test("property: live is closed under references, contains every valid root, and live ∪ dead = valid", () => {
  fc.assert(
    fc.property(dags, ([n, edges, rootIndices]) => {
      const paths = Array.from({ length: n }, (_, i) => p(`n${i}`));
      const references = Object.fromEntries(
        paths.map((path, i) => [path, edges[i].filter((j) => j < i).map((j) => paths[j])]),
      );
      const g = storeGraphOf({ references });
      const roots = rootIndices.map((i) => paths[i]);
      const { live, dead } = computeLiveness(g, { roots });
      for (const root of roots) assert.ok(live.has(root));
      for (const path of live) for (const r of g.references(path)) assert.ok(live.has(r));
      assert.equal(live.size + dead.length, n);
      for (const path of dead) assert.ok(!live.has(path));
      // Minimal: every live path is reachable from a root (walk back from the roots).
      const reach = new Set<string>();
      const stack = [...roots];
      for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
        if (reach.has(x)) continue;
        reach.add(x);
        stack.push(...g.references(x));
      }
      assert.deepEqual([...live].sort(), [...reach].sort());
      // Deletion order: a path comes before everything it refers to.
      const order = deletionOrder(dead, (x) => g.references(x));
      const position = new Map(order.map((x, i) => [x, i]));
      for (const path of dead) {
        for (const r of g.references(path)) {
          if (r !== path && position.has(r)) assert.ok(position.get(path)! < position.get(r)!);
        }
      }
    }),
    { numRuns: 200 },
  );
});
