/**
 * Phase lists of the phased (gnu) build system, and Guix's `modify-phases` over them as a
 * pure function: add a phase before or after another, replace a phase's body, remove one.
 */

import type { PhaseEdit } from "./package.ts";
import { PackageError } from "./package-error.ts";

export interface Phase {
  readonly name: string;
  /** Shell code run in the source directory, with `set -e` in force. */
  readonly body: string;
}

/**
 * Applies `edits` to `phases` in order; an edit naming a missing phase throws, so a typo
 * does not silently build the package the old way.
 * @example modifyPhases(standardPhases, [{ remove: "configure" }])
 */
export function modifyPhases(
  phases: readonly Phase[],
  edits: readonly PhaseEdit[],
): readonly Phase[] {
  const result = [...phases];
  const indexOf = (name: string) => {
    const index = result.findIndex((phase) => phase.name === name);
    if (index < 0)
      throw new PackageError(`no phase named ${JSON.stringify(name)} to modify`, {
        hint: `phases are: ${result.map((phase) => phase.name).join(", ")}`,
      });
    return index;
  };
  for (const edit of edits) {
    if ("remove" in edit) {
      result.splice(indexOf(edit.remove), 1);
    } else if ("replace" in edit) {
      result[indexOf(edit.replace)] = { name: edit.replace, body: edit.body };
    } else {
      if (result.some((phase) => phase.name === edit.add))
        throw new PackageError(`phase ${JSON.stringify(edit.add)} already exists`);
      const index = "after" in edit ? indexOf(edit.after) + 1 : indexOf(edit.before);
      result.splice(index, 0, { name: edit.add, body: edit.body });
    }
  }
  return result;
}
