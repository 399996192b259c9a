/**
 * The current channels as `kiln show`, `search` and `lint` see them: every channel
 * evaluated in the sandbox (evaluateChannel), one after the other, as one collection. A
 * module that fails is an error naming it (`CHANNEL:MODULE` when there are several
 * channels, as locations are); the other modules' packages are still there.
 */
import {
  type EvaluatedPackage,
  type EvaluateOptions,
  type EvaluationError,
  evaluateChannel,
} from "./evaluate-channel.ts";

export interface EvaluatedCollection {
  /** Every channel's packages, channel after channel; `location` is the module. */
  readonly packages: readonly EvaluatedPackage[];
  readonly errors: readonly EvaluationError[];
}

/**
 * @example const { packages, errors } = await evaluateChannels(["channels/sample"], { lint: ["synopsis"] })
 */
export async function evaluateChannels(
  dirs: readonly string[],
  options: EvaluateOptions,
): Promise<EvaluatedCollection> {
  const packages: EvaluatedPackage[] = [];
  const errors: EvaluationError[] = [];
  for (const dir of dirs) {
    const channel = await evaluateChannel(dir, options);
    const where = (module: string) => (dirs.length > 1 ? `${channel.name}:${module}` : module);
    for (const pkg of channel.packages) packages.push({ ...pkg, location: where(pkg.module) });
    for (const error of channel.errors)
      errors.push({ module: where(error.module), message: error.message });
  }
  return { packages, errors };
}
