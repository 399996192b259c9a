import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import type { Derivation, DerivationOutput } from "./derivation.ts";
import { HASH_SIZES, type HashAlgorithm } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { parseDerivation } from "./parse-derivation.ts";
import { printDerivation } from "./print-derivation.ts";

/** Any Unicode scalar value (fast-check's "binary" unit is slow to set up). */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));

interface DrvCase {
  id: string;
  nix: { aterm: string; drvPath: string };
  gnu: { aterm: string; drvPath: string };
}

const vectors: DrvCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/derivations.json", import.meta.url), "utf8"),
);
const aterms = vectors.flatMap((v) => [v.nix.aterm, v.gnu.aterm]);

/** Parses, and returns the FormatError if that is what was thrown; anything else fails the test. */
function parseOrFormatError(text: string | Uint8Array): Derivation | FormatError {
  try {
    return parseDerivation(text);
  } catch (error) {
    if (error instanceof FormatError) return error;
    throw error;
  }
}

test("every vector parses and prints back byte-identically, from text and from bytes", () => {
  assert.equal(aterms.length, 30);
  for (const aterm of aterms) {
    assert.equal(printDerivation(parseDerivation(aterm)), aterm);
    assert.equal(printDerivation(parseDerivation(Buffer.from(aterm, "utf8"))), aterm);
  }
});

test("fields come out as Nix wrote them, with escapes undone", () => {
  const escaping = parseDerivation(vectors.find((v) => v.id === "escaping")!.nix.aterm);
  assert.equal(escaping.env.get("mixed"), '"\\\n\t\r');
  assert.equal(escaping.env.get("backslash"), "C:\\path\\to \\n is not a newline");
  assert.equal(escaping.env.get("control"), "soh:\x01 del:\x7f esc:\x1b");
  assert.equal(escaping.env.get("unicode"), "héllo wörld ✓ 日本 🎉");
  assert.deepEqual(escaping.args, [
    "-c",
    "echo ok > $out",
    'arg with "quotes"',
    "back\\slash",
    "tab\there",
  ]);
  assert.equal(escaping.system, "x86_64-linux");
  assert.equal(escaping.builder, "/bin/sh");

  const depends = parseDerivation(vectors.find((v) => v.id === "depends")!.gnu.aterm);
  assert.deepEqual(
    [...depends.inputDrvs],
    [
      ["/gnu/store/0gwvzwj12pjiwnhxpvf53y1194ch2cza-simple.drv", ["out"]],
      ["/gnu/store/41zl9hyy2kdlch31yhz0lrh93s0ya23f-multi.drv", ["dev"]],
    ],
  );
  const fixed = parseDerivation(vectors.find((v) => v.id === "fixed-recursive")!.nix.aterm);
  assert.deepEqual(fixed.outputs.get("out"), {
    path: "/nix/store/d55jmpskzx3jg4g9jn1rdf9zqb02nxrw-fixed-rec",
    hashAlgo: "r:sha256",
    hash: "8f9868687b886b53eedaaac3da83a7f045d8c16b7e1304ca526908ab090232c9",
  });
});

test("a backslash before any other character stands for that character", () => {
  const drv = parseDerivation(
    'Derive([("out","","","")],[],[],"s","\\b\\u\\i\\l\\d",["\\\\\\"\\x"],[])',
  );
  assert.equal(drv.builder, "build");
  assert.deepEqual(drv.args, ['\\"x']);
});

test("every truncation of every vector is a FormatError naming the position", () => {
  for (const aterm of aterms.slice(0, 6)) {
    for (let length = 0; length < aterm.length; length++) {
      assert.throws(
        () => parseDerivation(aterm.slice(0, length)),
        (error: unknown) => {
          assert.ok(error instanceof FormatError);
          assert.match(error.message, /^derivation: at character \d+: expected .+, found /);
          return true;
        },
      );
    }
  }
});

