/**
 * `--user`: after the keys are read and the socket is open, the server gives up root
 * for good (supplementary groups, then group, then user; the other order would leave
 * it unable to change its group).
 */
import { spawnSync } from "node:child_process";
import { chownSync } from "node:fs";
import { PublishError } from "./publish-error.ts";

function lookupId(user: string, flag: "-u" | "-g"): number {
  // id(1) asks NSS, so users from LDAP and the like work, not only /etc/passwd.
  const result = spawnSync("id", [flag, "--", user], { encoding: "utf8" });
  const id = Number(result.stdout.trim());
  if (result.status !== 0 || !Number.isInteger(id)) {
    throw new PublishError("USER", `no such user ${JSON.stringify(user)}`);
  }
  return id;
}

/**
 * Switches the process to `user` and its primary group. `writable` directories (the
 * bake cache) are given to that user first, so it can still write them.
 * @example dropPrivileges("guix-publish", { writable: ["/var/cache/kiln/publish"] })
 */
export function dropPrivileges(
  user: string,
  options: { writable?: readonly string[] } = {},
): {
  uid: number;
  gid: number;
} {
  const uid = lookupId(user, "-u");
  const gid = lookupId(user, "-g");
  if (process.getuid?.() !== 0) {
    throw new PublishError("USER", `--user ${user} needs root: this process cannot change user`, {
      hint: "start kiln publish as root, or drop --user",
    });
  }
  for (const dir of options.writable ?? []) chownSync(dir, uid, gid);
  process.setgroups!([gid]);
  process.setgid!(gid);
  process.setuid!(uid);
  return { uid, gid };
}
