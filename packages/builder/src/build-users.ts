/**
 * The pool of build users: the command that creates it (as in Guix's manual) and the
 * reading of it from /etc/group and /etc/passwd. When Kiln runs as root, each
 * concurrent build runs under its own uid from this pool, so builds cannot interfere
 * with each other.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BuilderError } from "./builder-error.ts";

export interface BuildUser {
  name: string;
  uid: number;
  /** The build-users group's gid, which builds run with. */
  gid: number;
}

export interface BuildUsersCommandOptions {
  /** Default `kilnbuild`. */
  group?: string;
  /** Default 10. */
  count?: number;
  /** Default `kilnbuilder`; users are `kilnbuilder1` … `kilnbuilderN`. */
  prefix?: string;
}

// Names go into a shell command, so they are held to what useradd accepts anyway.
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,30}$/;

/**
 * The shell command (run as root) that creates the build-users group and `count` users
 * in it, with no shell and no home.
 *
 * @example
 * createBuildUsersCommand({ count: 4 })
 * // groupadd --system kilnbuild
 * // for i in $(seq 1 4); do useradd -g kilnbuild -G kilnbuild …
 */
export function createBuildUsersCommand(options: BuildUsersCommandOptions = {}): string {
  const { group = "kilnbuild", count = 10, prefix = "kilnbuilder" } = options;
  for (const [what, name] of [
    ["group", group],
    ["prefix", prefix],
  ]) {
    if (!ACCOUNT_NAME.test(name)) {
      throw new BuilderError(
        "ERR_BAD_ACCOUNT_NAME",
        `build users ${what} "${name}" is not a valid name`,
      );
    }
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new BuilderError("ERR_BAD_BUILD_USERS_COUNT", `cannot create ${count} build users`, {
      hint: "use a whole number between 1 and 1000",
    });
  }
  return [
    `groupadd --system ${group}`,
    `for i in $(seq 1 ${count}); do`,
    `  useradd -g ${group} -G ${group} -d /var/empty -M -s "$(command -v nologin)" \\`,
    `    -c "Kiln build user $i" --system "${prefix}$i"`,
    "done",
    "",
  ].join("\n");
}

/**
 * Finds the build users in the text of /etc/group and /etc/passwd: the members listed on
 * the group's line (as `useradd -G` records them), in that order, each with the group's
 * gid. Throws when the group is missing or empty, when a member has no passwd entry, or
 * when root is a member.
 */
export function parseBuildUsers(groupText: string, passwdText: string, group: string): BuildUser[] {
  const hint = `create them (as root) with:\n${createBuildUsersCommand({ group })}`;
  const groupLine = lines(groupText).find((fields) => fields[0] === group);
  if (groupLine === undefined) {
    throw new BuilderError(
      "ERR_NO_BUILD_USERS",
      `the build users group "${group}" does not exist`,
      {
        hint,
      },
    );
  }
  const gid = Number(groupLine[2]);
  const members = (groupLine[3] ?? "").split(",").filter((name) => name !== "");
  if (members.length === 0) {
    throw new BuilderError(
      "ERR_NO_BUILD_USERS",
      `the build users group "${group}" has no members`,
      {
        hint,
      },
    );
  }
  const passwd = new Map(lines(passwdText).map((fields) => [fields[0], fields]));
  return members.map((name) => {
    const entry = passwd.get(name);
    if (entry === undefined) {
      throw new BuilderError(
        "ERR_NO_BUILD_USERS",
        `user "${name}" of the build users group "${group}" does not exist`,
      );
    }
    const uid = Number(entry[2]);
    if (uid === 0) {
      throw new BuilderError("ERR_NO_BUILD_USERS", `root must not be a member of "${group}"`);
    }
    return { name, uid, gid };
  });
}

/** Reads the build users of `group` from `<etcDir>/group` and `<etcDir>/passwd` (default /etc). */
export function readBuildUsers(group: string, options: { etcDir?: string } = {}): BuildUser[] {
  const etcDir = options.etcDir ?? "/etc";
  return parseBuildUsers(
    readFileSync(join(etcDir, "group"), "utf8"),
    readFileSync(join(etcDir, "passwd"), "utf8"),
    group,
  );
}

function lines(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}