test("rejects trailing text, duplicates, bad hashes, relative paths and bad UTF-8", () => {
  const simple = vectors[0].nix.aterm;
  const bad: [string | Uint8Array, RegExp][] = [
    [`${simple}\n`, new RegExp(`character ${simple.length}: expected the end of the text`)],
    [`${simple})`, /the end of the text/],
    [
      simple.replace('[("builder"', '[("name","x"),("builder"'),
      /no second environment variable "name"/,
    ],
    [simple.replace('[("out",', '[("out","","",""),("out",'), /a new output name/],
    [simple.replace("Derive([(", "Derive([]"), /./],
    [simple.replace(/^Derive\(\[.*?\)\]/, "Derive([]"), /at least one output/],
    [simple.replace('"",""', '"sha256","00"'), /base16 sha256 digest/],
    [simple.replace('"",""', '"sha3","00"'), /hashAlgo md5, sha1, sha256 or sha512/],
    [simple.replace('"",""', '"","abcd"'), /an empty hash when hashAlgo is ""/],
    [
      simple.replace('"/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","",', '"relative","",'),
      /absolute output path/,
    ],
    [
      simple.replace("],[],[]", '],[("x.drv",["out"])],[]'),
      /absolute path for an input derivation/,
    ],
    [
      simple.replace("],[],[]", '],[("/x.drv",["out","out"])],[]'),
      /no duplicate in the input derivation's output names/,
    ],
    [simple.replace("],[],[]", '],[],["/a","/a"]'), /no duplicate in the input sources/],
    [
      simple.replace("],[],[]", '],[],["/a",]'),
      /a quoted string for an element of the input sources/,
    ],
    [simple.replace('["-c",', '["-c" ,'), /expected "," or "]"/],
    [simple.replace("Derive(", "Derive ("), /^derivation: at character 0: expected "Derive\("/],
    [simple.replace('"x86_64-linux"', "x86_64-linux"), /a quoted string for the system/],
    [Uint8Array.of(...Buffer.from(simple.slice(0, 100)), 0xc3, 0x28), /not valid UTF-8/],
    [`\ufeff${simple}`, /expected "Derive\("/],
  ];
  for (const [text, message] of bad) {
    assert.throws(
      () => parseDerivation(text),
      (error: unknown) => {
        assert.ok(error instanceof FormatError, String(error));
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(() => parseDerivation(simple, { maxLength: 100 }), /longer than 100/);
});

test("out-of-order entries are accepted, like Nix, and printed sorted", () => {
  const unsorted =
    'Derive([("b","","",""),("a","","","")],[("/z.drv",["y","x"]),("/a.drv",["o"])],' +
    '["/s2","/s1"],"sys","b",["2","1"],[("z","1"),("a","2")])';
  const parsed = parseDerivation(unsorted);
  assert.deepEqual([...parsed.outputs.keys()], ["b", "a"]);
  assert.deepEqual([...parsed.env.keys()], ["z", "a"]);
  assert.equal(
    printDerivation(parsed),
    'Derive([("a","","",""),("b","","","")],[("/a.drv",["o"]),("/z.drv",["x","y"])],' +
      '["/s1","/s2"],"sys","b",["2","1"],[("a","2"),("z","1")])',
  );
});

test("floating and impure outputs need an empty path", () => {
  const floating = 'Derive([("out","","r:sha256","")],[],[],"s","b",[],[])';
  assert.equal(printDerivation(parseDerivation(floating)), floating);
  const impure = 'Derive([("out","","r:sha256","impure")],[],[],"s","b",[],[])';
  assert.equal(printDerivation(parseDerivation(impure)), impure);
  assert.throws(
    () => parseDerivation('Derive([("out","/p","sha256","")],[],[],"s","b",[],[])'),
    /an empty path/,
  );
});

// ---- property tests ----

const specialChar = fc.constantFrom(
  '"',
  "\\",
  "\n",
  "\r",
  "\t",
  "\x01",
  "\x1b",
  "\x7f",
  "é",
  "日",
  "🎉",
  "(",
  ")",
  ",",
  "[",
  "]",
);
const anyChar = fc.oneof(
  { weight: 2, arbitrary: specialChar },
  { weight: 3, arbitrary: fc.constantFrom(..."abcxyz019-_./ ") },
  { weight: 1, arbitrary: anyCodePoint },
);
const text = fc.string({ unit: anyChar, maxLength: 24 });
const absolutePath = text.map((s) => `/${s}`);
const hashAlgorithm = fc.constantFrom<HashAlgorithm>("md5", "sha1", "sha256", "sha512");

const inputAddressedOutputs = fc
  .uniqueArray(fc.tuple(text, fc.oneof(fc.constant(""), absolutePath)), {
    minLength: 1,
    maxLength: 4,
    selector: ([name]) => name,
  })
  .map(
    (entries) =>
      new Map<string, DerivationOutput>(
        entries.map(([name, path]) => [name, { path, hashAlgo: "", hash: "" }]),
      ),
  );
const fixedOutput = fc
  .tuple(
    fc.boolean(),
    hashAlgorithm,
    absolutePath,
    fc.infiniteStream(fc.integer({ min: 0, max: 15 })),
  )
  .map(([recursive, algorithm, path, nibbles]) => {
    const hash = [...nibbles.take(HASH_SIZES[algorithm] * 2)].map((n) => n.toString(16)).join("");
    return new Map([["out", { path, hashAlgo: `${recursive ? "r:" : ""}${algorithm}`, hash }]]);
  });

const derivationArbitrary: fc.Arbitrary<Derivation> = fc.record({
  outputs: fc.oneof(inputAddressedOutputs, fixedOutput),
  inputDrvs: fc
    .uniqueArray(fc.tuple(absolutePath, fc.uniqueArray(text, { minLength: 1, maxLength: 3 })), {
      maxLength: 4,
      selector: ([path]) => path,
    })
    .map((entries) => new Map(entries)),
  inputSrcs: fc.uniqueArray(absolutePath, { maxLength: 4 }),
  system: text,
  builder: text,
  args: fc.array(text, { maxLength: 5 }),
  env: fc
    .uniqueArray(fc.tuple(text, text), { maxLength: 8, selector: ([key]) => key })
    .map((entries) => new Map(entries)),
});

test("random derivations round-trip print → parse → print", () => {
  fc.assert(
    fc.property(derivationArbitrary, (drv) => {
      const printed = printDerivation(drv);
      const parsed = parseDerivation(printed);
      assert.equal(printDerivation(parsed), printed);
      assert.deepEqual(parsed.args, drv.args);
      assert.deepEqual(new Map([...parsed.env].sort()), new Map([...drv.env].sort()));
      assert.deepEqual(new Set(parsed.outputs.keys()), new Set(drv.outputs.keys()));
      for (const [name, output] of drv.outputs) assert.deepEqual(parsed.outputs.get(name), output);
    }),
    { numRuns: 200 },
  );
});

type Mutation = (aterm: string) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n) => (s: string) => s.slice(0, n % (s.length + 1))),
  fc.tuple(fc.nat(), anyChar).map(([n, c]) => (s: string) => {
    const at = n % s.length;
    return s.slice(0, at) + c + s.slice(at + 1);
  }),
  fc
    .tuple(fc.nat(), fc.constantFrom('"', "\\", '\\"', "(", ")", ",", "[", "]", '","'))
    .map(([n, c]) => (s: string) => {
      const at = n % (s.length + 1);
      return s.slice(0, at) + c + s.slice(at);
    }),
  fc.tuple(fc.nat(), fc.nat({ max: 20 })).map(([n, k]) => (s: string) => {
    const at = n % (s.length + 1);
    return s.slice(0, at) + s.slice(at + k);
  }),
);

