import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Derivation } from "./derivation.ts";
import { FormatError } from "./kiln-error.ts";
import { parseDerivation } from "./parse-derivation.ts";
import { compareBytewise, printDerivation } from "./print-derivation.ts";

/** Any Unicode scalar value (fast-check's "binary" unit is slow to set up). */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));

function derivation(fields: Partial<Derivation>): Derivation {
  return {
    outputs: new Map([["out", { path: "/gnu/store/p-x", hashAlgo: "", hash: "" }]]),
    inputDrvs: new Map(),
    inputSrcs: [],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map(),
    ...fields,
  };
}

test("the system field is escaped like every other string (Nix 2.8 writes it raw)", () => {
  assert.match(
    printDerivation(derivation({ system: 'a\t"b' })),
    /\[\],\[\],"a\\t\\"b","\/bin\/sh"/,
  );
});

test("exactly five characters are escaped; other control bytes and UTF-8 stay raw", () => {
  const printed = printDerivation(derivation({ args: ['"\\\n\r\t', "\x00\x01\x1b\x7f é🎉 $"] }));
  assert.ok(printed.includes('["\\"\\\\\\n\\r\\t","\x00\x01\x1b\x7f é🎉 $"]'), printed);
});

test("outputs, inputs, sources and env are sorted bytewise; args keep their order", () => {
  const drv = derivation({
    outputs: new Map([
      ["out", { path: "/s/o", hashAlgo: "", hash: "" }],
      ["dev", { path: "/s/d", hashAlgo: "", hash: "" }],
    ]),
    inputDrvs: new Map([
      ["/s/b.drv", ["out", "lib", "dev"]],
      ["/s/a.drv", ["out"]],
    ]),
    inputSrcs: ["/s/z", "/s/a"],
    args: ["z", "a"],
    env: new Map([
      ["v2", "2"],
      ["v10", "10"],
      ["v1", "1"],
      ["V", "upper"],
    ]),
  });
  assert.equal(
    printDerivation(drv),
    'Derive([("dev","/s/d","",""),("out","/s/o","","")],' +
      '[("/s/a.drv",["out"]),("/s/b.drv",["dev","lib","out"])],["/s/a","/s/z"],' +
      '"x86_64-linux","/bin/sh",["z","a"],[("V","upper"),("v1","1"),("v10","10"),("v2","2")])',
  );
});

test("maskOutputs blanks output paths and the env vars named after outputs only", () => {
  const drv = derivation({
    outputs: new Map([
      ["out", { path: "/s/o", hashAlgo: "sha256", hash: "ab" }],
      ["dev", { path: "/s/d", hashAlgo: "", hash: "" }],
    ]),
    env: new Map([
      ["out", "/s/o"],
      ["dev", "/s/d"],
      ["lib", "/s/l"],
    ]),
  });
  assert.equal(
    printDerivation(drv, { maskOutputs: true }),
    'Derive([("dev","","",""),("out","","sha256","ab")],[],[],"x86_64-linux","/bin/sh",[],' +
      '[("dev",""),("lib","/s/l"),("out","")])',
  );
});

test("inputDrvReplacements re-sorts by the new keys and merges inputs that collide", () => {
  const drv = derivation({
    inputDrvs: new Map([
      ["/s/a.drv", ["out"]],
      ["/s/b.drv", ["dev"]],
      ["/s/c.drv", ["out"]],
    ]),
  });
  const replacements = new Map([
    ["/s/a.drv", "ff"],
    ["/s/b.drv", "00"],
    ["/s/c.drv", "00"],
  ]);
  assert.match(
    printDerivation(drv, { inputDrvReplacements: replacements }),
    /\[\("00",\["dev","out"\]\),\("ff",\["out"\]\)\]/,
  );
});

test("compareBytewise orders like the UTF-8 bytes, also above U+FFFF", () => {
  const unit = fc.constantFrom("a", "B", "é", "\uffff", "\ue000", "🎉", "\u{10ffff}", "\x00");
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 5 }), fc.string({ unit, maxLength: 5 }), (a, b) => {
      const expected = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareBytewise(a, b)), expected);
    }),
  );
});

test("printed strings read back as the same strings", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: anyCodePoint, maxLength: 30 }), { maxLength: 4 }),
      (args) => {
        assert.deepEqual(parseDerivation(printDerivation(derivation({ args }))).args, args);
      },
    ),
    { numRuns: 100 },
  );
});

test("a lone surrogate cannot be printed", () => {
  assert.throws(() => printDerivation(derivation({ builder: "\ud800" })), FormatError);
});
