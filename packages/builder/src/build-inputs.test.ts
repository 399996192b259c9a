import assert from "node:assert/strict";
import { test } from "node:test";
import type { Derivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { StoreDatabase } from "@kiln/store/store-database";
import { buildInputs } from "./build-inputs.ts";
import { hostSystem } from "./host-system.ts";

const S = "/gnu/store";
const p = (name: string) => `${S}/${name.padEnd(32, "a").slice(0, 32)}-${name}`;

function setup() {
  const db = new StoreDatabase(":memory:");
  const register = (path: string, references: string[] = []) =>
    db.registerValidPaths([{ info: { path, narHash: "sha256:x", narSize: 1, references } }]);
  register(p("glibc"));
  register(p("bash"), [p("glibc")]);
  register(p("lib-dev"), [p("lib-dev"), p("glibc")]);
  register(p("builder.sh"));
  const dep: Derivation = {
    outputs: new Map([
      ["out", { path: p("lib"), hashAlgo: "", hash: "" }],
      ["dev", { path: p("lib-dev"), hashAlgo: "", hash: "" }],
    ]),
    inputDrvs: new Map(),
    inputSrcs: [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map(),
  };
  const drv = (overrides: Partial<Derivation> = {}): Derivation => ({
    outputs: new Map([["out", { path: p("hello"), hashAlgo: "", hash: "" }]]),
    inputDrvs: new Map([[`${p("lib")}.drv`, ["dev"]]]),
    inputSrcs: [p("bash"), p("builder.sh")],
    system: "x86_64-linux",
    builder: `${p("bash")}/bin/bash`,
    args: [],
    env: new Map(),
    ...overrides,
  });
  const options = {
    storeDir: S,
    db,
    readDerivation: (path: string) => {
      if (path !== `${p("lib")}.drv`) throw new Error(`unexpected ${path}`);
      return dep;
    },
    system: "x86_64-linux",
  };
  return { db, drv, options, register };
}

const code = (expected: string, pattern: RegExp) => (error: unknown) =>
  error instanceof KilnError && error.code === expected && pattern.test(error.message);

test("the input closure: sources and the chosen outputs of inputs, closed under references", () => {
  const { drv, options } = setup();
  assert.deepEqual(buildInputs("/x.drv", drv(), options), [
    p("bash"),
    p("builder.sh"),
    p("glibc"),
    p("lib-dev"),
  ]);
});

test("an input that is not valid is named", () => {
  const { drv, options } = setup();
  assert.throws(
    () => buildInputs("/x.drv", drv({ inputSrcs: [p("gone")] }), options),
    code("ERR_MISSING_INPUT", /input \/gnu\/store\/goneaaa.*-gone of \/x\.drv is not valid/),
  );
  const usesOut = drv({ inputDrvs: new Map([[`${p("lib")}.drv`, ["out"]]]) });
  assert.throws(
    () => buildInputs("/x.drv", usesOut, options),
    code("ERR_MISSING_INPUT", /-lib of/),
  );
  const usesNone = drv({ inputDrvs: new Map([[`${p("lib")}.drv`, ["doc"]]]) });
  assert.throws(
    () => buildInputs("/x.drv", usesNone, options),
    code("ERR_BAD_DERIVATION", /"doc"/),
  );
});

test("another system, builtins, and unreachable builders are refused", () => {
  const { drv, options } = setup();
  assert.throws(
    () => buildInputs("/x.drv", drv({ system: "aarch64-linux" }), options),
    code("ERR_WRONG_SYSTEM", /needs "aarch64-linux", this is "x86_64-linux"/),
  );
  assert.throws(
    () => buildInputs("/x.drv", drv({ system: "builtin", builder: "builtin:fetchurl" }), options),
    code("ERR_UNSUPPORTED", /builtin:fetchurl.*not supported yet/),
  );
  assert.throws(
    () => buildInputs("/x.drv", drv({ env: new Map([["__structuredAttrs", "1"]]) }), options),
    code("ERR_UNSUPPORTED", /uses __structuredAttrs, which is not supported yet/),
  );
  // Handled since issue 7 (see pass-as-file.ts and export-references-graph.ts).
  for (const attribute of ["passAsFile", "exportReferencesGraph"]) {
    const env = new Map([[attribute, ""]]);
    assert.doesNotThrow(() => buildInputs("/x.drv", drv({ env }), options));
  }
  assert.throws(
    () => buildInputs("/x.drv", drv({ builder: `${p("coreutils")}/bin/sh` }), options),
    code("ERR_MISSING_BUILDER", /is not in its inputs/),
  );
  assert.throws(
    () => buildInputs("/x.drv", drv({ builder: "sh" }), options),
    code("ERR_MISSING_BUILDER", /not an absolute path/),
  );
  assert.throws(
    () => buildInputs("/x.drv", drv({ builder: "/bin/sh" }), options),
    code("ERR_MISSING_BUILDER", /neither in the store nor in a chroot directory/),
  );
  assert.throws(
    () => buildInputs("/x.drv", drv({ builder: "/bin/sh" }), { ...options, chrootDirs: ["/bi"] }),
    code("ERR_MISSING_BUILDER", /neither/),
    "a chroot directory covers its own subtree only",
  );
  assert.ok(
    buildInputs("/x.drv", drv({ builder: "/bin/sh" }), { ...options, chrootDirs: ["/bin"] }),
  );
  assert.ok(
    buildInputs("/x.drv", drv({ builder: "/bin/sh" }), { ...options, disableChroot: true }),
  );
  assert.throws(
    () =>
      buildInputs("/x.drv", drv({ builder: "/nonexistent/sh" }), {
        ...options,
        disableChroot: true,
      }),
    code("ERR_MISSING_BUILDER", /does not exist/),
  );
});

test("the host system is spelled as Nix spells it", () => {
  assert.equal(hostSystem({ arch: "x64", platform: "linux" }), "x86_64-linux");
  assert.equal(hostSystem({ arch: "arm64", platform: "linux" }), "aarch64-linux");
  assert.equal(hostSystem({ arch: "ia32", platform: "linux" }), "i686-linux");
  assert.match(hostSystem(), /^[a-z0-9_]+-[a-z]+$/);
});
