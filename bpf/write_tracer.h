/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between the kernel program and user space: the event record, the
 * configuration block and the counter slots. src/WriteTracer/Bpf/ mirrors every
 * struct here field for field, and a unit test compares their layouts.
 */
#ifndef WRITE_TRACER_H
#define WRITE_TRACER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define WT_TASK_COMM_LEN 16
/* Largest --capture-bytes; a power of two so the verifier can bound copies. */
#define WT_MAX_CAPTURE 16384
/* Writes no larger than this are reserved in small size classes (see the program). */
#define WT_SMALL_CAPTURE 128

/*
 * The events ring holds records of more than one kind; each begins with its kind
 * (write_event.kind, process_event.kind), so a reader decodes the first four bytes first.
 */
#define WT_RECORD_WRITE 0 /* struct write_event */
#define WT_RECORD_EXEC 1  /* struct process_event followed by argv (--lifecycle) */
#define WT_RECORD_EXIT 2  /* struct process_event (--lifecycle) */

/* event flags (write_event.flags, process_event.flags) */
#define WT_EVENT_READ_FAILED 0x1 /* bpf_probe_read_user failed: no bytes captured (exec: no argv) */
#define WT_EVENT_HAS_RESULT 0x2  /* captured at syscall exit: `result` holds write(2)'s return */
#define WT_EVENT_CGROUP_ROOT 0x4 /* root_pid holds a cgroup registration id, not a pid (tracked_process.flags) */

/* write_event.syscall: which call of the write family made the event (--syscalls) */
#define WT_SYSCALL_WRITE 0
#define WT_SYSCALL_WRITEV 1
#define WT_SYSCALL_PWRITE64 2
#define WT_SYSCALL_PWRITEV 3
#define WT_SYSCALL_PWRITEV2 4
#define WT_SYSCALL_COUNT 5
/* Largest iovcnt the vector calls accept (IOV_MAX): every iov_len is summed, however many are captured. */
#define WT_IOV_MAX 1024

/* tracked_process.flags */
#define WT_TRACK_UNPRIVILEGED 0x1 /* registered by a non-administrator: untracked at a privilege-gaining exec */
#define WT_TRACK_CGROUP 0x2       /* root_pid is the id of a cgroup registration (tracked_cgroup.registration) */

/* wt_config.resolve_fds: whether and how write_event.file is filled */
#define WT_RESOLVE_FDS_OFF 0
#define WT_RESOLVE_FDS_PROBE 1 /* a helper call per field read: any kernel */
#define WT_RESOLVE_FDS_BTF 2   /* plain loads through BTF-typed pointers: Linux 6.2+ (bpf_rdonly_cast) */

/* wt_file_identity flags */
#define WT_FILE_DELETED 0x1 /* the file has no name left: readlink adds " (deleted)" */
#define WT_FILE_PSEUDO 0x2  /* on a kernel-internal mount (pipefs, sockfs, anon_inodefs): named by kind and inode */

/*
 * What identifies the file behind a write's fd, with --resolve-fds (all zero otherwise,
 * or when the fd was not open). User space resolves a path once per identity, whichever
 * process writes to the file: two fds with the same identity name the same file through
 * the same mount, so readlink shows the same path for both. Another file behind the fd
 * (close and reopen, dup2, an exec that closed it), or a rename, move or deletion of its
 * file, is another identity.
 */
struct wt_file_identity {
	__u64 ino;       /* inode number */
	__u32 path_hash; /* the dentry's name hash (salted with its parent) ^ the mount's id */
	__u16 mode;      /* i_mode: file type (pipe, socket, …) and permissions */
	__u16 flags;     /* WT_FILE_* */
};

/*
 * One call of the write family; followed in the ring buffer by `captured` bytes: its
 * buffer, or for the vector calls its buffers concatenated in order.
 */
struct write_event {
	__u32 kind;         /* WT_RECORD_WRITE */
	__u32 flags;        /* WT_EVENT_* */
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 count;        /* bytes the caller asked to write (the sum of every iov_len) */
	__s64 result;       /* bytes written or -errno, with WT_EVENT_HAS_RESULT */
	__s64 offset;       /* pwrite64, pwritev, pwritev2: the file position (-1: the current one) */
	__u32 pid;          /* TGID */
	__u32 tid;
	__u32 root_pid;     /* the registered process this one descends from (WT_EVENT_CGROUP_ROOT: a cgroup registration) */
	__s32 fd;
	__u32 captured;     /* bytes of data[] that are valid */
	__u16 syscall;      /* WT_SYSCALL_* */
	__u16 iovcnt;       /* writev, pwritev, pwritev2: the number of buffers */
	char comm[WT_TASK_COMM_LEN];
	struct wt_file_identity file;
	__u8 data[];
};

/*
 * --lifecycle: a tracked process's exec or exit, in the events ring so that it is in
 * order with the process's writes. An exec is followed by `captured` bytes of its argv,
 * the NUL-terminated strings as the kernel holds them (capped at --capture-bytes).
 */
