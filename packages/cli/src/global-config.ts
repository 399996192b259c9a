import type { Command } from "commander";
import { type CliConfig, type GlobalFlags, resolveCliConfig } from "./cli-config.ts";

/**
 * The configuration for a running command: the root program's global flags resolved
 * against the environment that `createProgram` was given (the edge).
 */
export function configOf(command: Command): CliConfig {
  let root = command;
  while (root.parent) root = root.parent;
  const env = (root as Command & { kilnEnv?: Record<string, string | undefined> }).kilnEnv ?? {};
  return resolveCliConfig(root.opts<GlobalFlags>(), env);
}
