/**
 * `kiln search`, `show` and `lint` evaluate channels in the sandbox: a module that reads
 * /etc/passwd or loops forever is reported as `error: MODULE: …` on stderr, and the good
 * modules' packages are still searched, shown and linted.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runKiln } from "./run-kiln.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-packages-sandbox-"));
after(() => rmSync(root, { recursive: true, force: true }));

const pkg = (name: string, synopsis = "Sandboxed thing") =>
  `export const ${name.replace(/-/g, "_")} = { name: "${name}", version: "1.0", buildSystem: "trivial", arguments: { builder: "mkdir $out" }, synopsis: "${synopsis}", description: "Thing.", license: { name: "CC0-1.0", uri: "https://creativecommons.org/publicdomain/zero/1.0/" }, homePage: "https://example.org" };\n`;
const modules: Record<string, string> = {
  "good.ts": pkg("good-thing"),
  "passwd.ts": `import { readFileSync } from "node:fs";\nexport const users = readFileSync("/etc/passwd", "utf8");\n${pkg("passwd-thing")}`,
  "loop.ts": `while (true) {}\n${pkg("loop-thing")}`,
  "other.ts": pkg("other-thing", "a sandboxed thing."),
};
const channel = join(root, "hostile");
mkdirSync(join(channel, "modules"), { recursive: true });
for (const [file, text] of Object.entries(modules))
  writeFileSync(join(channel, "modules", file), text);
writeFileSync(
  join(channel, "channel.json"),
  JSON.stringify({ name: "hostile", modules: Object.keys(modules).map((f) => `modules/${f}`) }),
);
const flags = ["--channel", channel, "--evaluation-timeout", "1"];

function assertBadModulesNamed(stderr: string) {
  assert.match(stderr, /^error: modules\/passwd\.ts: .*(ERR_ACCESS_DENIED|restricted)/m);
  assert.match(stderr, /^error: modules\/loop\.ts: took longer than 1000 ms$/m);
}

test("kiln search lists the good modules' packages and names the bad modules", () => {
  const found = runKiln(["search", ...flags, "thing"]);
  assert.equal(found.status, 0, found.stderr);
  assert.deepEqual([...found.stdout.matchAll(/^name: (.*)$/gm)].map((m) => m[1]).sort(), [
    "good-thing",
    "other-thing",
  ]);
  assert.match(found.stdout, /^location: modules\/good\.ts$/m);
  assertBadModulesNamed(found.stderr);
  const shown = runKiln(["show", ...flags, "other-thing"]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^name: other-thing\nversion: 1\.0\n/);
});

test("kiln lint checks the good modules, names the bad ones and exits 1", () => {
  const linted = runKiln(["lint", ...flags]);
  assert.equal(linted.status, 1);
  assert.equal(
    linted.stdout,
    [
      "modules/other.ts: other-thing@1.0: synopsis should start with an upper-case letter or digit [synopsis]",
      "modules/other.ts: other-thing@1.0: no period allowed at the end of the synopsis [synopsis]",
      "modules/other.ts: other-thing@1.0: no article allowed at the beginning of the synopsis [synopsis]",
      "",
    ].join("\n"),
  );
  assertBadModulesNamed(linted.stderr);
  assert.match(linted.stderr, /2 modules failed to evaluate/);
  const json = runKiln(["lint", ...flags, "--json", "-c", "duplicates,synopsis", "other-thing"]);
  assert.equal(json.status, 1);
  assert.deepEqual(
    JSON.parse(json.stdout).map((w: { checker: string; package: string }) => w.package),
    ["other-thing", "other-thing", "other-thing"],
  );
});