struct process_event {
	__u32 kind;         /* WT_RECORD_EXEC or WT_RECORD_EXIT */
	__u32 flags;        /* WT_EVENT_CGROUP_ROOT; exec: WT_EVENT_READ_FAILED */
	__u64 timestamp_ns; /* CLOCK_MONOTONIC */
	__u32 pid;          /* TGID */
	__u32 tid;          /* the thread that exec'd, or the process's last thread to exit */
	__u32 root_pid;     /* as write_event.root_pid */
	__s32 exit_status;  /* exit: the wait(2) status: code << 8, or the signal (| 0x80: core dumped) */
	__u32 captured;     /* exec: bytes of data[] that are valid */
	__u32 argv_size;    /* exec: bytes of the whole argv (more than captured: capped) */
	char comm[WT_TASK_COMM_LEN]; /* exec: the new program's */
	__u8 data[];
};

/* tracking_change.kind */
#define WT_CHANGE_TRACKED 0      /* the kernel tracked pid under root_pid: a fork, or a join of a cgroup registration */
#define WT_CHANGE_UNTRACKED 1    /* the kernel untracked pid: its exit, a privilege-gaining exec, a cgroup move */
#define WT_CHANGE_THREAD_START 2 /* tracked process pid gained thread tid */
#define WT_CHANGE_THREAD_EXIT 3  /* thread tid of tracked process pid exited (not its last: that is UNTRACKED) */
#define WT_CHANGE_CGROUP_REMOVED 4 /* a registered cgroup was removed (rmdir): root_pid is its registration; pid 0 */

/*
 * A change the kernel made to the tracked set (or to a tracked process's threads), in a
 * ring of its own (`changes`), so the registry follows the kernel without walking /proc
 * and a flood of writes cannot crowd it out. Changes user space makes itself are not
 * reported. A record lost (WT_COUNTER_LIFECYCLE_FULL) means the registry must walk.
 */
struct tracking_change {
	__u64 timestamp_ns; /* CLOCK_MONOTONIC */
	__u32 kind;         /* WT_CHANGE_* */
	__u32 pid;          /* TGID */
	__u32 tid;          /* thread changes: the thread; otherwise pid */
	__u32 parent_pid;   /* WT_CHANGE_TRACKED by fork: the parent's TGID; otherwise 0 */
	__u32 root_pid;     /* tracked_process.root_pid, before an untrack */
	__u32 flags;        /* tracked_process.flags, before an untrack */
};

/* Value of the tracked map, keyed by TGID. */
struct tracked_process {
	__u32 root_pid; /* a registered pid, or with WT_TRACK_CGROUP a cgroup registration id */
	__u32 flags;    /* WT_TRACK_*: inherited at fork with root_pid */
};

/* Value of the tracked_cgroups map, keyed by the cgroup v2 id (its kernfs inode number). */
struct tracked_cgroup {
	__u32 registration; /* what tracked_process.root_pid holds for its processes */
	__u32 flags;        /* WT_TRACK_UNPRIVILEGED when registered by a non-administrator */
	__u32 uid;          /* with WT_TRACK_UNPRIVILEGED: the registering caller's uid; only its processes join */
};

/* Registered cgroups checked above a moved process's cgroup: the nearest WT_MAX_CGROUP_DEPTH levels. */
#define WT_MAX_CGROUP_DEPTH 64

/*
 * Read-only configuration, set by user space before the object is loaded; the
 * verifier sees these as constants, so disabled features cost nothing.
 */
struct wt_config {
	__u32 tracer_tgid;       /* never traced, even as a descendant of a root */
	__u32 capture_bytes;     /* 0..WT_MAX_CAPTURE */
	__u32 filter_fds;        /* nonzero: only fds present in the fd_filter map */
	__u32 resolve_fds;       /* WT_RESOLVE_FDS_* */
	__u64 wakeup_bytes;      /* force a reader wakeup once this much is unread */
	__u32 syscalls;          /* bit 1 << WT_SYSCALL_*: the calls traced (--syscalls), for the raw tracepoint's dispatch */
	__u32 fail_pending;      /* tests only: nonzero makes every per-thread storage request fail (WT_COUNTER_PENDING_FULL) */
	__u32 lifecycle;         /* nonzero: exec and exit records in the events ring (--lifecycle) */
	__u32 fail_changes;      /* tests only: nonzero makes every tracking_change reservation fail (WT_COUNTER_LIFECYCLE_FULL) */
};

/* Slots of the per-CPU counters map. */
enum wt_counter {
	WT_COUNTER_RINGBUF_FULL = 0, /* event lost: ring buffer had no room */
	WT_COUNTER_READ_FAILED = 1,  /* event sent without data: user memory unreadable */
	WT_COUNTER_TRACKED_FULL = 2, /* child not inherited: tracked map full */
	WT_COUNTER_PENDING_FULL = 3, /* event lost: no per-thread storage to hold the write until exit */
	WT_COUNTER_UNTRACKED_ON_EXEC = 4, /* process untracked: an unprivileged registration exec'd a privilege-gaining program */
	WT_COUNTER_LIFECYCLE_FULL = 5,    /* tracking_change lost: the changes ring had no room (user space walks /proc) */
	WT_COUNTER_MAX = 6,
};

#endif /* WRITE_TRACER_H */
