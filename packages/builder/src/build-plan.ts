/**
 * What `kiln build` has to do, decided without touching anything: from the requested
 * derivations, a way to read derivations and a "what is valid" oracle, the derivations
 * to build in dependency order. Like Nix's queryMissing: a derivation is built when one
 * of the outputs wanted from it is not valid, and only then are its inputs looked at.
 */
import type { Derivation } from "@kiln/formats/derivation";
import { BuilderError } from "./builder-error.ts";

export interface PlanOptions {
  /** Reads a `.drv` from the store; throws when it cannot. */
  readDerivation(drvPath: string): Derivation;
  isValid(path: string): boolean;
  /** `--check`: the requested derivations are rebuilt even though their outputs are valid. */
  check?: boolean;
}

export interface PlannedBuild {
  readonly drvPath: string;
  readonly derivation: Derivation;
  /** The planned builds this one waits for (its input derivations that are built too). */
  readonly dependsOn: readonly string[];
  readonly requested: boolean;
  /** A `--check` rebuild of a derivation whose outputs are valid. */
  readonly check: boolean;
}

export interface BuildPlan {
  /** Dependencies first, in the order Nix prints them for `--dry-run`. */
  readonly builds: readonly PlannedBuild[];
  /** Requested derivations whose outputs are all valid: nothing to do. */
  readonly valid: readonly { readonly drvPath: string; readonly derivation: Derivation }[];
  /** Input sources of derivations to build that are not valid (nothing can build them). */
  readonly missingSources: readonly { readonly path: string; readonly drvPath: string }[];
}

interface Node {
  readonly drv: Derivation;
  requested: boolean;
  check: boolean;
  needsBuild: boolean;
}

/**
 * Plans the builds for `drvPaths` (store paths of `.drv` files).
 *
 * @example
 * const plan = planBuilds([drvPath], {
 *   readDerivation: (p) => parseDerivation(readFileSync(realPath(p))),
 *   isValid: (p) => db.isValidPath(p),
 * });
 * plan.builds.map((build) => build.drvPath); // inputs first, drvPath last
 */
export function planBuilds(drvPaths: readonly string[], options: PlanOptions): BuildPlan {
  const nodes = new Map<string, Node>();
  const missingSources: { path: string; drvPath: string }[] = [];
  const pending: { drvPath: string; wanted: readonly string[] | undefined; by?: string }[] = [];
  for (const drvPath of drvPaths) pending.push({ drvPath, wanted: undefined });
  const requestedSet = new Set(drvPaths);

  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { drvPath, by } = item;
    let node = nodes.get(drvPath);
    if (node === undefined) {
      const drv = options.readDerivation(drvPath);
      const requested = requestedSet.has(drvPath);
      node = { drv, requested, check: requested && options.check === true, needsBuild: false };
      nodes.set(drvPath, node);
    }
    if (node.needsBuild) continue;
    // A requested derivation is wanted whole, even when it is also someone's input.
    const wanted =
      node.requested || item.wanted === undefined ? [...node.drv.outputs.keys()] : item.wanted;
    let missing = node.check;
    for (const name of wanted) {
      const output = node.drv.outputs.get(name);
      if (output === undefined) {
        throw new BuilderError(
          "ERR_BAD_DERIVATION",
          `${by ?? "the request"} wants output "${name}" of ${drvPath}, which has no such output`,
        );
      }
      if (output.path === "") {
        throw new BuilderError(
          "ERR_BAD_DERIVATION",
          `output "${name}" of ${drvPath} has no path; floating content-addressed derivations are not supported`,
        );
      }
      if (!missing && !options.isValid(output.path)) missing = true;
    }
    if (!missing) continue;
    node.needsBuild = true;
    for (const [input, names] of node.drv.inputDrvs) {
      pending.push({ drvPath: input, wanted: [...names], by: drvPath });
    }
    for (const source of node.drv.inputSrcs) {
      if (!options.isValid(source)) missingSources.push({ path: source, drvPath });
    }
  }

  const builds = orderBuilds(nodes).map((drvPath) => {
    const node = nodes.get(drvPath)!;
    const dependsOn = [...node.drv.inputDrvs.keys()].filter((p) => nodes.get(p)?.needsBuild);
    return {
      drvPath,
      derivation: node.drv,
      dependsOn: dependsOn.sort(),
      requested: node.requested,
      check: node.check,
    };
  });
  const valid = [...new Set(drvPaths)]
    .filter((drvPath) => !nodes.get(drvPath)!.needsBuild)
    .map((drvPath) => ({ drvPath, derivation: nodes.get(drvPath)!.drv }));
  return { builds, valid, missingSources };
}

/**
 * The derivations to build, each after its inputs. Same order as Nix's dry run:
 * a depth-first walk from each derivation in path order, inputs in path order, listing
 * each after its inputs.
 */
function orderBuilds(nodes: ReadonlyMap<string, Node>): string[] {
  const toBuild = [...nodes.keys()].filter((p) => nodes.get(p)!.needsBuild).sort();
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  for (const root of toBuild) {
    if (state.has(root)) continue;
    // An explicit stack: derivation chains can be thousands deep.
    const stack: { drvPath: string; inputs: string[]; next: number }[] = [];
    const enter = (drvPath: string) => {
      state.set(drvPath, "visiting");
      const inputs = [...nodes.get(drvPath)!.drv.inputDrvs.keys()]
        .filter((p) => nodes.get(p)?.needsBuild)
        .sort();
      stack.push({ drvPath, inputs, next: 0 });
    };
    enter(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next === frame.inputs.length) {
        stack.pop();
        state.set(frame.drvPath, "done");
        order.push(frame.drvPath);
        continue;
      }
      const input = frame.inputs[frame.next++];
      const seen = state.get(input);
      if (seen === "visiting") {
        throw new BuilderError(
          "ERR_BAD_DERIVATION",
          `the derivations form a cycle: ${frame.drvPath} depends on ${input}, which depends on it`,
        );
      }
      if (seen === undefined) enter(input);
    }
  }
  return order;
}
