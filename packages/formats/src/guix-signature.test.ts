import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { verifyEcdsaEd25519 } from "./ecdsa-ed25519.ts";
import { generateGuixKeyPair, guixKeyPairFromSeed, parseGuixPublicKey } from "./guix-key.ts";
import { guixNarinfoDigest, signGuixNarinfo, verifyGuixNarinfo } from "./guix-signature.ts";
import { FormatError } from "./kiln-error.ts";
import { findSexp, parseSexp, printSexp, sexpAtom } from "./sexp.ts";

const farm = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];
const farmText: string = farm.narinfo;
const farmKey = parseGuixPublicKey(farm.publicKey);
const signedLength = farmText.indexOf("Signature:");

const unsigned = farmText.slice(0, signedLength);
const kilnKey = guixKeyPairFromSeed(new Uint8Array(32).fill(42));

function reason(result: ReturnType<typeof verifyGuixNarinfo>): string {
  assert.equal(result.valid, false);
  return result.valid ? "" : result.reason;
}

test("the farm's real narinfo verifies with the farm's key", () => {
  const result = verifyGuixNarinfo(farmText, [generateGuixKeyPair().q, farmKey]);
  assert.equal(result.valid, true);
  assert.equal(result.valid && result.hostname, "berlin.guixsd.org");
});

test("changing any single byte of the signed text breaks the signature", () => {
  const positions = [
    0,
    11,
    60,
    100,
    180,
    250,
    400,
    signedLength - 30,
    signedLength - 2,
    signedLength - 1,
  ];
  for (const at of positions) {
    const code = farmText.charCodeAt(at);
    const changed = `${farmText.slice(0, at)}${String.fromCharCode(code === 0x30 ? 0x31 : 0x30)}${farmText.slice(at + 1)}`;
    assert.equal(verifyGuixNarinfo(changed, [farmKey]).valid, false, `byte ${at}`);
  }
  fc.assert(
    fc.property(
      fc.nat({ max: signedLength - 1 }),
      fc.integer({ min: 0x20, max: 0x7e }),
      (at, code) => {
        fc.pre(farmText.charCodeAt(at) !== code);
        const changed = farmText.slice(0, at) + String.fromCharCode(code) + farmText.slice(at + 1);
        assert.equal(verifyGuixNarinfo(changed, [farmKey]).valid, false);
      },
    ),
    { numRuns: 40 },
  );
});

test("a key outside the ACL is refused", () => {
  assert.match(reason(verifyGuixNarinfo(farmText, [kilnKey.q])), /unauthorized key 8D156F/);
  assert.match(reason(verifyGuixNarinfo(farmText, [])), /unauthorized key/);
});

