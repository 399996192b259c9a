// Flushing lives in the store (everything entering it is flushed); kept under its old name.
export { flushTree as syncTree } from "@kiln/store/flush-tree";
