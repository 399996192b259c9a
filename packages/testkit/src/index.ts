export { type GitRepository, makeGitRepository } from "./git-repository.ts";
export { nixCopyArgs } from "./nix-copy-args.ts";
export { realiseWithNix } from "./nix-realise.ts";
export { createPrivateNixStore, type PrivateNixStore } from "./nix-store.ts";
export { hasCommand, requirePeer } from "./real-peer.ts";
export { type StaticServer, serveStaticDirectory } from "./static-server.ts";
