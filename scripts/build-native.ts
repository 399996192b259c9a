/**
 * Builds Kiln's one native part, the NAR walker (packages/formats/native/nar-walk.c),
 * with the system C compiler against the headers of the Node that runs this script.
 * `npm ci` runs it (postinstall); run it again after changing the C source:
 *
 *   node scripts/build-native.ts
 *
 * Nothing depends on it being built: without it, NAR hashing runs the JavaScript walker
 * (slower, same results). So a machine without a compiler gets a warning, not a failure,
 * unless CI=true or KILN_REQUIRE_NATIVE=1, where a missing build is an error (CI must
 * test what users get).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const nativeDir = join(root, "packages", "formats", "native");
const source = join(nativeDir, "nar-walk.c");
const output = join(nativeDir, "build", "nar-walk.node");
const required = process.env.CI === "true" || process.env.KILN_REQUIRE_NATIVE === "1";

/** Node's own headers: next to the binary in official builds, else the system's. */
function nodeHeaders(): string | undefined {
  const candidates = [
    join(dirname(dirname(process.execPath)), "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
  ];
  return candidates.find((dir) => existsSync(join(dir, "node_api.h")));
}

function giveUp(reason: string): never {
  const message = `kiln: the native NAR walker was not built: ${reason}`;
  if (required) {
    console.error(`${message} (required because CI=true or KILN_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  console.warn(`${message}; NAR hashing will use the JavaScript walker (slower, same results)`);
  process.exit(0);
}

const headers = nodeHeaders();
if (!headers) giveUp("Node's headers (node_api.h) were not found");
const compiler = process.env.CC ?? "cc";
mkdirSync(dirname(output), { recursive: true });
// Compile to a temporary name and rename, so a failed build never leaves a broken addon.
const temporary = `${output}.${process.pid}.tmp`;
const args = [
  "-O2",
  "-std=gnu11",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-shared",
  "-fPIC",
  "-fvisibility=hidden",
  "-I",
  headers,
  source,
  "-o",
  temporary,
  "-lpthread",
];
const result = spawnSync(compiler, args, { stdio: ["ignore", "inherit", "inherit"] });
if (result.error || result.status !== 0) {
  rmSync(temporary, { force: true });
  giveUp(
    result.error
      ? `${compiler}: ${result.error.message}`
      : `${compiler} exited with status ${result.status}`,
  );
}
renameSync(temporary, output);
console.log(`kiln: built ${output.slice(root.length)}`);
