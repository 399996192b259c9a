/**
 * `kiln show`, `kiln search`, `kiln bootstrap import`, and building package names through
 * resolveBuildTargets, run as a user would (registering the commands when program.ts does
 * not yet).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { bootstrapFor, resolveBuildTargets } from "@kiln/packages";
import { LocalStore } from "@kiln/store/local-store";

const RUNNER = `
const src = ${JSON.stringify(new URL("../src/", import.meta.url).pathname)};
const { createProgram } = await import(src + "program.ts");
const { reportError } = await import(src + "report-error.ts");
const program = await createProgram(process.env);
for (const [name, file, register] of [["show", "packages.ts", "registerPackageCommands"], ["bootstrap", "bootstrap.ts", "registerBootstrapCommand"]]) {
  if (program.commands.some((c) => c.name() === name)) continue;
  (await import(src + "commands/" + file))[register](program);
}
for (const c of program.commands) c.exitOverride();
try {
  await program.parseAsync(process.argv.slice(1), { from: "user" });
} catch (error) {
  process.exitCode = error?.code?.startsWith?.("commander.") ? (error.exitCode === 0 ? 0 : 2) : reportError(error, process.stderr);
}
`;

const root = mkdtempSync(join(tmpdir(), "kiln-packages-cli-"));
after(() => rmSync(root, { recursive: true, force: true }));
const storeFlags = [
  "--store-dir",
  "/gnu/store",
  "--real-store-dir",
  join(root, "store"),
  "--state-dir",
  join(root, "state"),
];

function kiln(args: string[]) {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", RUNNER, "--", ...args], {
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("kiln show prints a recutils record; an unknown package fails with its name", () => {
  const shown = kiln(["show", "hello"]);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(
    shown.stdout,
    /^name: hello\nversion: 2\.12\noutputs:\n\+ out: everything else\n\+ doc: documentation\n/,
  );
  assert.match(shown.stdout, /\ndependencies: greeting-data@1\.0\n/);
  assert.match(shown.stdout, /\nlocation: modules\/base\.ts\n/);
  assert.match(shown.stdout, /\nlicense: GPL-3\.0-or-later\n/);
  assert.match(kiln(["show", "hello@2.10"]).stdout, /^name: hello\nversion: 2\.10\n/);
  const unknown = kiln(["show", "no-such-package"]);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown package "no-such-package"/);
});

test("kiln search ranks name matches above description matches and needs every regexp", () => {
  const found = kiln(["search", "csv"]);
  assert.equal(found.status, 0, found.stderr);
  const names = [...found.stdout.matchAll(/^name: (.*)$/gm)].map((match) => match[1]);
  assert.deepEqual(names.slice(0, 2).sort(), ["csv-report", "csv-tools"]);
  const relevances = [...found.stdout.matchAll(/^relevance: (\d+)$/gm)].map((match) =>
    Number(match[1]),
  );
  assert.deepEqual(
    relevances,
    [...relevances].sort((a, b) => b - a),
  );
  const both = kiln(["search", "csv", "sum"]);
  assert.deepEqual([...both.stdout.matchAll(/^name: (.*)$/gm)].map((match) => match[1]).sort(), [
    "csv-report",
    "csv-tools",
  ]);
  const none = kiln(["search", "zzzz-nothing"]);
  assert.equal(none.status, 3, "not found");
  assert.match(none.stderr, /no package matches zzzz-nothing/);
});

test("kiln lint: the sample channel is clean; a bad package file warns, in text and JSON", () => {
  const clean = kiln(["lint"]);
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(clean.stdout, "");
  const channel = join(root, "bad-channel");
  mkdirSync(join(channel, "modules"), { recursive: true });
  writeFileSync(
    join(channel, "channel.json"),
    JSON.stringify({ name: "bad", modules: ["modules/bad.ts"] }),
  );
  writeFileSync(
    join(channel, "modules", "bad.ts"),
    'export const bad = { name: "Bad", version: "v1", buildSystem: "trivial", arguments: { builder: "true" }, synopsis: "a thing.", description: "Fine.", license: [], homePage: "https://example.org" };\n',
  );
  const text = kiln(["lint", "--channel", channel]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    /^modules\/bad\.ts: Bad@v1: synopsis should start with an upper-case letter or digit \[synopsis\]$/m,
  );
  const json = JSON.parse(
    kiln(["lint", "--channel", channel, "--json", "-c", "version,license"]).stdout,
  );
  assert.deepEqual(
    json.map((warning: { checker: string }) => warning.checker),
    ["version", "license"],
  );
  assert.equal(json[0].location, "modules/bad.ts");
  assert.match(kiln(["lint", "-l"]).stdout, /^synopsis: /m);
});

test("kiln bootstrap import puts the pinned busybox in the store; a wrong one is refused", () => {
  const bad = join(root, "fake-busybox");
  writeFileSync(bad, "not busybox");
  const refused = kiln([...storeFlags, "bootstrap", "import", "--busybox", bad]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /pinned hash is 3d9f2889/);
  const imported = kiln([...storeFlags, "bootstrap", "import"]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.equal(imported.stdout.trim(), bootstrapFor("/gnu/store").busybox);
});

test("resolveBuildTargets lowers package names and -f files into the store", async () => {
  const storeDir = "/gnu/store";
  const scratch = mkdtempSync(join(root, "targets-"));
  const store = LocalStore.open({
    storeDir,
    realStoreDir: join(scratch, "store"),
    stateDir: join(scratch, "state"),
  });
  try {
    const channelDir = new URL("../../../channels/sample", import.meta.url).pathname;
    const options = { store, channelDir, system: "x86_64-linux" };
    await assert.rejects(
      resolveBuildTargets(["hello"], options),
      (error: Error & { hint?: string }) => {
        assert.match(error.message, /bootstrap seeds are not in the store/);
        assert.equal(error.hint, "run: kiln bootstrap import");
        return true;
      },
    );
    const { importBootstrapSeeds } = await import("@kiln/packages");
    await importBootstrapSeeds(store);
    const [hello, old] = await resolveBuildTargets(["hello", "hello@2.10"], options);
    assert.match(hello!, /-hello-2\.12\.drv$/);
    assert.match(old!, /-hello-2\.10\.drv$/);
    assert.ok(store.isValidPath(hello!) && store.isValidPath(old!));
    const file = join(scratch, "mine.ts");
    writeFileSync(
      file,
      `import { hello } from ${JSON.stringify(`${channelDir}/modules/base.ts`)};\nexport const mine = { ...hello, name: "mine" };\nexport const other = { ...hello, name: "other" };\n`,
    );
    const [mine] = await resolveBuildTargets([], { ...options, file, attribute: "mine" });
    assert.match(mine!, /-mine-2\.12\.drv$/);
    await assert.rejects(resolveBuildTargets([], { ...options, file }), /choose one with -A NAME/);
  } finally {
    store.close();
  }
});
