import { userInfo } from "node:os";
import type { Command } from "commander";

export interface Identity {
  readonly user: string;
  readonly home: string;
  /** The environment createProgram was given (the edge). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The user and home directory, from the environment as Guix reads them, else the password
 * file; with the environment, for what else is per-user (XDG directories, git's HOME).
 * @example const { user, home } = whoAmI(command)
 */
export function whoAmI(command: Command): Identity {
  let root = command;
  while (root.parent) root = root.parent;
  const env = (root as Command & { kilnEnv?: Record<string, string | undefined> }).kilnEnv ?? {};
  const info = userInfo();
  return { user: env.USER ?? env.LOGNAME ?? info.username, home: env.HOME ?? info.homedir, env };
}
