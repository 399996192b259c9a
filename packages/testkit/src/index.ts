export { createPrivateNixStore, type PrivateNixStore } from "./nix-store.ts";
export { hasCommand, requirePeer } from "./real-peer.ts";