test("mutated vectors parse or fail with a FormatError, never anything else", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...aterms),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (aterm, mutations) => {
        const mutated = mutations.reduce((s, m) => m(s), aterm);
        const result = parseOrFormatError(mutated);
        if (!(result instanceof FormatError)) {
          // Whatever parses must print as something that parses to the same print.
          const printed = printDerivation(result);
          assert.equal(printDerivation(parseDerivation(printed)), printed);
        }
        parseOrFormatError(Buffer.from(mutated, "utf8").subarray(0, mutated.length));
      },
    ),
    { numRuns: 300 },
  );
});

test("random text parses or fails with a FormatError", () => {
  const atermish = fc.string({
    unit: fc.oneof(anyChar, fc.constantFrom("Derive(", '("out",', '"/x"', "[]", '""')),
    maxLength: 80,
  });
  fc.assert(
    fc.property(
      fc.oneof(
        atermish,
        atermish.map((s) => `Derive([("out","","","")],${s}`),
      ),
      (s) => {
        parseOrFormatError(s);
      },
    ),
    { numRuns: 300 },
  );
});

test("a string with a lone surrogate is refused, as printing refuses it", () => {
  const text = `Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo \ud800"],[])`;
  assert.throws(
    () => parseDerivation(text),
    (error: unknown) => error instanceof FormatError && /lone UTF-16 surrogate/.test(error.message),
  );
});
