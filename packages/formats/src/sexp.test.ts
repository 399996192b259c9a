import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { FormatError } from "./kiln-error.ts";
import { findSexp, parseSexp, printSexp, type Sexp, sexpAtom, sexpText } from "./sexp.ts";

const guix = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];
/** The decoded payload of the real farm signature: libgcrypt's own advanced rendering. */
const payload = Buffer.from(guix.narinfo.split("Signature: ")[1].split(";")[2], "base64");

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

test("re-prints the farm's signature payload byte for byte", () => {
  assert.equal(text(printSexp(parseSexp(payload))), payload.toString("latin1"));
});

test("re-prints the farm's public key file byte for byte", () => {
  assert.equal(text(printSexp(parseSexp(guix.publicKey))), guix.publicKey);
});

test("canonical and advanced forms read to the same tree", () => {
  const tree = parseSexp(guix.publicKey);
  const canonical = printSexp(tree, { form: "canonical" });
  assert.match(text(canonical), /^\(10:public-key\(3:ecc\(5:curve7:Ed25519\)\(1:q32:/);
  assert.deepEqual(parseSexp(canonical), tree);
  const q = findSexp(tree, "q")?.[1] as Uint8Array;
  assert.equal(Buffer.from(q).toString("hex").toUpperCase(), guix.publicKey.match(/#(\w+)#/)[1]);
});

test("reads tokens, quoted strings, hex, base64 and verbatim atoms", () => {
  const tree = parseSexp('(a "q\\"\\n\\x41\\101\\\nb" #61 62# |YW Jj| 3:x)y 2#6364# 1"e" 3|YWJj|)');
  assert.deepEqual(
    (tree as Sexp[]).map((atom) => text(atom as Uint8Array)),
    ["a", 'q"\nAAb', "ab", "abc", "x)y", "cd", "e", "abc"],
  );
});

test("reads the transport form", () => {
  const canonical = Buffer.from("(3:ecc(5:curve7:Ed25519))");
  assert.deepEqual(parseSexp(`{${canonical.toString("base64")}}\n`), parseSexp(canonical));
});

test("prints atoms the way libgcrypt chooses: token, string or hex", () => {
  const tree: Sexp = [
    sexpAtom("tok-en.1"),
    sexpAtom("1abc"),
    sexpAtom("two words\n"),
    Uint8Array.of(0x80, 1),
    Uint8Array.of(0, 0x41),
    Uint8Array.of(0x41, 1),
    new Uint8Array(0),
    [],
  ];
  assert.equal(
    text(printSexp(tree)),
    '(tok-en.1 "1abc" "two words\\n" #8001# #0041# #4101# "" \n ()\n )\n',
  );
});

test("prints the canonical form with byte lengths", () => {
  const tree: Sexp = [sexpAtom("é"), [Uint8Array.of(0, 255)]];
  assert.deepEqual(
    [...printSexp(tree, { form: "canonical" })],
    [...Buffer.from("(2:"), 0xc3, 0xa9, ...Buffer.from("(2:"), 0, 255, ...Buffer.from("))")],
  );
});

test("findSexp and sexpText look up nested lists", () => {
  const tree = parseSexp("(a (b (c 1:x)) (c 1:y))");
  assert.equal(sexpText(findSexp(tree, "c")?.[1]), "x");
  assert.equal(findSexp(tree, "d"), undefined);
});

test("rejects malformed input with a FormatError naming the problem", () => {
  const cases: [string | Uint8Array, RegExp][] = [
    ["(a (b)", /unclosed list/],
    ["(a))", /data after/],
    ["(a) (b)", /data after/],
    ["(#616#)", /odd number of hex digits/],
    ["(#6g#)", /invalid character in #hex#/],
    ['("abc)', /unterminated quoted string/],
    ['("\\q")', /invalid escape/],
    ['("\\x4")', /invalid \\x escape/],
    ["(5:abc)", /runs past the end/],
    ["(4#616263#)", /does not match/],
    ["(01:a)", /leading zero/],
    ["(3abc)", /unexpected character/],
    ["([text]abc)", /display hints/],
    ["(a |YW=|)", /invalid \|base64\|/],
    ["{KDE6YSk}", /invalid base64/],
    ["", /unexpected end/],
    ["(a ;)", /unexpected character/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseSexp(input),
      (error: unknown) => {
        assert.ok(error instanceof FormatError, `${JSON.stringify(input)} threw ${error}`);
        assert.match(error.message, message, JSON.stringify(input));
        return true;
      },
    );
  }
});

test("rejects absurd nesting instead of overflowing the stack", () => {
  assert.throws(() => parseSexp(`${"(".repeat(100_000)}a${")".repeat(100_000)}`), FormatError);
});

const sexpArbitrary: fc.Arbitrary<Sexp> = fc.letrec<{ node: Sexp }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      fc.stringMatching(/^[a-z][a-z0-9.-]{0,8}$/).map(sexpAtom),
    ),
    fc.array(tie("node"), { maxLength: 4 }),
  ),
})).node;

test("advanced and canonical printing both read back to the same tree", () => {
  fc.assert(
    fc.property(sexpArbitrary, (tree) => {
      assert.deepEqual(parseSexp(printSexp(tree)), tree);
      assert.deepEqual(parseSexp(printSexp(tree, { form: "canonical" })), tree);
    }),
    { numRuns: 200 },
  );
});

test("random and mutated input only ever gives a tree or a FormatError", () => {
  const seeds = [
    payload,
    Buffer.from(guix.publicKey),
    Buffer.from(printSexp(parseSexp(payload), { form: "canonical" })),
  ];
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    )
    .map(([seed, edits]) => {
      const bytes = new Uint8Array(seed);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      return bytes;
    });
  const alphabet = fc.constantFrom(...'()#|"\\:{}[] 0123abc=\n'.split(""));
  fc.assert(
    fc.property(
      fc.oneof(
        mutated,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(alphabet, { maxLength: 40 }).map((a) => a.join("")),
      ),
      (input) => {
        try {
          parseSexp(input);
        } catch (error) {
          assert.ok(error instanceof FormatError, String(error));
        }
      },
    ),
    { numRuns: 300 },
  );
});
