/**
 * Builders Kiln runs itself rather than in the sandbox, as guix-daemon runs its
 * `builtin:` builders. There are two:
 *
 * - `builtin:git-download` (Guix's `git-fetch/built-in`): a git checkout made with the
 *   host's git, so that packages whose source is a git repository build although no git
 *   is among the bootstrap seeds. It uses the network, so only fixed-output derivations
 *   may use it; their result is pinned by its hash, which registerOutputs checks as for
 *   every fixed output. The derivation's environment is Guix's: `url` (a Scheme string,
 *   as Guix writes it, or a bare URL), `commit`, and optionally `recursive?` (`#t` for
 *   submodules).
 * - `builtin:buildenv` (Nix's): a profile, the union tree of the items in `packages`
 *   (space-separated) plus the file `manifest` (see writeBuildenvTree), as
 *   @kiln/profiles writes its derivation. The daemon builds profiles with it for clients
 *   that cannot write the store; an input-addressed output, registered like any other.
 */
import { chownSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Derivation, isFixedOutputDerivation } from "@kiln/formats/derivation";
import { writeBuildenvTree } from "@kiln/store/buildenv-tree";
import { BuilderError } from "./builder-error.ts";
import { type GitCheckoutRequest, gitCheckout } from "./git-download.ts";
import type { SandboxOptions, SandboxResult, SandboxSpec } from "./sandbox-spec.ts";

/** The builtin builders Kiln has, without `builtin:` (what BuiltinBuilders answers). */
export const BUILTIN_BUILDERS: readonly string[] = ["buildenv", "git-download"];

/** Whether a derivation's builder is a builtin one (run by runBuiltinBuilder). */
export function isBuiltinBuilder(builder: string): boolean {
  return builder.startsWith("builtin:");
}

/**
 * Throws BuilderError unless `drv` can be built by its builtin builder: a builder Kiln
 * has (`ERR_UNSUPPORTED`), a fixed output with a recursive hash and the variables the
 * builder reads (`ERR_BAD_DERIVATION`). Called before anything is locked.
 *
 * @example
 * checkBuiltinDerivation(drvPath, drv); // throws for a builtin:git-download without outputHash
 */
export function checkBuiltinDerivation(drvPath: string, drv: Derivation): void {
  const name = drv.builder.slice("builtin:".length);
  if (!BUILTIN_BUILDERS.includes(name)) {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `${drvPath} needs the builtin builder ${drv.builder}, which is not supported yet`,
      {
        hint: `Kiln's builtin builders: ${BUILTIN_BUILDERS.map((b) => `builtin:${b}`).join(", ")}`,
      },
    );
  }
  if (name === "buildenv") {
    buildenvInputs(drvPath, Object.fromEntries(drv.env), drv.inputSrcs);
    if (drv.outputs.size !== 1 || isFixedOutputDerivation(drv)) {
      throw new BuilderError(
        "ERR_BAD_DERIVATION",
        `${drvPath} uses builtin:buildenv, which builds exactly one input-addressed output, "out"`,
      );
    }
    return;
  }
  if (!isFixedOutputDerivation(drv)) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `${drvPath} uses ${drv.builder} but is not a fixed-output derivation: only a download pinned by its hash may use it`,
    );
  }
  if (!drv.outputs.get("out")?.hashAlgo.startsWith("r:")) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `${drvPath} uses ${drv.builder}, so its output hash must be recursive (r:sha256): a checkout is a directory`,
    );
  }
  gitCheckoutTarget(drvPath, Object.fromEntries(drv.env));
}

/**
 * Runs a builtin builder with the sandbox's contract (runInSandbox's arguments and
 * result), so the build is finished like any fixed-output build: the output is left in
 * the scratch directory, then copied, canonicalised and hash-checked by registerOutputs.
 * git runs as `spec.buildUser` when there is one. A git failure rejects with
 * BuilderError naming it; the log holds git's own output.
 *
 * @example
 * const result = await runBuiltinBuilder(spec, { scratchDir, log });
 * result.outputs.get(spec.env.out); // the checkout, without .git
 */
export async function runBuiltinBuilder(
  spec: SandboxSpec,
  options: SandboxOptions,
): Promise<SandboxResult> {
  const out = spec.env.out;
  if (out === undefined || spec.outputs.length !== 1 || spec.outputs[0] !== out) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `${spec.builder} builds exactly one output, "out"; ${spec.drvName} has ${spec.outputs.length}`,
    );
  }
  if (spec.builder === "builtin:buildenv") return runBuildenv(spec, options, out);
  const target = gitCheckoutTarget(spec.drvName, spec.env);
  mkdirSync(options.scratchDir, { recursive: true, mode: 0o755 });
  // Mode 0700: only the daemon and the build user can reach the checkout while it is made.
  const work = mkdtempSync(join(options.scratchDir, "git-download-"));
  const home = join(work, "home");
  mkdirSync(home);
  const user = spec.buildUser;
  if (user !== undefined) {
    chownSync(work, user.uid, user.gid);
    chownSync(home, user.uid, user.gid);
  }
  const signals = [options.signal];
  if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0)
    signals.push(AbortSignal.timeout(options.timeoutSeconds * 1000));
  const live = signals.filter((signal) => signal !== undefined);
  const signal = live.length === 0 ? undefined : AbortSignal.any(live);
  const proxies: Record<string, string> = {};
  for (const name of ["http_proxy", "https_proxy"]) {
    const value = spec.env[name];
    if (value !== undefined && value !== "") proxies[name] = value;
  }
  const directory = join(work, "checkout");
  const result = await gitCheckout(
    { ...target, directory, home },
    {
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(signal === undefined ? {} : { signal }),
      ...(user === undefined ? {} : { user }),
      env: proxies,
    },
  );
  const aborted = options.signal?.aborted === true;
  return {
    exitCode: result.aborted ? null : 0,
    signal: result.aborted ? "SIGKILL" : null,
    timedOut: result.aborted && !aborted,
    silentTimedOut: false,
    aborted,
    outputs: result.aborted ? new Map() : new Map([[out, directory]]),
    warnings: [],
  };
}

