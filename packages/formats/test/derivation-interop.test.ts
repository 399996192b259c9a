/**
 * Differential test against real Nix: random derivations are written as Nix
 * expressions, instantiated by nix-instantiate in a private store (under /nix/store and
 * under /gnu/store), and every `.drv` Nix writes is checked against Kiln: parse → print
 * is byte-identical, output paths recomputed from the masked form and the `.drv` path
 * equal Nix's, and derivationToJson equals `nix show-derivation`.
 *
 * One property run instantiates a whole batch of cases in a single nix-instantiate
 * call, because spawning Nix costs far more than anything checked here.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  type Derivation,
  type DerivationOutput,
  isFixedOutputDerivation,
} from "@kiln/formats/derivation";
import { derivationToJson } from "@kiln/formats/derivation-json";
import { computeDerivationOutputs, derivationPath } from "@kiln/formats/derivation-outputs";
import { HASH_SIZES, type HashAlgorithm, toBase64, toHex } from "@kiln/formats/hash";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { encodeNix32 } from "@kiln/formats/nix32";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { printDerivation } from "@kiln/formats/print-derivation";
import { parseStorePath } from "@kiln/formats/store-path";
import { createPrivateNixStore, type PrivateNixStore, requirePeer } from "@kiln/testkit";
import fc from "fast-check";

/** Cases per store directory, all instantiated by one nix-instantiate call. */
const CASES = 30;

// ---- Nix source text ----

const NIX_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  // `\$` is a plain `$` in Nix, so no `${` can start an interpolation.
  $: "\\$",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function nixString(value: string): string {
  return `"${value.replace(/[\\"$\n\r\t]/g, (c) => NIX_ESCAPES[c])}"`;
}

// ---- arbitraries ----

/** Characters that stress ATerm and Nix escaping; never NUL, which Nix strings cannot hold. */
const textChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(..."abcXYZ019 -_./=") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '"',
      "\\",
      "\n",
      "\r",
      "\t",
      "$",
      "{",
      "}",
      "'",
      "\x01",
      "\x1b",
      "\x7f",
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("é", "ü", "✓", "日", "🎉", "\u{10ffff}") },
);
const text = fc.string({ unit: textChar, maxLength: 16 });
const storeName = fc
  .string({ unit: fc.constantFrom(..."abcxyzABZ0189+-._?="), minLength: 1, maxLength: 20 })
  .filter((name) => !name.endsWith(".drv"));
/** Env keys start with `k`, so they never collide with attributes Nix treats specially. */
const envKey = text.map((s) => `k${s}`);

const scalar = fc.oneof(
  text.map(nixString),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((n) => (n < 0 ? `(${n})` : String(n))),
  fc.constantFrom("true", "false", "null"),
);
const nixValue = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }).map((xs) => `[ ${xs.join(" ")} ]`) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 })
      .map((xss) => `[ ${xss.map((xs) => `[ ${xs.join(" ")} ]`).join(" ")} "x" ]`),
  },
);

const textFile = fc.record({ name: storeName, contents: text, refersToPrevious: fc.boolean() });

const fixedOutputSpec = fc.record({
  name: storeName,
  builder: text.map((s) => `/${s}`),
  algorithm: fc.constantFrom<HashAlgorithm>("sha256", "sha256", "sha1", "sha512", "md5"),
  mode: fc.constantFrom("flat", "recursive", undefined),
  encoding: fc.constantFrom("base16", "nix32", "sri", "base64"),
  digest: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  /** Also instantiate a copy with another builder: same output path, different `.drv`. */
  twin: fc.boolean(),
});

const derivationSpec = fc.record({
  name: storeName,
  // Nix insists on a non-empty system and builder. Nix 2.8 writes the system field
  // without escaping (older Nix and the Guix daemon escape it; so does Kiln), so a
  // system with one of the five escaped characters has no agreed form; Nix cannot even
  // read its own .drv back when it contains `"` or `\`.
  system: fc
    .string({ unit: textChar.filter((c) => !'"\\\n\r\t'.includes(c)), maxLength: 16 })
    .map((s) => `x${s}`),
  builder: text.map((s) => `/${s}`),
  args: fc.array(text, { maxLength: 3 }),
  outputs: fc.option(
    fc.uniqueArray(fc.constantFrom("out", "dev", "lib", "bin", "doc"), {
      minLength: 1,
      maxLength: 4,
    }),
  ),
  attrs: fc.uniqueArray(fc.tuple(envKey, nixValue), { maxLength: 5, selector: ([key]) => key }),
  structuredAttrs: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
  /** Indices into what is available to refer to (sources, fixed outputs, earlier outputs). */
  uses: fc.array(fc.nat(), { maxLength: 4 }),
});

