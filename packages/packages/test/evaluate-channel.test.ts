/**
 * Evaluation isolation: modules that read /etc/passwd, open a socket, loop forever or
 * allocate without bound fail with an error naming them, and the other modules still
 * evaluate. Uses a real child process (and bubblewrap for the network, when installed).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { evaluateChannel } from "@kiln/packages";
import { hasCommand } from "@kiln/testkit";

const root = mkdtempSync(join(tmpdir(), "kiln-evaluate-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

const pkg = (name: string) =>
  `export const p = { name: "${name}", version: "1.0", buildSystem: "trivial", arguments: { builder: "mkdir $out" }, synopsis: "S", description: "D.", license: { name: "CC0-1.0", uri: "https://creativecommons.org/publicdomain/zero/1.0/" } };\n`;

function channel(name: string, modules: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "modules"), { recursive: true });
  for (const [file, text] of Object.entries(modules))
    writeFileSync(join(dir, "modules", file), text);
  writeFileSync(
    join(dir, "channel.json"),
    JSON.stringify({ name, modules: Object.keys(modules).map((file) => `modules/${file}`) }),
  );
  return dir;
}

test("forbidden reads, endless loops and unbounded allocation fail their module only", async () => {
  const dir = channel("hostile", {
    "first.ts": pkg("first"),
    "passwd.ts": `import { readFileSync } from "node:fs";\nexport const text = readFileSync("/etc/passwd", "utf8");\n${pkg("passwd")}`,
    "loop.ts": `while (true) {}\n${pkg("loop")}`,
    "alloc.ts": `const hoard = [];\nwhile (true) hoard.push(new Array(1e6).fill(Math.random()));\n${pkg("alloc")}`,
    "throws.ts": `throw new Error("broken module");\n`,
    "last.ts": pkg("last"),
  });
  const { packages, errors } = await evaluateChannel(dir, {
    system: "x86_64-linux",
    moduleTimeoutMs: 2000,
    maxMemoryMb: 64,
  });
  assert.deepEqual(
    packages.map((p) => p.name),
    ["first", "last"],
  );
  assert.match(packages[0]!.drvPath!, /^\/gnu\/store\/[0-9a-z]{32}-first-1\.0\.drv$/);
  const byModule = Object.fromEntries(errors.map((error) => [error.module, error.message]));
  assert.deepEqual(Object.keys(byModule).sort(), [
    "modules/alloc.ts",
    "modules/loop.ts",
    "modules/passwd.ts",
    "modules/throws.ts",
  ]);
  assert.match(byModule["modules/passwd.ts"]!, /ERR_ACCESS_DENIED|restricted/);
  assert.match(byModule["modules/loop.ts"]!, /took longer than 2000 ms/);
  assert.match(byModule["modules/alloc.ts"]!, /ran out of memory|took longer/);
  assert.match(byModule["modules/throws.ts"]!, /broken module/);
});

test("a module cannot open a socket (own network namespace)", {
  skip: !hasCommand("bwrap") && "bubblewrap is not installed",
}, async () => {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    const dir = channel("network", {
      "socket.ts": `import { connect } from "node:net";\nawait new Promise((resolve, reject) => connect(${port}, "127.0.0.1").on("connect", resolve).on("error", reject));\n${pkg("socket")}`,
      "after.ts": pkg("after"),
    });
    const { packages, errors } = await evaluateChannel(dir, {
      system: "x86_64-linux",
      moduleTimeoutMs: 3000,
    });
    assert.deepEqual(
      packages.map((p) => p.name),
      ["after"],
    );
    assert.equal(errors[0]?.module, "modules/socket.ts");
    assert.match(errors[0]!.message, /ECONNREFUSED|ENETUNREACH/);
  } finally {
    server.close();
  }
});
