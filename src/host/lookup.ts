/** The real HostLookup: what preflight asks of the file system before anything is started. */
import { accessSync, constants, readlinkSync, statSync } from "node:fs";
import type { HostLookup } from "./ports.ts";

export const hostLookup: HostLookup = {
  isExecutableFile(path) {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  readLink(path) {
    try {
      return readlinkSync(path);
    } catch {
      return undefined;
    }
  },
  isHostRoot(path) {
    try {
      const [a, b] = [statSync(path), statSync("/")];
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  },
};
