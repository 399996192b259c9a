import assert from "node:assert/strict";
import { test } from "node:test";
import { licenses } from "./licenses.ts";
import { lintPackages } from "./lint-packages.ts";
import type { Package } from "./package.ts";

const good: Package = {
  name: "good",
  version: "1.0",
  buildSystem: "trivial",
  arguments: { builder: 'mkdir "$out"' },
  source: { kind: "url", url: "https://example.org/good-1.0.tar.gz", sha256: "0".repeat(52) },
  synopsis: "Do one thing well",
  description: "Good does one thing well.  It is an example.",
  license: licenses.gpl3Plus,
  homePage: "https://example.org/good",
};

async function messages(checker: string, pkg: Package, all?: Package[]): Promise<string[]> {
  return (await lintPackages([pkg], { checkers: [checker], all })).map(
    (warning) => warning.message,
  );
}

test("a well-formed package gets no warning from any checker", async () => {
  assert.deepEqual(await lintPackages([good]), []);
});

test("a git source pinned by a full commit and a sha256 gets no warning", async () => {
  for (const url of ["https://example.org/good.git", "git://example.org/good.git"]) {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    for (const sha256 of ["0".repeat(52), "0".repeat(64)]) {
      const source = { kind: "git" as const, url, commit, sha256 };
      assert.deepEqual(await lintPackages([{ ...good, source }]), []);
    }
  }
});

const mustWarn: [string, Partial<Package>, RegExp][] = [
  ["synopsis", { synopsis: "do one thing" }, /upper-case/],
  ["synopsis", { synopsis: "Does one thing." }, /no period/],
  ["synopsis", { synopsis: "A tool that does one thing" }, /no article/],
  ["synopsis", { synopsis: "good does things" }, /package name|upper-case/],
  ["synopsis", { synopsis: "X".repeat(81) }, /less than 80/],
  ["description", { description: "does one thing." }, /upper-case/],
  ["description", { description: "Does one thing" }, /end with a period/],
  ["description", { description: "" }, /empty/],
  ["license", { license: [] }, /no license/],
  ["license", { license: { name: "", uri: "nope" } }, /invalid license/],
  ["name", { name: "Good_Pkg" }, /lower case/],
  ["version", { version: "v1.0" }, /start with 'v'/],
  ["version", { version: "one point oh" }, /start with a digit/],
  ["home-page", { homePage: "example.org" }, /invalid home page/],
  ["home-page", { homePage: "ftp://example.org/" }, /http\(s\)/],
  [
    "source",
    { source: { kind: "url", url: "https://example.org/x.tar.gz", sha256: "abc" } },
    /source hash/,
  ],
  [
    "source",
    { source: { kind: "url", url: "file:///etc/x", sha256: "0".repeat(64) } },
    /unsupported scheme/,
  ],
  [
    "source",
    {
      source: {
        kind: "git",
        url: "https://example.org/x.git",
        commit: "abc123",
        sha256: "0".repeat(64),
      },
    },
    /40-digit/,
  ],
  ["derivation", { arguments: {} }, /failed to create x86_64-linux derivation/],
];

for (const [checker, change, expected] of mustWarn) {
  test(`${checker} warns about ${JSON.stringify(change).slice(0, 60)}`, async () => {
    const found = await messages(checker, { ...good, ...change });
    assert.ok(
      found.some((message) => expected.test(message)),
      `${checker}: ${found.join("; ") || "no warning"}`,
    );
    assert.deepEqual(await messages(checker, good), [], "and not about the good package");
  });
}

test("inputs-should-be-native and duplicates look at inputs and at the channel", async () => {
  const tool: Package = { ...good, name: "pkg-config" };
  assert.match(
    (await messages("inputs-should-be-native", { ...good, inputs: [tool] }))[0]!,
    /'pkg-config' should probably be a native input/,
  );
  assert.deepEqual(
    await messages("inputs-should-be-native", { ...good, nativeInputs: [tool] }),
    [],
  );
  const twin = { ...good };
  assert.match((await messages("duplicates", good, [good, twin]))[0]!, /defined 2 times/);
  assert.deepEqual(await messages("duplicates", good, [good, { ...good, version: "2.0" }]), []);
});

test("warnings name checker, package, version and location; -c with an unknown checker throws", async () => {
  const warnings = await lintPackages([{ ...good, version: "v2" }], {
    checkers: ["version"],
    locations: new Map(),
  });
  assert.deepEqual(Object.keys(warnings[0]!).sort(), [
    "checker",
    "location",
    "message",
    "package",
    "version",
  ]);
  assert.equal(warnings[0]!.checker, "version");
  await assert.rejects(
    lintPackages([good], { checkers: ["spelling"] }),
    /unknown lint checker "spelling"/,
  );
});
