/**
 * Works around an npm 11 bug seen with npm 11.19 on these machines: `npm install` leaves
 * the optional platform packages of a dependency (e.g. @biomejs/cli-darwin-arm64) out of
 * package-lock.json, and `npm ci` then refuses the lock as out of sync. This adds the
 * missing entries (version, and integrity and os/cpu from the registry when it has them —
 * the mirror here does not carry other platforms' packages, so os/cpu then come from the
 * package name, as in `@biomejs/cli-darwin-arm64`). Run it after any
 * `npm install` that changes dependencies: `npm run lockfile:complete`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

function registryMetadata(
  name: string,
  version: string,
): (Record<string, unknown> & { dist?: { integrity?: string } }) | undefined {
  try {
    return JSON.parse(
      execFileSync("npm", ["view", `${name}@${version}`, "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    );
  } catch {
    return undefined;
  }
}

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8")) as { packages: Record<string, LockEntry> };
const packages = lock.packages;
let added = 0;
for (const entry of Object.values({ ...packages })) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const fresh: LockEntry = { version };
    if (entry.dev) fresh.dev = true;
    fresh.optional = true;
    const meta = registryMetadata(name, version);
    if (meta?.dist?.integrity) fresh.integrity = meta.dist.integrity;
    for (const field of ["cpu", "os", "libc", "license", "engines"])
      if (meta?.[field] !== undefined) fresh[field] = meta[field];
    if (!meta) {
      const platform =
        /-(android|darwin|linux|win32|freebsd|openbsd|sunos|aix)-(arm64|x64|ia32|arm|ppc64|s390x)(-musl)?$/.exec(
          name,
        );
      if (!platform) {
        console.warn(`complete-lockfile: cannot place ${name}@${version}; left out`);
        continue;
      }
      fresh.cpu = [platform[2]];
      fresh.os = [platform[1]];
      if (platform[3]) fresh.libc = ["musl"];
    }
    packages[key] = fresh;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
