/**
 * The registry side of the image store (pull, login, logout), apart from index.ts:
 * the verbs and the pod start that talk to a registry load it with import(), so a
 * command that never does (status, stop, a start whose images are all there) does
 * not evaluate the registry client at all.
 */
export { pull, ensureImages } from "./pull.ts";
export { login, logout } from "./registry/login.ts";
export { RegistryError } from "./registry/errors.ts";
