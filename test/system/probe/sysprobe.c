/*
 * sysprobe: tries the system calls podunit's seccomp filter refuses and a few
 * it leaves to capabilities, and prints one line per try: NAME=ok or NAME=ERRNO
 * (the errno's name). Built static, so it runs on the host and in a busybox
 * root alike. Usage: sysprobe PROGRAM  (PROGRAM is forked and executed once,
 * to show that ordinary processes still work).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOSYS: return "ENOSYS";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENOENT: return "ENOENT";
  case EFAULT: return "EFAULT";
  case ENOEXEC: return "ENOEXEC";
  default: return "OTHER";
  }
}

static void report(const char *name, long r) {
  if (r < 0) printf("%s=%s\n", name, errname(errno));
  else printf("%s=ok\n", name);
}

/* Each try runs in a child of its own, so one that succeeds (a new user namespace, tracing) changes nothing for the next. */
#define TRY(name, call)            \
  do {                             \
    fflush(stdout);                \
    pid_t p_ = fork();             \
    if (p_ == 0) {                 \
      report(name, (long)(call));  \
      fflush(stdout);              \
      _exit(0);                    \
    }                              \
    waitpid(p_, 0, 0);             \
  } while (0)

/* A child made with clone(2) and flags; it exits at once. */
static long try_clone(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(pid, 0, 0);
  return pid;
}

/* setns(2) into the namespace at path. */
static long enter(const char *path, int type) {
  int fd = open(path, O_RDONLY);
  return fd < 0 ? fd : setns(fd, type);
}

int main(int argc, char **argv) {
  setvbuf(stdout, 0, _IOLBF, 0);
  TRY("unshare_user", unshare(CLONE_NEWUSER));
  TRY("clone_user", try_clone(CLONE_NEWUSER));
  {
    unsigned long long args[11] = {0};
    args[0] = CLONE_NEWUSER;
    args[4] = SIGCHLD;
    long pid = syscall(435 /* clone3 */, args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(pid, 0, 0);
    report("clone3", pid);
  }
  TRY("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
  TRY("add_key", syscall(SYS_add_key, "user", "podunit-probe", "x", 1, -3));
  TRY("mount", mount("none", "/nonexistent-podunit-probe", "tmpfs", 0, 0));
  TRY("umount", umount2("/nonexistent-podunit-probe", MNT_DETACH));
  TRY("finit_module", syscall(SYS_finit_module, -1, "", 0));
  TRY("init_module", syscall(SYS_init_module, 0, 0, ""));
  TRY("bpf", syscall(SYS_bpf, 0, 0, 0));
  TRY("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
  TRY("userfaultfd", syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */));
  TRY("clock_settime", syscall(SYS_clock_settime, 0, 0));
  TRY("iopl", syscall(SYS_iopl, 3));
  TRY("swapon", syscall(SYS_swapon, "/nonexistent", 0));
  /* Left open by the filter, refused by capabilities: entering or making other namespaces. */
  TRY("setns_init_mnt", enter("/proc/1/ns/mnt", CLONE_NEWNS));
  TRY("setns_self_net", enter("/proc/self/ns/net", CLONE_NEWNET));
  TRY("unshare_net", unshare(CLONE_NEWNET));
  TRY("unshare_mnt", unshare(CLONE_NEWNS));
  /* Ordinary work: fork and exec. */
  if (argc > 1) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(argv[1], argv[1], (char *)0);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("fork_exec=%s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
  }
  printf("probe=done\n");
  return 0;
}
