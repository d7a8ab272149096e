/** Errnos by name and the one error type of host calls (src/host/errno.ts). */
import { describe, expect, test } from "bun:test";
import { PodunitError } from "../../src/errors.ts";
import { EAGAIN, errnoName, errnoText, EWOULDBLOCK, HostError } from "../../src/host/errno.ts";

describe("errno names", () => {
  test.each([
    [1, "EPERM"],
    [2, "ENOENT"],
    [3, "ESRCH"],
    [4, "EINTR"],
    [6, "ENXIO"],
    [10, "ECHILD"],
    [11, "EAGAIN"],
    [12, "ENOMEM"],
    [13, "EACCES"],
    [16, "EBUSY"],
    [17, "EEXIST"],
    [20, "ENOTDIR"],
    [22, "EINVAL"],
    [28, "ENOSPC"],
    [30, "EROFS"],
    [36, "ENAMETOOLONG"],
    [38, "ENOSYS"],
    [40, "ELOOP"],
  ])("%i is %s", (n, name) => {
    expect(errnoName(n)).toBe(name);
  });

  test("EWOULDBLOCK is EAGAIN on Linux", () => {
    expect(EWOULDBLOCK).toBe(EAGAIN);
    expect(errnoName(EWOULDBLOCK)).toBe("EAGAIN");
  });

  test("an errno podunit does not know keeps its number", () => {
    expect(errnoName(4095)).toBe("errno 4095");
    expect(errnoText(4095)).toBe("errno 4095");
  });

  test("the text a person reads has the name and what it means", () => {
    expect(errnoText(16)).toBe("EBUSY (Device or resource busy)");
  });
});

describe("HostError", () => {
  test("names what failed, on which path, the call and the errno", () => {
    const err = new HostError("unmount", "umount2", 16, { path: "/run/podunit/web/ns/net" });
    expect(err).toBeInstanceOf(PodunitError);
    expect(err.message).toBe("Failed to unmount '/run/podunit/web/ns/net': umount2: EBUSY (Device or resource busy)");
    expect([err.call, err.path, err.errno, err.code]).toEqual(["umount2", "/run/podunit/web/ns/net", 16, "EBUSY"]);
  });

  test("without a path", () => {
    expect(new HostError("set the hostname 'web'", "sethostname", 1).message).toBe(
      "Failed to set the hostname 'web': sethostname: EPERM (Operation not permitted)",
    );
  });
});