test("malformed or mismatched Signature: lines are refused with a reason", () => {
  const [, value] = farmText.split("Signature: ");
  const [, host, payload] = value.trimEnd().split(";");
  const withSignature = (line: string) => `${unsigned}${line}\n`;
  const sexp = parseSexp(Buffer.from(payload, "base64")) as never[];
  const otherHash = printSexp([
    sexp[0],
    [
      sexpAtom("data"),
      [sexpAtom("flags"), sexpAtom("rfc6979")],
      [sexpAtom("hash"), sexpAtom("sha256"), new Uint8Array(32)],
    ],
    sexp[2],
    sexp[3],
  ]);
  const cases: [string, RegExp][] = [
    [unsigned, /no Signature: line/],
    [withSignature(`Signature: 2;${host};${payload}`), /unsupported signature version "2"/],
    [withSignature(`Signature: 1;${payload}`), /<version>;<host>;<base64>/],
    [withSignature(`Signature: 1;${host};${payload};x`), /<version>;<host>;<base64>/],
    [withSignature(`Signature:1;${host};${payload}`), /malformed Signature/],
    [withSignature(`Signature: 1;${host};${payload.slice(1)}`), /corrupt signature: base64/],
    [
      withSignature(`Signature: 1;${host};${Buffer.from("(signature (data").toString("base64")}`),
      /corrupt signature: sexp: unclosed/,
    ],
    [
      withSignature(`Signature: 1;${host};${Buffer.from("(public-key)").toString("base64")}`),
      /not a \(signature/,
    ],
    [
      withSignature(`Signature: 1;${host};${Buffer.from(otherHash).toString("base64")}`),
      /hash mismatch/,
    ],
    [farmText.replace("StorePath: ", "Store-Path: "), /StorePath not covered/],
    [farmText.replace(/References: .*\n/, ""), /References not covered/],
    [`${unsigned.replace(/NarHash: .*\n/, "")}Signature: ${value}`, /NarHash not covered/],
  ];
  for (const [text, expected] of cases)
    assert.match(reason(verifyGuixNarinfo(text, [farmKey])), expected);
});

test("a forged (r, s) with the right hash and key is refused", () => {
  const payload = farmText.slice(signedLength).split(";")[2].trim();
  const forged = Buffer.from(payload, "base64").toString("latin1").replace("(r #01C3", "(r #01C4");
  const text = `${unsigned}Signature: 1;x;${Buffer.from(forged, "latin1").toString("base64")}\n`;
  assert.match(reason(verifyGuixNarinfo(text, [farmKey])), /invalid signature/);
});

test("what signGuixNarinfo signs, verifyGuixNarinfo accepts; r, s satisfy the equation", () => {
  const signed = signGuixNarinfo(unsigned, { ...kilnKey, hostname: "kiln.example" });
  assert.ok(signed.startsWith(unsigned));
  assert.match(signed.slice(unsigned.length), /^Signature: 1;kiln\.example;[A-Za-z0-9+/]+=*\n$/);
  const result = verifyGuixNarinfo(signed, [kilnKey.q]);
  assert.equal(result.valid, true);
  const sexp = parseSexp(Buffer.from(signed.split(";")[2], "base64"));
  const value = (name: string) =>
    BigInt(`0x${Buffer.from(findSexp(sexp, name)![1] as Uint8Array).toString("hex")}`);
  assert.ok(
    verifyEcdsaEd25519(guixNarinfoDigest(unsigned), kilnKey.q, { r: value("r"), s: value("s") }),
  );
  assert.deepEqual(findSexp(sexp, "hash")![2], guixNarinfoDigest(unsigned));
});

test("signing is deterministic", () => {
  const options = { ...kilnKey, hostname: "h" };
  assert.equal(signGuixNarinfo(unsigned, options), signGuixNarinfo(unsigned, options));
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z]{1,20}$/), (system) => {
      const text = `${unsigned}X-Extra: ${system}\n`;
      const signed = signGuixNarinfo(text, options);
      assert.equal(signed, signGuixNarinfo(text, options));
      assert.equal(verifyGuixNarinfo(signed, [kilnKey.q]).valid, true);
    }),
    { numRuns: 20 },
  );
});

test("Nix Sig: lines before Signature: are covered by the Guix signature", () => {
  const withSig = `${unsigned}Sig: cache-1:AAAA\n`;
  const signed = signGuixNarinfo(withSig, { ...kilnKey, hostname: "h" });
  assert.equal(verifyGuixNarinfo(signed, [kilnKey.q]).valid, true);
  assert.equal(
    verifyGuixNarinfo(signed.replace("cache-1:AAAA", "cache-1:AAAB"), [kilnKey.q]).valid,
    false,
  );
});

test("signGuixNarinfo refuses text it cannot sign soundly", () => {
  const options = { ...kilnKey, hostname: "h" };
  const cases: [string, typeof options, RegExp][] = [
    [farmText, options, /already contains a Signature/],
    [unsigned.trimEnd(), options, /end with a newline/],
    [unsigned.replace(/NarHash: .*\n/, ""), options, /lacks NarHash/],
    [unsigned, { ...options, hostname: "a;b" }, /hostname/],
    [unsigned, { ...options, hostname: "" }, /hostname/],
  ];
  for (const [text, opts, message] of cases) {
    assert.throws(
      () => signGuixNarinfo(text, opts),
      (error: unknown) => {
        assert.ok(error instanceof FormatError);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});