const caseSpec = fc.record({
  sources: fc.array(textFile, { maxLength: 2 }),
  fixed: fc.array(fixedOutputSpec, { maxLength: 2 }),
  deps: fc.array(derivationSpec, { maxLength: 2 }),
  main: derivationSpec,
});
type CaseSpec = typeof caseSpec extends fc.Arbitrary<infer T> ? T : never;
type DerivationSpec = CaseSpec["main"];

// ---- turning a case into a Nix expression ----

function fixedOutputAttrs(spec: CaseSpec["fixed"][number]): string {
  const digest = spec.digest.subarray(0, HASH_SIZES[spec.algorithm]);
  const hash = {
    base16: toHex(digest),
    nix32: encodeNix32(digest),
    sri: `${spec.algorithm}-${toBase64(digest)}`,
    base64: toBase64(digest),
  }[spec.encoding];
  const algo = spec.encoding === "sri" ? "" : `outputHashAlgo = ${nixString(spec.algorithm)}; `;
  const mode = spec.mode === undefined ? "" : `outputHashMode = ${nixString(spec.mode)}; `;
  return `outputHash = ${nixString(hash)}; ${algo}${mode}`;
}

function derivationExpression(spec: DerivationSpec, available: string[], extraUses: string[]) {
  const attrs = [
    `name = ${nixString(spec.name)};`,
    `system = ${nixString(spec.system)};`,
    `builder = ${nixString(spec.builder)};`,
  ];
  const args = spec.args.map(nixString);
  const uses = [...extraUses];
  if (available.length > 0)
    for (const use of spec.uses) uses.push(available[use % available.length]);
  uses.forEach((ref, i) => {
    // Half the references go into env vars, half into args.
    if (i % 2 === 0) attrs.push(`${nixString(`kuse${i}`)} = "\${${ref}}";`);
    else args.push(`"\${${ref}}"`);
  });
  attrs.push(`args = [ ${args.join(" ")} ];`);
  if (spec.outputs !== null) attrs.push(`outputs = [ ${spec.outputs.map(nixString).join(" ")} ];`);
  if (spec.structuredAttrs) attrs.push("__structuredAttrs = true;");
  for (const [key, value] of spec.attrs) attrs.push(`${nixString(key)} = ${value};`);
  return `derivation { ${attrs.join(" ")} }`;
}

/** A `let … in main` expression, and the text files it creates (to check their paths). */
function caseExpression(spec: CaseSpec, index: number) {
  const bindings: string[] = [];
  const available: string[] = [];
  const textFiles: { name: string; contents: string }[] = [];
  spec.sources.forEach((source, i) => {
    const id = `s${index}_${i}`;
    const refersTo = source.refersToPrevious && i > 0 ? `s${index}_${i - 1}` : undefined;
    const contents =
      refersTo === undefined
        ? nixString(source.contents)
        : `"\${${refersTo}}" + ${nixString(source.contents)}`;
    bindings.push(`${id} = builtins.toFile ${nixString(source.name)} (${contents});`);
    if (refersTo === undefined) textFiles.push(source);
    available.push(id);
  });
  const twins: string[] = [];
  spec.fixed.forEach((fixed, i) => {
    const id = `f${index}_${i}`;
    const common = `name = ${nixString(fixed.name)}; system = "x"; ${fixedOutputAttrs(fixed)}`;
    bindings.push(`${id} = derivation { ${common} builder = ${nixString(fixed.builder)}; };`);
    available.push(id);
    if (fixed.twin) {
      bindings.push(
        `${id}t = derivation { ${common} builder = ${nixString(`${fixed.builder}+`)}; };`,
      );
      twins.push(id, `${id}t`);
    }
  });
  spec.deps.forEach((dep, i) => {
    const id = `d${index}_${i}`;
    bindings.push(`${id} = ${derivationExpression(dep, available, [])};`);
    for (const output of dep.outputs ?? ["out"]) available.push(`${id}.${nixString(output)}`);
  });
  // The main derivation uses every source, so each one shows up in some inputSrcs.
  const sources = spec.sources.map((_, i) => `s${index}_${i}`);
  const main = derivationExpression(spec.main, available, [...sources, ...twins]);
  const expression = `let ${bindings.join("\n  ")}\nin ${main}`;
  return { expression, textFiles };
}

