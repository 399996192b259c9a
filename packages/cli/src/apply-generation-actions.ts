/**
 * The generation options that `kiln package` and `kiln pull` share, as `guix package`
 * and `guix pull` run them: `--roll-back`, then `--switch-generation`, then
 * `--delete-generations`, each reported as it is done.
 */
import type { GenerationMaker } from "@kiln/profiles/build-generation";

export interface GenerationActions {
  readonly rollBack?: boolean;
  /** `N`, `+N` or `-N`. */
  readonly switchGeneration?: string;
  /** A pattern; `true` (given without one) deletes all but the current generation. */
  readonly deleteGenerations?: string | true;
}

export interface GenerationActionsContext {
  readonly profile: string;
  /** Prints a line of the command's output (stdout). */
  readonly out: (line: string) => void;
  /** Prints a line of information (stderr). */
  readonly info: (line: string) => void;
}

/**
 * Runs the generation actions asked for; call it under the profile's lock.
 *
 * @example
 * await profiles.withProfileLock(profile, () =>
 *   applyGenerationActions(maker, options, { profile, out, info }),
 * );
 */
export async function applyGenerationActions(
  /** Makes generation 0 when a roll-back needs it (a local store's, or the daemon's). */
  maker: GenerationMaker,
  actions: GenerationActions,
  context: GenerationActionsContext,
): Promise<void> {
  // Loaded on demand, as the commands load their libraries (it is in the cache by now).
  const profiles = await import("@kiln/profiles");
  const { profile, out, info } = context;
  const change = ({ from, to }: { from: number; to: number }) =>
    from === 0 && to === 0
      ? info("nothing to do: already at the empty profile")
      : out(`switched from generation ${from} to ${to}`);
  if (actions.rollBack) change(await profiles.rollBackWith(maker, profile));
  if (actions.switchGeneration !== undefined) {
    change(profiles.switchGeneration(profile, actions.switchGeneration));
  }
  if (actions.deleteGenerations !== undefined) {
    const pattern = actions.deleteGenerations === true ? "" : actions.deleteGenerations;
    const result = profiles.deleteGenerations(profile, pattern, {
      onWarning: (warning) => info(`warning: ${warning}`),
    });
    for (const link of result.deleted) out(`deleting ${link}`);
  }
}
