/**
 * Lowering a package to derivations, as Guix's `package->derivation`: pure (the same
 * package gives the same `.drv` paths on any machine: no host paths, no clock, no
 * environment) and hermetic (the derivation's only inputs are store items: the bootstrap
 * seeds, the sources and the inputs' outputs).
 */
import { gnuBuilderScript } from "./gnu-build-system.ts";
import { lowerOrigin } from "./lower-origin.ts";
import {
  createLoweringContext,
  type LoweredPackage,
  type LoweringContext,
  type LowerOptions,
} from "./lowering-context.ts";
import { type Input, type Package, packageFullName } from "./package.ts";
import { PackageError } from "./package-error.ts";
import { writeDerivation } from "./write-derivation.ts";

/**
 * The inputs a build of `pkg` sees, in order, without duplicates: its inputs, native
 * inputs and propagated inputs, each followed by what it propagates (transitively).
 */
export function buildInputClosure(pkg: Package): readonly (readonly [Package, string])[] {
  const visiting = new Set<Package>();
  const result: (readonly [Package, string])[] = [];
  const visit = (input: Input) => {
    const [dependency, output] = Array.isArray(input)
      ? (input as readonly [Package, string])
      : [input as Package, "out"];
    if (result.some(([p, o]) => p === dependency && o === output)) return;
    if (visiting.has(dependency))
      throw new PackageError(`${packageFullName(dependency)} propagates itself`);
    result.push([dependency, output]);
    visiting.add(dependency);
    for (const propagated of dependency.propagatedInputs ?? []) visit(propagated);
    visiting.delete(dependency);
  };
  for (const input of [
    ...(pkg.inputs ?? []),
    ...(pkg.nativeInputs ?? []),
    ...(pkg.propagatedInputs ?? []),
  ])
    visit(input);
  return result;
}

/** Sets PATH to the seed's applets after the inputs' `bin` directories; then builds in `$NIX_BUILD_TOP/build`. */
const PROLOGUE = [
  "set -e",
  'seedbin="$NIX_BUILD_TOP/.seed-bin"',
  '"$builder" mkdir -p "$seedbin"',
  '"$builder" --install -s "$seedbin"',
  'PATH="$seedbin"',
  // find_input NAME [OUTPUT]: the store path of an input, as Guix's (assoc-ref inputs NAME).
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
  'find_input () { for e in $inputMap; do case "$e" in "$1:${2:-out}:"*) echo "${e#*:*:}"; return 0 ;; esac; done; echo "no input $1" >&2; return 1; }',
  'for i in $buildInputs; do if [ -d "$i/bin" ]; then PATH="$i/bin:$PATH"; fi; done',
  "export PATH",
  'mkdir -p "$NIX_BUILD_TOP/build"',
  'cd "$NIX_BUILD_TOP/build"',
].join("\n");

function builderBody(pkg: Package): string {
  if (pkg.buildSystem === "gnu") return gnuBuilderScript(pkg.arguments ?? {});
  const builder = pkg.arguments?.builder;
  if (builder === undefined)
    throw new PackageError(
      `${packageFullName(pkg)}: the trivial build system needs arguments.builder`,
    );
  return `${builder}\n`;
}

async function lowerUncached(pkg: Package, context: LoweringContext): Promise<LoweredPackage> {
  const fullName = packageFullName(pkg);
  if (pkg.supportedSystems && !pkg.supportedSystems.includes(context.system))
    throw new PackageError(`${fullName} is not supported on ${context.system}`, {
      hint: `it supports ${pkg.supportedSystems.join(", ")}`,
    });
  const outputNames = pkg.outputs ?? ["out"];
  if (!outputNames.includes("out"))
    throw new PackageError(`${fullName}: outputs must include "out"`);
  const inputDrvs = new Map<string, string[]>();
  const inputSrcs = [context.bootstrap.busybox];
  const buildInputs: string[] = [];
  const inputMap: string[] = [];
  for (const [dependency, output] of buildInputClosure(pkg)) {
    const lowered = await lowerPackageIn(dependency, context);
    const path = lowered.outputs[output];
    if (path === undefined)
      throw new PackageError(
        `${fullName}: input ${packageFullName(dependency)} has no output ${output}`,
      );
    inputDrvs.set(lowered.drvPath, [...(inputDrvs.get(lowered.drvPath) ?? []), output]);
    buildInputs.push(path);
    inputMap.push(`${dependency.name}:${output}:${path}`);
  }
  const env: Record<string, string> = {
    ...pkg.arguments?.env,
    buildInputs: buildInputs.join(" "),
    inputMap: inputMap.join(" "),
    outputs: outputNames.join(" "),
  };
  const addSource = async (origin: NonNullable<Package["source"]>) => {
    const lowered = await lowerOrigin(origin, fullName, context);
    if (lowered.drvPath) inputDrvs.set(lowered.drvPath, ["out"]);
    else inputSrcs.push(lowered.path);
    return lowered.path;
  };
  if (pkg.source) env.src = await addSource(pkg.source);
  if (pkg.buildSystem === "gnu") {
    const args = pkg.arguments ?? {};
    const patches: string[] = [];
    for (const patch of args.patches ?? []) patches.push(await addSource(patch));
    env.patches = patches.join(" ");
    env.configureFlags = (args.configureFlags ?? []).join(" ");
    env.makeFlags = (args.makeFlags ?? []).join(" ");
    env.doCheck = args.tests === false ? "" : "1";
  }
  // The script goes in the derivation itself (`sh -c`) rather than in a store file of its
  // own: one store write per package instead of two, which is most of the cost of lowering.
  const script = `${PROLOGUE}\n${builderBody(pkg)}`;
  const busybox = `${context.bootstrap.busybox}/bin/busybox`;
  return writeDerivation(
    {
      name: fullName,
      builder: busybox,
      args: ["sh", "-c", script],
      env,
      outputs: outputNames,
      inputDrvs,
      inputSrcs,
    },
    context,
  );
}

function lowerPackageIn(pkg: Package, context: LoweringContext): Promise<LoweredPackage> {
  let lowered = context.packages.get(pkg);
  if (!lowered) {
    lowered = lowerUncached(pkg, context);
    context.packages.set(pkg, lowered);
  }
  return lowered;
}

/**
 * Lowers `pkg` (and, first, everything it depends on) to derivations. With `store`, every
 * `.drv` and source is written to it in dependency order; without, only
 * the paths are computed (`--system` for another machine, `kiln build -d`). Pass one
 * context (createLoweringContext) to lower many packages sharing their dependencies, and
 * `flush` it when done: with a context, texts are written in one batch on `flush`.
 * @example const { drvPath } = await lowerPackage(hello, { system: "x86_64-linux", bootstrap: bootstrapFor("/gnu/store") })
 */
export async function lowerPackage(
  pkg: Package,
  options: LowerOptions | LoweringContext,
): Promise<LoweredPackage> {
  if ("derivations" in options) return lowerPackageIn(pkg, options);
  const context = createLoweringContext(options);
  const lowered = await lowerPackageIn(pkg, context);
  await context.flush();
  return lowered;
}
