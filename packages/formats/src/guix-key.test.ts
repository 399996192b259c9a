import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import {
  formatGuixPublicKey,
  formatGuixSecretKey,
  generateGuixKeyPair,
  guixKeyPairFromSeed,
  parseGuixPublicKey,
  parseGuixSecretKey,
} from "./guix-key.ts";
import { FormatError } from "./kiln-error.ts";
import { nixKeyPairFromSeed, parseNixPublicKey } from "./nix-signature.ts";
import { parseSexp, printSexp } from "./sexp.ts";

const farm = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];
const farmQ = "8D156F295D24B0D9A86FA5741A840FF2D24F60F7B6C4134814AD55625971B394";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex").toUpperCase();

test("reads the farm's public key file and writes it back byte for byte", () => {
  const q = parseGuixPublicKey(farm.publicKey);
  assert.equal(hex(q), farmQ);
  assert.equal(formatGuixPublicKey(q), farm.publicKey);
});

test("reads the canonical form of the same key", () => {
  const canonical = printSexp(parseSexp(farm.publicKey), { form: "canonical" });
  assert.equal(hex(parseGuixPublicKey(canonical)), farmQ);
});

test("a generated pair satisfies q = encode(d·G) and round-trips through its files", () => {
  const pair = generateGuixKeyPair();
  assert.equal(
    hex(ed25519.Point.BASE.multiply(pair.d % ed25519.Point.Fn.ORDER).toBytes()),
    hex(pair.q),
  );
  assert.deepEqual(parseGuixSecretKey(formatGuixSecretKey(pair)), pair);
  assert.deepEqual(parseGuixPublicKey(formatGuixPublicKey(pair.q)), pair.q);
  assert.match(
    formatGuixSecretKey(pair),
    /^\(private-key \n \(ecc \n {2}\(curve Ed25519\)\n {2}\(q #[0-9A-F]{64}#\)\n {2}\(d #[0-9A-F]+#\)\n {2}\)\n \)\n$/,
  );
});

test("a seed gives one public key for Nix and Guix: q is the Ed25519 public key", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
      const guix = guixKeyPairFromSeed(seed);
      const nix = parseNixPublicKey(nixKeyPairFromSeed("k", seed).publicKey);
      assert.equal(hex(guix.q), hex(nix.key));
      assert.equal(hex(guix.q), hex(ed25519.getPublicKey(seed)));
      // d is EdDSA's clamped scalar, like libgcrypt's own Ed25519 ECDSA keys.
      assert.equal(guix.d % 8n, 0n);
      assert.equal(guix.d >> 254n, 1n);
      assert.equal(
        hex(ed25519.Point.BASE.multiply(guix.d % ed25519.Point.Fn.ORDER).toBytes()),
        hex(guix.q),
      );
    }),
    { numRuns: 50 },
  );
});

test("refuses keys Kiln cannot use, naming why", () => {
  const q = `#${farmQ}#`;
  const cases: [string, RegExp][] = [
    ["(public-key (rsa (n #00C1#) (e #010001#)))", /unsupported key algorithm "rsa"/],
    [`(public-key (ecc (curve NIST P-256) (q ${q})))`, /unsupported curve/],
    [`(public-key (ecc (curve "NIST P-256") (q ${q})))`, /unsupported curve "NIST P-256"/],
    [`(public-key (ecc (flags eddsa) (curve Ed25519) (q ${q})))`, /EdDSA key/],
    ["(public-key (ecc (curve Ed25519) (q #0102#)))", /q is 2 bytes/],
    ["(public-key (ecc (curve Ed25519)))", /no \(q …\)/],
    [`(private-key (ecc (curve Ed25519) (q ${q}) (d #01#)))`, /expected a \(public-key/],
    ["(public-key", /unclosed list/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseGuixPublicKey(input),
      (error: unknown) => {
        assert.ok(error instanceof FormatError);
        assert.match(error.message, message, input);
        return true;
      },
    );
  }
});

test("refuses a secret key whose q is not d·G", () => {
  const pair = generateGuixKeyPair();
  const other = generateGuixKeyPair();
  assert.throws(
    () => parseGuixSecretKey(formatGuixSecretKey({ q: other.q, d: pair.d })),
    /q is not d·G/,
  );
  assert.throws(
    () => parseGuixSecretKey(`(private-key (ecc (curve Ed25519) (q #${farmQ}#)))`),
    /no \(d …\)/,
  );
});

test("a secret scalar whose bytes are all printable is still written as #hex# and reads back", () => {
  // d = 0x6bd6…f470: every byte printable (seen once in 20,000 generated keys).
  const d = 0x6bd6e37a3732a42948d9b33e473bcdb7ff7bef7ab4c1efb42f6b37c87b78f470n;
  const q = ed25519.Point.BASE.multiply(d % ed25519.Point.Fn.ORDER).toBytes();
  const text = formatGuixSecretKey({ q, d });
  assert.match(text, /\(d #6BD6E37A[0-9A-F]+#\)/);
  assert.deepEqual(parseGuixSecretKey(text), { q, d });
});