// ---- checking what Nix wrote ----

function withoutOutputPaths(drv: Derivation): Derivation {
  const outputs = new Map<string, DerivationOutput>();
  for (const [name, output] of drv.outputs) outputs.set(name, { ...output, path: "" });
  return { ...drv, outputs, env: new Map([...drv.env].filter(([key]) => !drv.outputs.has(key))) };
}

/** Reads every `.drv` reachable from the given ones out of the private store. */
function readClosure(store: PrivateNixStore, roots: string[]) {
  const texts = new Map<string, string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const drvPath = pending.pop()!;
    if (texts.has(drvPath)) continue;
    const { baseName } = parseStorePath(drvPath, store.storeDir);
    const drvText = readFileSync(join(store.realStoreDir, baseName), "utf8");
    texts.set(drvPath, drvText);
    pending.push(...parseDerivation(drvText).inputDrvs.keys());
  }
  return texts;
}

/** Checks one batch and returns the derivations Nix wrote for it. */
function checkBatch(store: PrivateNixStore, specs: CaseSpec[]): Derivation[] {
  const cases = specs.map(caseExpression);
  const file = join(store.realStoreDir, "..", "cases.nix");
  writeFileSync(file, `[\n${cases.map((c) => `(${c.expression})`).join("\n")}\n]\n`);
  const roots = store
    .run("nix-instantiate", [file])
    .toString("utf8")
    .trim()
    .split("\n")
    .map((line) => line.split("!")[0]);
  assert.equal(roots.length, cases.length);

  const texts = readClosure(store, roots);
  const parsed = new Map(
    [...texts].map(([drvPath, drvText]) => [drvPath, parseDerivation(drvText)]),
  );
  const resolve = (drvPath: string) => parsed.get(drvPath)!;
  const cache = new Map<string, Uint8Array>();
  for (const [drvPath, drvText] of texts) {
    const drv = parsed.get(drvPath)!;
    assert.equal(printDerivation(drv), drvText, `parse → print of ${drvPath}`);
    const storeDir = store.storeDir;
    const recomputed = computeDerivationOutputs(withoutOutputPaths(drv), {
      resolve,
      storeDir,
      cache,
    });
    assert.equal(printDerivation(recomputed), drvText, `output paths of ${drvPath}`);
    assert.equal(derivationPath(drv, { storeDir }), drvPath, `.drv path of ${drvPath}`);
  }

  // The toFile sources Nix created are where Kiln puts them.
  const sources = new Set([...parsed.values()].flatMap((drv) => drv.inputSrcs));
  for (const { textFiles } of cases) {
    for (const { name, contents } of textFiles) {
      assert.ok(sources.has(makeTextPath(name, contents, { storeDir: store.storeDir })), name);
    }
  }

  const shown = JSON.parse(store.run("nix", ["show-derivation", ...texts.keys()]).toString("utf8"));
  const kiln = Object.assign({}, ...[...parsed].map(([p, drv]) => derivationToJson(p, drv)));
  assert.deepEqual(kiln, shown);
  return [...parsed.values()];
}

/** Fails when a batch missed the interesting kinds of derivation, since it then proved little. */
function assertCoverage(drvs: Derivation[]): void {
  assert.ok(drvs.some(isFixedOutputDerivation), "no fixed-output derivation");
  assert.ok(
    drvs.some((drv) => drv.outputs.size > 1),
    "no derivation with several outputs",
  );
  assert.ok(
    drvs.some((drv) => drv.env.has("__json")),
    "no derivation with structured attrs",
  );
  assert.ok(
    drvs.some((drv) => drv.inputDrvs.size > 1),
    "no derivation with several inputs",
  );
}

for (const storeDir of ["/nix/store", "/gnu/store"]) {
  test(`random derivations instantiated by Nix under ${storeDir} agree with Kiln`, (t) => {
    if (!requirePeer(t, "nix-instantiate", "Nix")) return;
    const store = createPrivateNixStore(storeDir);
    try {
      let checked: Derivation[] = [];
      fc.assert(
        fc.property(fc.array(caseSpec, { minLength: CASES, maxLength: CASES }), (specs) => {
          checked = checkBatch(store, specs);
        }),
        { numRuns: 1 },
      );
      // Outside the property, so that shrinking a real failure never stops at a dull batch.
      assertCoverage(checked);
    } finally {
      store.dispose();
    }
  });
}