/**
 * builtin:buildenv: the union is written in the scratch directory (by the daemon, which
 * reads the inputs at their real paths), then registered like any output. A collision
 * rejects with BuilderError naming both items, and is written to the log.
 */
function runBuildenv(spec: SandboxSpec, options: SandboxOptions, out: string): SandboxResult {
  const realPaths = new Map(spec.inputs.map((input) => [input.path, input.realPath]));
  const { manifest, packages } = buildenvInputs(spec.drvName, spec.env, [...realPaths.keys()]);
  mkdirSync(options.scratchDir, { recursive: true, mode: 0o755 });
  const directory = join(mkdtempSync(join(options.scratchDir, "buildenv-")), "out");
  try {
    writeBuildenvTree(
      directory,
      packages.map((path) => ({ path, realPath: realPaths.get(path)! })),
      {
        manifest: readFileSync(realPaths.get(manifest)!),
        error: (_problem, message, hint) =>
          new BuilderError("ERR_BUILD_FAILED", message, hint === undefined ? {} : { hint }),
      },
    );
  } catch (error) {
    const log = options.log;
    const line = new TextEncoder().encode(`builtin:buildenv: ${(error as Error).message}\n`);
    if (typeof log === "function") log(line);
    else log?.write(line);
    throw error;
  }
  return {
    exitCode: 0,
    signal: null,
    timedOut: false,
    silentTimedOut: false,
    aborted: false,
    outputs: new Map([[out, directory]]),
    warnings: [],
  };
}

/** The manifest and the items of a builtin:buildenv, each of which must be an input. */
function buildenvInputs(
  what: string,
  env: Readonly<Record<string, string | undefined>>,
  inputs: readonly string[],
): { manifest: string; packages: string[] } {
  const manifest = env.manifest ?? "";
  const packages = (env.packages ?? "").split(" ").filter(Boolean);
  if (manifest === "")
    throw new BuilderError("ERR_BAD_DERIVATION", `${what}: builtin:buildenv needs a manifest`);
  for (const path of [manifest, ...packages]) {
    if (!inputs.includes(path))
      throw new BuilderError(
        "ERR_BAD_DERIVATION",
        `${what}: builtin:buildenv uses ${path}, which is not among its inputs`,
      );
  }
  return { manifest, packages };
}

type GitCheckoutTarget = Pick<GitCheckoutRequest, "url" | "commit" | "recursive">;

/** What builtin:git-download fetches, read from the derivation's environment. */
function gitCheckoutTarget(
  what: string,
  env: Readonly<Record<string, string | undefined>>,
): GitCheckoutTarget {
  const bad = (message: string) =>
    new BuilderError("ERR_BAD_DERIVATION", `${what}: builtin:git-download ${message}`);
  if (env.url === undefined || env.url === "") throw bad("needs the variable url");
  const url = env.url.startsWith('"') ? readSchemeString(env.url, bad) : env.url;
  const commit = env.commit ?? "";
  // Both end up on git's command line: neither may pass for an option.
  if (url === "" || url.startsWith("-")) throw bad(`has an invalid url ${JSON.stringify(url)}`);
  if (!/^[0-9A-Za-z][0-9A-Za-z._/+-]*$/.test(commit))
    throw bad(`needs a commit (the variable commit), not ${JSON.stringify(commit)}`);
  const flag = env["recursive?"] ?? "#f";
  if (!["#t", "#true", "#f", "#false", ""].includes(flag))
    throw bad(`reads recursive? as #t or #f, not ${JSON.stringify(flag)}`);
  return { url, commit, recursive: flag === "#t" || flag === "#true" };
}

/** A Scheme string literal as Guix's `object->string` writes it, e.g. `"https://…"`. */
function readSchemeString(text: string, bad: (message: string) => BuilderError): string {
  const escapes: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r" };
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (i !== text.length - 1) break;
      return value;
    }
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = text[++i] ?? "";
    if (next === "x") {
      const end = text.indexOf(";", i);
      const code = Number.parseInt(text.slice(i + 1, end), 16);
      if (end === -1 || Number.isNaN(code)) break;
      value += String.fromCodePoint(code);
      i = end;
    } else if (next in escapes) value += escapes[next];
    else break;
  }
  throw bad(`cannot read the url ${text} as a string`);
}
