/**
 * The sandbox's /etc/passwd, /etc/group and /etc/hosts, as guix-daemon writes them:
 * just the build user and nobody, so tools that look up their own uid work, and
 * localhost. Fixed-output builds get the host's /etc/hosts instead.
 */

export interface SandboxEtcFiles {
  passwd: string;
  group: string;
  /** Absent for fixed-output builds, which see the host's. */
  hosts?: string;
}

/** The /etc files for a build running as `uid`:`gid` inside the sandbox. */
export function sandboxEtcFiles(options: {
  uid: number;
  gid: number;
  network: boolean;
}): SandboxEtcFiles {
  const { uid, gid, network } = options;
  return {
    passwd:
      `kilnbuild:x:${uid}:${gid}:Kiln build user:/homeless-shelter:/noshell\n` +
      "nobody:x:65534:65534:Nobody:/:/noshell\n",
    group: `kilnbuild:!:${gid}:\nnogroup:x:65534:\n`,
    ...(network ? {} : { hosts: "127.0.0.1 localhost\n::1 localhost\n" }),
  };
}
