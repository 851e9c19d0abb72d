// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * write-tracer kernel side: emits one record per call of the write family (write,
 * writev, pwrite64, pwritev, pwritev2) of a tracked process and, with --lifecycle,
 * one per exec and exit of a tracked process.
 *
 * Tracking is by TGID, so every thread of a tracked process is covered without
 * map updates. Children inherit their parent's root in the kernel at fork, so a
 * child that lives for a microsecond is still traced, and a process leaves the
 * map when its last thread exits.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "write_tracer.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct wt_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by user space before load */
	__type(key, __u32);
	__type(value, struct tracked_process);
} tracked SEC(".maps");

/*
 * The registry's feed: a struct tracking_change per change of `tracked` made here, and per
 * thread start and exit of a tracked process. A ring of its own, so writes cannot crowd it
 * out; 512 KiB holds about 13,000 changes, far more than a fork storm emits while the
 * registry's reader (woken by the first record after it caught up) drains it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 << 10);
} changes SEC(".maps");

/*
 * Bumped after every change of `tracked`, by the kernel (track, untrack) and by user
 * space (through its mapping, atomically): a lookup remembered under an older value is
 * stale. One word, mapped by user space.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tracked_generation SEC(".maps");

/* The last lookup in `tracked` made on this CPU by the write hooks. */
struct tracked_lookup {
	__u64 generation;              /* tracked_generation when it was made */
	__u32 tgid;
	__u32 found;                   /* nonzero: tgid is tracked, as process says */
	struct tracked_process process;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tracked_lookup);
} last_lookup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __s32);
	__type(value, __u8);
} fd_filter SEC(".maps");

/* Registered cgroups, by cgroup v2 id: membership is kept in `tracked` by the fork and cgroup-attach hooks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct tracked_cgroup);
} tracked_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WT_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Shortest gap between two forced reader wakeups (see emit_sized). */
#define WT_WAKEUP_INTERVAL_NS 1000000ULL

/* When emit_sized last forced a wakeup (CLOCK_MONOTONIC). */
__u64 last_forced_wakeup_ns = 0;

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &slot);

	if (value)
		*value += 1; /* per-CPU slot: no other writer */
}

/*
 * Every change of the tracked set in the kernel goes through track() and untrack()
 * (fork, exit, and any hook that adds or removes a process), so whatever must stay in
 * step with `tracked` is kept in one place.
 */
static __always_inline void tracked_changed(void)
{
	__u32 zero = 0;
	__u64 *generation = bpf_map_lookup_elem(&tracked_generation, &zero);

	if (generation)
		__sync_fetch_and_add(generation, 1);
}

/*
 * Tells the registry of a change (struct tracking_change in the `changes` ring). A record
 * that finds no room is counted: the registry then walks /proc to learn what it missed.
 * The default wakeup suits this ring: the kernel wakes the reader only for a record that
 * finds it caught up, and a fork or an exit costs far more than that wakeup.
 */
static __always_inline void report_change(__u32 kind, __u32 tgid, __u32 tid, __u32 parent_tgid,
					  const struct tracked_process *value)
{
	struct tracking_change *change;

	change = cfg.fail_changes ? NULL : bpf_ringbuf_reserve(&changes, sizeof(*change), 0);
	if (!change) {
		count(WT_COUNTER_LIFECYCLE_FULL);
		return;
	}
	change->timestamp_ns = bpf_ktime_get_ns();
	change->kind = kind;
	change->pid = tgid;
	change->tid = tid;
	change->parent_pid = parent_tgid;
	change->root_pid = value->root_pid;
	change->flags = value->flags;
	bpf_ringbuf_submit(change, 0);
}

/*
 * Each change that took effect makes remembered lookups stale and is reported to the
 * registry. parent_tgid: the forking process, or 0 when the process was not forked just
 * now (a move into a registered cgroup).
 */
static __always_inline long track(__u32 tgid, const struct tracked_process *value, __u32 parent_tgid)
{
	long err = bpf_map_update_elem(&tracked, &tgid, value, BPF_ANY);

	if (!err) {
		tracked_changed();
		report_change(WT_CHANGE_TRACKED, tgid, tgid, parent_tgid, value);
	}
	return err;
}

/* The record carries the root and flags the process had. */
static __always_inline long untrack(__u32 tgid)
{
	struct tracked_process *proc = bpf_map_lookup_elem(&tracked, &tgid);
	struct tracked_process was;
	long err;

	if (!proc)
		return -1;
	was = *proc; /* copied first: a deleted element is reused at once */
	err = bpf_map_delete_elem(&tracked, &tgid);
	/* Every exit on the host comes here: only a real removal makes remembered lookups stale. */
	if (!err) {
		tracked_changed();
		report_change(WT_CHANGE_UNTRACKED, tgid, tgid, 0, &was);
	}
	return err;
}

/* A thread of a tracked process started or exited (not its last: that is untrack()). */
static __always_inline void report_thread(__u32 kind, __u32 tgid, __u32 tid)
{
	struct tracked_process *proc = bpf_map_lookup_elem(&tracked, &tgid);

	if (proc)
		report_change(kind, tgid, tid, 0, proc);
}

/*
 * What `tracked` holds for tgid, as the write hooks ask it. A process that writes asks
 * the same question again and again: the answer is remembered per CPU with the
 * generation it was read under, and reused while nothing has changed `tracked` since,
 * so a repeated write costs two array loads instead of hashing its TGID. The generation
 * is read before the hash, so a change that lands in between leaves a remembered
 * answer already stale. That needs loads kept in order, which x86 guarantees; elsewhere
 * every write asks the hash.
 */
static __always_inline bool lookup_tracked(__u32 tgid, struct tracked_process *process)
{
	struct tracked_process *found;
#if defined(__TARGET_ARCH_x86)
	__u32 zero = 0;
	struct tracked_lookup *last = bpf_map_lookup_elem(&last_lookup, &zero);
	__u64 *generation = bpf_map_lookup_elem(&tracked_generation, &zero);
	__u64 now;

	if (last && generation) {
		now = *(volatile __u64 *)generation;
		if (last->tgid == tgid && last->generation == now) {
			*process = last->process;
			return last->found;
		}
		found = bpf_map_lookup_elem(&tracked, &tgid);
		last->generation = now;
		last->tgid = tgid;
		last->found = found != NULL;
		if (found) {
			last->process = *found;
			*process = *found;
		}
		return found != NULL;
	}
#endif
	found = bpf_map_lookup_elem(&tracked, &tgid);
	if (found)
		*process = *found;
	return found != NULL;
}

/* One write as the hooks see it. */
struct write_call {
	__u64 timestamp_ns;
	__u64 count;
	const void *buf;
	__s64 result;
	__s64 offset;
	__u32 tgid;
	__u32 tid;
	__u32 root_pid;
	__s32 fd;
	__u32 flags;
	__u16 syscall;
	__u16 iovcnt;
	__u32 gathered; /* a vector call captured at entry: bytes of gather_area filled at selection, or WT_NOT_GATHERED */
	struct wt_file_identity file;
};

/* write_call.gathered: not gathered at selection (a write, or a call held for its exit), or a buffer was unreadable then. */
#define WT_NOT_GATHERED 0xffffffffu
#define WT_GATHER_FAILED 0xfffffffeu

/*
 * --capture-at exit: a write seen at its syscall's entry, held until its exit. Per-thread
 * storage: freed with the thread, and cheaper to reach than a hash map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct write_call);
} pending SEC(".maps");

/*
 * The vector calls. Their iovec array is walked with bpf_loop (Linux 5.17+; user space
 * refuses them where it is missing) at selection, to sum every iov_len however few
 * buffers fit in the capture and, for a capture at entry, to gather the first
 * --capture-bytes of the buffers, in order, into per-CPU scratch space that the record
 * is then filled from. A call held for its exit is walked again there to gather what
 * its buffers hold then. A record's data area cannot be written
 * at a variable offset with a variable length (the verifier bounds each by the record's
 * size, not their sum); the scratch area is twice the largest capture, so it can.
 */
struct wt_gather_area {
	__u8 data[2 * WT_MAX_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wt_gather_area);
} gather_area SEC(".maps");

/*
 * The iovec array is read WT_IOV_CHUNK entries at a time: one probe read per chunk
 * rather than per entry, and one bpf_loop iteration, since most vector calls pass a
 * handful of buffers (libuv's and glibc's stdio writev two to four).
 */
#define WT_IOV_CHUNK 8

struct iov_walk {
	const struct iovec *iov;
	__u64 count;        /* the sum of the iov_lens walked */
	__u32 entries;      /* entries in the array, at most WT_IOV_MAX */
	__u32 captured;     /* bytes gathered into gather_area */
	__u32 limit;        /* bytes to gather */
	bool sum;           /* sum every iov_len (selection); else stop once limit bytes are gathered */
	bool failed;        /* the array was unreadable */
	bool gather_failed; /* a buffer was unreadable */
};

/* Appends up to the walk's limit of one buffer to gather_area; nonzero when unreadable. */
static __always_inline long gather_one(struct iov_walk *walk, const struct iovec *iov)
{
	__u32 zero = 0;
	struct wt_gather_area *area;
	__u32 offset = walk->captured;
	__u64 n = walk->limit - offset;

	if (n > iov->iov_len)
		n = iov->iov_len;
	if (offset >= WT_MAX_CAPTURE || n > WT_MAX_CAPTURE)
		return -1; /* unreachable (limit <= WT_MAX_CAPTURE); bounds the copy for the verifier */
	area = bpf_map_lookup_elem(&gather_area, &zero);
	if (!area || (n && bpf_probe_read_user(area->data + offset, n, iov->iov_base)))
		return -1;
	walk->captured = offset + n;
	return 0;
}

/* bpf_loop's callback for chunk i of the array: sums its iov_lens and gathers its buffers up to the limit. */
static long walk_iov(__u32 i, struct iov_walk *walk)
{
	struct iovec chunk[WT_IOV_CHUNK];
	__u32 first = i * WT_IOV_CHUNK;
	__u64 bytes, entries;

	if (first >= walk->entries)
		return 1;
	bytes = (__u64)(walk->entries - first) * sizeof(chunk[0]);
	if (bytes > sizeof(chunk))
		bytes = sizeof(chunk);
	barrier_var(bytes); /* the read's size as clamped, not a copy the compiler kept unbounded */
	if (bpf_probe_read_user(chunk, bytes, &walk->iov[first])) {
		walk->failed = true;
		return 1;
	}
	entries = bytes / sizeof(chunk[0]);
	for (__u32 j = 0; j < WT_IOV_CHUNK && j < entries; j++) {
		if (walk->sum)
			walk->count += chunk[j].iov_len;
		if (walk->captured < walk->limit && !walk->gather_failed && gather_one(walk, &chunk[j]))
			walk->gather_failed = true;
		if (!walk->sum && (walk->captured >= walk->limit || walk->gather_failed))
			return 1;
	}
	return 0;
}

/* Walks the call's iovec array, a chunk per bpf_loop iteration. */
static __always_inline void walk_iovs(struct iov_walk *walk, const struct write_call *call)
{
	walk->iov = call->buf;
	walk->entries = call->iovcnt < WT_IOV_MAX ? call->iovcnt : WT_IOV_MAX;
	bpf_loop((walk->entries + WT_IOV_CHUNK - 1) / WT_IOV_CHUNK, walk_iov, walk, 0);
}

/*
 * Copies the first len bytes of the call's buffers, concatenated, to dst; nonzero when
 * unreadable. At entry they were gathered as the array was summed; a call held for its
 * exit is walked again now.
 */
static __always_inline long gather_iov(void *dst, __u32 len, const struct write_call *call)
{
	__u32 zero = 0;
	struct iov_walk walk = { .limit = len };
	struct wt_gather_area *area;

	if (call->gathered == WT_NOT_GATHERED) {
		walk_iovs(&walk, call);
		if (walk.failed || walk.gather_failed || walk.captured != len)
			return -1;
	} else if (call->gathered == WT_GATHER_FAILED || call->gathered < len) {
		return -1;
	}
	area = bpf_map_lookup_elem(&gather_area, &zero);
	if (!area || len > WT_MAX_CAPTURE)
		return -1;
	return bpf_probe_read_kernel(dst, len, area->data);
}

/* The copy of a record's data: the buffer, or for the vector calls the buffers gathered. */
static __always_inline long copy_data(void *dst, __u32 len, const struct write_call *call, const bool vector)
{
	return vector ? gather_iov(dst, len, call) : bpf_probe_read_user(dst, len, call->buf);
}

/*
 * The flag an events-ring record is submitted with, at time now. Waking the reader
 * costs a self-IPI (an irq_work), which in a VM is a trap to the hypervisor: far more
 * than the event itself. The reader polls with a short timeout, so a trickle of events
 * is still delivered promptly; a wakeup is forced only when a backlog builds up, and at
 * most once per WT_WAKEUP_INTERVAL_NS, since while the reader drains a backlog every
 * event would otherwise force one.
 */
static __always_inline __u64 wakeup_flag(__u64 now)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg.wakeup_bytes &&
	    now - last_forced_wakeup_ns >= WT_WAKEUP_INTERVAL_NS) {
		last_forced_wakeup_ns = now; /* racy across CPUs; a spare wakeup is harmless */
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/*
 * Reserves a record with room for `capacity` bytes of data. capacity is a
 * constant at every call site, which the verifier needs for the reservation and
 * for bounding the copy.
 */
static __always_inline int emit_sized(const struct write_call *call, const __u32 capacity, const bool vector)
{
	struct write_event *e;
	__u32 len;

	e = bpf_ringbuf_reserve(&events, sizeof(*e) + capacity, 0);
	if (!e) {
		count(WT_COUNTER_RINGBUF_FULL);
		return 0;
	}

	e->timestamp_ns = call->timestamp_ns;
	e->count = call->count;
	e->result = call->result;
	e->offset = call->offset;
	e->pid = call->tgid;
	e->tid = call->tid;
	e->root_pid = call->root_pid;
	e->fd = call->fd;
	e->flags = call->flags;
	e->syscall = call->syscall;
	e->iovcnt = call->iovcnt;
	e->kind = WT_RECORD_WRITE;
	e->file = call->file;
	/* Two plain loads: the helper copies byte by byte, then pads. comm is always NUL-terminated. */
	__builtin_memcpy(e->comm, bpf_get_current_task_btf()->comm, sizeof(e->comm));

	len = call->count < capacity ? (__u32)call->count : capacity;
	if (len > WT_MAX_CAPTURE)
		len = WT_MAX_CAPTURE; /* unreachable; keeps the verifier's bounds simple */
	if (vector && (call->flags & WT_EVENT_READ_FAILED))
		len = 0; /* the iovec array was unreadable at selection, and counted there */
	if (len && copy_data(e->data, len, call, vector)) {
		len = 0;
		e->flags |= WT_EVENT_READ_FAILED;
		count(WT_COUNTER_READ_FAILED);
	}
	e->captured = len;
	bpf_ringbuf_submit(e, wakeup_flag(call->timestamp_ns));
	return 0;
}

static __always_inline int emit(const struct write_call *call, const bool vector)
{
	/*
	 * Small writes dominate event rates: give them a record sized to fit, so the
	 * ring holds more of them and less memory passes between the CPUs.
	 */
	if (cfg.capture_bytes > WT_SMALL_CAPTURE / 4 && call->count <= WT_SMALL_CAPTURE / 4)
		return emit_sized(call, WT_SMALL_CAPTURE / 4, vector);
	if (cfg.capture_bytes > WT_SMALL_CAPTURE / 2 && call->count <= WT_SMALL_CAPTURE / 2)
		return emit_sized(call, WT_SMALL_CAPTURE / 2, vector);
	if (cfg.capture_bytes > WT_SMALL_CAPTURE && call->count <= WT_SMALL_CAPTURE)
		return emit_sized(call, WT_SMALL_CAPTURE, vector);
	return emit_sized(call, cfg.capture_bytes > WT_MAX_CAPTURE ? WT_MAX_CAPTURE : cfg.capture_bytes, vector);
}

/* MNT_INTERNAL of include/linux/mount.h (the same value since 2.6.34). */
#define WT_MNT_INTERNAL 0x4000

/*
 * Linux 6.2+: turns a pointer read from kernel memory into a BTF-typed one, through
 * which fields are plain loads instead of helper calls (the identity then costs about
 * a fifth). Weak: where the kernel lacks it, user space loads WT_RESOLVE_FDS_PROBE.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline struct mount *mount_of(struct vfsmount *vfsmnt)
{
	return (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
}

/* WT_RESOLVE_FDS_BTF: task->files->fdt->fd[fd] and the file's fields, as plain loads. */
static __always_inline void read_file_identity_btf(struct wt_file_identity *identity, __s32 fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file *file = NULL;
	struct inode *inode;
	struct vfsmount *vfsmnt;
	struct mount *mnt;

	if (fd < 0 || (__u32)fd >= fdt->max_fds)
		return;
	/* fdt->fd is a pointer to pointers, which BTF cannot type: one helper call. */
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return;
	file = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
	inode = file->f_inode;
	if (!inode)
		return;
	vfsmnt = file->f_path.mnt;
	mnt = bpf_rdonly_cast(mount_of(vfsmnt), bpf_core_type_id_kernel(struct mount));
	identity->ino = inode->i_ino;
	identity->mode = inode->i_mode;
	identity->path_hash = file->f_path.dentry->d_name.hash ^ mnt->mnt_id;
	identity->flags = (inode->i_nlink == 0 ? WT_FILE_DELETED : 0) |
			  (vfsmnt->mnt_flags & WT_MNT_INTERNAL ? WT_FILE_PSEUDO : 0);
}

/* WT_RESOLVE_FDS_PROBE: the same reads, a probe-read helper call each. */
static __always_inline void read_file_identity_probe(struct wt_file_identity *identity, __s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct inode *inode;
	struct vfsmount *vfsmnt;

	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return;
	vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	identity->ino = BPF_CORE_READ(inode, i_ino);
	identity->mode = BPF_CORE_READ(inode, i_mode);
	identity->path_hash = BPF_CORE_READ(file, f_path.dentry, d_name.hash) ^ BPF_CORE_READ(mount_of(vfsmnt), mnt_id);
	identity->flags = (BPF_CORE_READ(inode, i_nlink) == 0 ? WT_FILE_DELETED : 0) |
			  (BPF_CORE_READ(vfsmnt, mnt_flags) & WT_MNT_INTERNAL ? WT_FILE_PSEUDO : 0);
}

/* Fills call for the current task if it is tracked and fd passes the filter. */
static __always_inline bool select_write(struct write_call *call, __s32 fd, const void *buf, __u64 requested,
					 __u16 syscall, __u64 iovcnt, __s64 offset)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tracked_process process;

	if (!lookup_tracked(tgid, &process) || tgid == cfg.tracer_tgid)
		return false;
	if (cfg.filter_fds && !bpf_map_lookup_elem(&fd_filter, &fd))
		return false;

	call->timestamp_ns = bpf_ktime_get_ns();
	call->count = requested;
	call->buf = buf;
	call->result = 0;
	call->offset = offset;
	call->tgid = tgid;
	call->tid = (__u32)id;
	call->root_pid = process.root_pid;
	call->fd = fd;
	call->flags = process.flags & WT_TRACK_CGROUP ? WT_EVENT_CGROUP_ROOT : 0;
	call->syscall = syscall;
	call->iovcnt = iovcnt > 0xffff ? 0xffff : (__u16)iovcnt;
	call->gathered = WT_NOT_GATHERED;
	call->file = (struct wt_file_identity){};
	/* The identity of the file fd names (--resolve-fds), left zero when fd is not open. */
	if (cfg.resolve_fds == WT_RESOLVE_FDS_BTF)
		read_file_identity_btf(&call->file, fd);
	else if (cfg.resolve_fds == WT_RESOLVE_FDS_PROBE)
		read_file_identity_probe(&call->file, fd);
	return true;
}

/*
 * A vector call: its count is the sum of every iov_len (up to WT_IOV_MAX entries, as the
 * kernel accepts). gather (a constant: capture at entry) fills gather_area with the first
 * --capture-bytes of its buffers in the same walk, for emit to copy into the record.
 */
static __always_inline bool select_vector(struct write_call *call, __u16 syscall, __s32 fd, const struct iovec *iov,
					  __u64 iovcnt, __s64 offset, const bool gather)
{
	struct iov_walk walk = { .sum = true, .limit = gather ? cfg.capture_bytes : 0 };

	if (!select_write(call, fd, iov, 0, syscall, iovcnt, offset))
		return false;
	walk_iovs(&walk, call);
	call->count = walk.count;
	if (gather)
		call->gathered = walk.gather_failed ? WT_GATHER_FAILED : walk.captured;
	if (walk.failed) {
		call->flags |= WT_EVENT_READ_FAILED;
		count(WT_COUNTER_READ_FAILED);
	}
	return true;
}

/*
 * Argument decoding, one function per call of the family, each taking the arguments
 * as any hook sees them: (fd, buffer or iovec array, count or iovcnt, file position).
 * pwritev and pwritev2 take the position as two halves (pos_l, pos_h); on 64-bit
 * architectures pos_l holds all of it. gather: a constant, true where the call is
 * captured at entry (see select_vector).
 */
static __always_inline bool decode_write(struct write_call *call, __u64 fd, __u64 buf, __u64 count, __u64 pos, const bool gather)
{
	return select_write(call, (__s32)fd, (const void *)buf, count, WT_SYSCALL_WRITE, 0, 0);
}

static __always_inline bool decode_writev(struct write_call *call, __u64 fd, __u64 iov, __u64 iovcnt, __u64 pos, const bool gather)
{
	return select_vector(call, WT_SYSCALL_WRITEV, (__s32)fd, (const struct iovec *)iov, iovcnt, 0, gather);
}

static __always_inline bool decode_pwrite64(struct write_call *call, __u64 fd, __u64 buf, __u64 count, __u64 pos, const bool gather)
{
	return select_write(call, (__s32)fd, (const void *)buf, count, WT_SYSCALL_PWRITE64, 0, (__s64)pos);
}

static __always_inline bool decode_pwritev(struct write_call *call, __u64 fd, __u64 iov, __u64 iovcnt, __u64 pos, const bool gather)
{
	return select_vector(call, WT_SYSCALL_PWRITEV, (__s32)fd, (const struct iovec *)iov, iovcnt, (__s64)pos, gather);
}

/* pos -1: the file's current position, which the call then advances. */
static __always_inline bool decode_pwritev2(struct write_call *call, __u64 fd, __u64 iov, __u64 iovcnt, __u64 pos, const bool gather)
{
	return select_vector(call, WT_SYSCALL_PWRITEV2, (__s32)fd, (const struct iovec *)iov, iovcnt, (__s64)pos, gather);
}

/*
 * --capture-at exit: hold the call until the syscall returns. The buffers are then
 * resident (the kernel has just read them) and the result is known.
 */
static __always_inline int hold(const struct write_call *call)
{
	struct write_call *held;

	held = cfg.fail_pending ? NULL :
		bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!held) {
		count(WT_COUNTER_PENDING_FULL);
		return 0;
	}
	*held = *call;
	return 0;
}

static __always_inline int on_write_exit(__s64 result, const bool vector)
{
	struct write_call *held;
	struct write_call call;

	held = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, 0);
	if (!held || !held->timestamp_ns)
		return 0;
	call = *held; /* the same thread: tgid and tid too */
	call.result = result;
	call.flags |= WT_EVENT_HAS_RESULT;
	held->timestamp_ns = 0; /* consumed */
	return emit(&call, vector);
}

/*
 * The syscall tracepoints, three programs per call of the family: capture at entry,
 * or hold at entry and capture at exit (--capture-at exit). --syscalls decides which
 * autoload. A stable ABI on every kernel with syscall tracepoints, but every write on
 * the host pays its slow path.
 */
#define WT_SYSCALL_TRACEPOINTS(name, vector)                                                            \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                    \
	int handle_##name(struct trace_event_raw_sys_enter *ctx)                                       \
	{                                                                                              \
		struct write_call call;                                                                \
                                                                                                       \
		if (!decode_##name(&call, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], true)) \
			return 0;                                                                      \
		return emit(&call, vector);                                                            \
	}                                                                                              \
                                                                                                       \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                    \
	int handle_##name##_entry(struct trace_event_raw_sys_enter *ctx)                               \
	{                                                                                              \
		struct write_call call;                                                                \
                                                                                                       \
		if (!decode_##name(&call, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], false)) \
			return 0;                                                                      \
		return hold(&call);                                                                    \
	}                                                                                              \
                                                                                                       \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                     \
	int handle_##name##_exit(struct trace_event_raw_sys_exit *ctx)                                 \
	{                                                                                              \
		return on_write_exit(ctx->ret, vector);                                                \
	}

WT_SYSCALL_TRACEPOINTS(write, false)
WT_SYSCALL_TRACEPOINTS(writev, true)
WT_SYSCALL_TRACEPOINTS(pwrite64, false)
WT_SYSCALL_TRACEPOINTS(pwritev, true)
WT_SYSCALL_TRACEPOINTS(pwritev2, true)

/*
 * The raw syscall tracepoints (--attach raw): one program for every syscall of every
 * task while attached, so the syscall number is tested first and a call outside the
 * family costs a few compares. They skip the perf side of the syscall tracepoints
 * (the argument copy into a perf buffer) but, like them, put every task on the
 * syscall slow path. Numbers of this architecture's native syscall table.
 */
#if defined(__TARGET_ARCH_x86)
#define WT_NR_WRITE 1
#define WT_NR_WRITEV 20
#define WT_NR_PWRITE64 18
#define WT_NR_PWRITEV 296
#define WT_NR_PWRITEV2 328
#define WT_SYSCALL_NR(regs) ((long)(regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define WT_NR_WRITE 64
#define WT_NR_WRITEV 66
#define WT_NR_PWRITE64 68
#define WT_NR_PWRITEV 70
#define WT_NR_PWRITEV2 287
#define WT_SYSCALL_NR(regs) ((long)(regs)->syscallno)
#else
#error "the raw syscall tracepoints need this architecture's syscall numbers"
#endif

/* The WT_SYSCALL_* of syscall number id when --syscalls traces it, else -1; cfg.syscalls is a constant to the verifier. */
static __always_inline int traced_syscall(long id)
{
	if ((cfg.syscalls & 1u << WT_SYSCALL_WRITE) && id == WT_NR_WRITE)
		return WT_SYSCALL_WRITE;
	if ((cfg.syscalls & 1u << WT_SYSCALL_WRITEV) && id == WT_NR_WRITEV)
		return WT_SYSCALL_WRITEV;
	if ((cfg.syscalls & 1u << WT_SYSCALL_PWRITE64) && id == WT_NR_PWRITE64)
		return WT_SYSCALL_PWRITE64;
	if ((cfg.syscalls & 1u << WT_SYSCALL_PWRITEV) && id == WT_NR_PWRITEV)
		return WT_SYSCALL_PWRITEV;
	if ((cfg.syscalls & 1u << WT_SYSCALL_PWRITEV2) && id == WT_NR_PWRITEV2)
		return WT_SYSCALL_PWRITEV2;
	return -1;
}

/*
 * A 32-bit task's syscall numbers are another table's (ia32's 1 is exit, not write).
 * The syscall tracepoints ignore such calls on x86; so does the raw tracepoint.
 */
static __always_inline bool compat_syscall(void)
{
#if defined(__TARGET_ARCH_x86)
	return bpf_get_current_task_btf()->thread_info.status & 0x0002; /* TS_COMPAT */
#else
	return bpf_get_current_task_btf()->thread_info.flags & (1ul << 22); /* TIF_32BIT */
#endif
}

static __always_inline bool vector_syscall(int syscall)
{
	return syscall == WT_SYSCALL_WRITEV || syscall == WT_SYSCALL_PWRITEV || syscall == WT_SYSCALL_PWRITEV2;
}

/*
 * When syscall number id is a call --syscalls traces and the task is tracked: the call
 * decoded into call from the user's registers (the syscall's own arguments, as at its
 * tracepoint), and its WT_SYSCALL_*. Otherwise -1. gather: the call is captured at entry
 * (see select_vector).
 */
static __always_inline int select_raw(struct write_call *call, struct pt_regs *regs, long id, const bool gather)
{
	int syscall = traced_syscall(id);
	__u64 fd, buf, count, pos;
	bool selected;

	if (syscall < 0 || compat_syscall())
		return -1;
	fd = PT_REGS_PARM1_SYSCALL(regs);
	buf = PT_REGS_PARM2_SYSCALL(regs);
	count = PT_REGS_PARM3_SYSCALL(regs);
	pos = PT_REGS_PARM4_SYSCALL(regs);
	switch (syscall) {
	case WT_SYSCALL_WRITE:
		selected = decode_write(call, fd, buf, count, pos, gather);
		break;
	case WT_SYSCALL_WRITEV:
		selected = decode_writev(call, fd, buf, count, pos, gather);
		break;
	case WT_SYSCALL_PWRITE64:
		selected = decode_pwrite64(call, fd, buf, count, pos, gather);
		break;
	case WT_SYSCALL_PWRITEV:
		selected = decode_pwritev(call, fd, buf, count, pos, gather);
		break;
	default:
		selected = decode_pwritev2(call, fd, buf, count, pos, gather);
	}
	return selected ? syscall : -1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
	struct write_call call;
	int syscall = select_raw(&call, regs, id, true);

	if (syscall < 0)
		return 0;
	return vector_syscall(syscall) ? emit(&call, true) : emit(&call, false);
}

/* --capture-at exit: held at entry, emitted by handle_sys_exit. */
SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter_hold, struct pt_regs *regs, long id)
{
	struct write_call call;

	return select_raw(&call, regs, id, false) < 0 ? 0 : hold(&call);
}

/* Only a call held at entry is emitted: a compat task's, never held, finds nothing. */
SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	int syscall = traced_syscall(WT_SYSCALL_NR(regs));

	if (syscall < 0)
		return 0;
	return vector_syscall(syscall) ? on_write_exit(ret, true) : on_write_exit(ret, false);
}

/* BPF trampolines on the function behind write(2): far cheaper for untracked writes. */
SEC("fentry/ksys_write")
int BPF_PROG(handle_write_fentry, unsigned int fd, const char *buf, size_t count)
{
	struct write_call call;

	if (!decode_write(&call, fd, (__u64)buf, count, 0, true))
		return 0;
	return emit(&call, false);
}

/* fexit sees the arguments and the result together: no need to hold anything. */
SEC("fexit/ksys_write")
int BPF_PROG(handle_write_fexit, unsigned int fd, const char *buf, size_t count, ssize_t ret)
{
	struct write_call call;

	if (!decode_write(&call, fd, (__u64)buf, count, 0, true))
		return 0;
	call.result = ret;
	call.flags |= WT_EVENT_HAS_RESULT;
	return emit(&call, false);
}

/* cgroup_root.hierarchy_id of the cgroup v2 hierarchy (the "0::" line of /proc/PID/cgroup). */
#define WT_CGROUP_V2_HIERARCHY 0

/*
 * The registration covering cgrp (a v2 cgroup): cgrp's own or its nearest registered
 * ancestor's, among the WT_MAX_CGROUP_DEPTH nearest levels; NULL when none covers it.
 */
static __always_inline struct tracked_cgroup *registration_of(struct cgroup *cgrp)
{
	int level = BPF_CORE_READ(cgrp, level);

	for (int i = 0; i < WT_MAX_CGROUP_DEPTH && i <= level; i++) {
		struct cgroup *ancestor = NULL;
		struct tracked_cgroup *registered;
		__u64 id;

		if (bpf_core_read(&ancestor, sizeof(ancestor), &cgrp->ancestors[level - i]) || !ancestor)
			return NULL;
		id = BPF_CORE_READ(ancestor, kn, id);
		registered = bpf_map_lookup_elem(&tracked_cgroups, &id);
		if (registered)
			return registered;
	}
	return NULL;
}

/* SUID_DUMP_USER in the low bits of mm->flags (MMF_DUMPABLE_MASK): ptrace-able by its owner. */
#define WT_MMF_DUMPABLE_MASK 0x3
#define WT_SUID_DUMP_USER 1

/*
 * A non-administrator's registration covers only what the caller could ptrace: real,
 * effective and saved uid all the caller's, and dumpable (no privilege gained at exec),
 * so a setuid, setgid or file-capability program inside a delegated cgroup never joins.
 */
static __always_inline bool may_join(const struct tracked_cgroup *registered, struct task_struct *task)
{
	const struct cred *cred;
	struct mm_struct *mm;
	unsigned long mm_flags = 0;

	if (!(registered->flags & WT_TRACK_UNPRIVILEGED))
		return true;
	cred = BPF_CORE_READ(task, real_cred);
	if (BPF_CORE_READ(cred, uid.val) != registered->uid || BPF_CORE_READ(cred, euid.val) != registered->uid ||
	    BPF_CORE_READ(cred, suid.val) != registered->uid)
		return false;
	/* mm->flags is an unsigned long, or since 6.18 a bitmap whose first word holds the same bits. */
	mm = BPF_CORE_READ(task, mm);
	if (!mm || bpf_core_read(&mm_flags, sizeof(mm_flags), &mm->flags))
		return false;
	return (mm_flags & WT_MMF_DUMPABLE_MASK) == WT_SUID_DUMP_USER;
}

/*
 * Membership of a process that has just entered cgrp (moved there, or forked into it
 * with CLONE_INTO_CGROUP): tracked under the registered cgroup covering cgrp, or, when
 * none covers it (or the registration may not take it), no longer tracked. Callers
 * leave processes tracked through a pid registration alone.
 */
static __always_inline void join_cgroup(__u32 tgid, struct task_struct *task, struct cgroup *cgrp,
					const struct tracked_process *tracked_now, __u32 parent_tgid)
{
	struct tracked_cgroup *registered = registration_of(cgrp);
	struct tracked_process joined = {};

	if (!registered || !may_join(registered, task)) {
		if (tracked_now)
			untrack(tgid);
		return;
	}
	if (tracked_now && tracked_now->root_pid == registered->registration)
		return;
	joined.root_pid = registered->registration;
	joined.flags = WT_TRACK_CGROUP | (registered->flags & WT_TRACK_UNPRIVILEGED);
	if (track(tgid, &joined, parent_tgid))
		count(WT_COUNTER_TRACKED_FULL);
}

/*
 * --lifecycle: exec and exit records, in the events ring so that they are in order
 * with the process's writes (one ring is one order). Exec and exit are rare next to
 * writes: their records are built whole and copied in with bpf_ringbuf_output, which
 * takes a variable length, so an exec's record is the size of its argv.
 */
struct wt_process_area {
	__u8 record[sizeof(struct process_event) + WT_MAX_CAPTURE]; /* a struct process_event and its argv */
};

/* An exec's record under construction; exec runs with preemption disabled, so a per-CPU area is one program's at a time. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wt_process_area);
} process_area SEC(".maps");

/* Fills what every process record carries: the time, the ids, the registration and the thread's name. */
static __always_inline void fill_process_event(struct process_event *e, __u32 kind, struct task_struct *task, __u32 tgid,
					       const struct tracked_process *proc)
{
	e->kind = kind;
	e->flags = proc->flags & WT_TRACK_CGROUP ? WT_EVENT_CGROUP_ROOT : 0;
	e->timestamp_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = BPF_CORE_READ(task, pid);
	e->root_pid = proc->root_pid;
	e->exit_status = 0;
	e->captured = 0;
	e->argv_size = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
}

/* Copies a process record and its len bytes of argv into the events ring; a ring without room counts as for a write. */
static __always_inline void output_process_event(struct process_event *e, __u32 len)
{
	if (len > WT_MAX_CAPTURE)
		return; /* unreachable; bounds the size for the verifier */
	if (bpf_ringbuf_output(&events, e, sizeof(*e) + len, wakeup_flag(e->timestamp_ns)))
		count(WT_COUNTER_RINGBUF_FULL);
}

/*
 * At sched_process_exec the new program is in place (its comm set, current->mm the new
 * mm) and has not run: its argv is what execve passed, the NUL-terminated strings the
 * kernel copied to the top of the new stack, between mm->arg_start and mm->arg_end.
 * Those pages were just written by the kernel, so they are resident.
 */
static __always_inline void emit_exec(struct task_struct *task, __u32 tgid, const struct tracked_process *proc)
{
	__u32 zero = 0;
	struct wt_process_area *area = bpf_map_lookup_elem(&process_area, &zero);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long size = BPF_CORE_READ(mm, arg_end) - start;
	struct process_event *e;
	__u32 len;

	if (!area)
		return;
	e = (struct process_event *)area->record;
	fill_process_event(e, WT_RECORD_EXEC, task, tgid, proc);
	e->argv_size = size > 0xffffffffUL ? 0xffffffff : (__u32)size;
	len = size < cfg.capture_bytes ? (__u32)size : cfg.capture_bytes;
	if (len > WT_MAX_CAPTURE)
		len = WT_MAX_CAPTURE; /* unreachable (capture_bytes <= WT_MAX_CAPTURE); bounds the copy */
	if (len && bpf_probe_read_user(e->data, len, (const void *)start)) {
		len = 0;
		e->flags |= WT_EVENT_READ_FAILED;
	}
	e->captured = len;
	output_process_event(e, len);
}

/* signal_struct.flags: the whole group is exiting with signal_struct.group_exit_code (include/linux/sched/signal.h). */
#define WT_SIGNAL_GROUP_EXIT 0x4

/*
 * The exit of a process's last thread (task). Its status is the one wait(2) will
 * report, by wait_task_zombie's rule: the group's exit code when SIGNAL_GROUP_EXIT is
 * set — exit_group(2) from any thread, a fatal signal (a core dump ORs in 0x80), and on
 * kernels with synchronize_group_exit the last thread's own exit — else the group
 * leader's exit_code (do_exit stores it before this tracepoint; a leader that exited
 * first keeps its task until the process is reaped).
 */
static __always_inline void emit_exit(struct task_struct *task, __u32 tgid)
{
	struct tracked_process *proc = bpf_map_lookup_elem(&tracked, &tgid);
	struct signal_struct *signal = BPF_CORE_READ(task, signal);
	struct process_event e;

	if (!proc)
		return;
	fill_process_event(&e, WT_RECORD_EXIT, task, tgid, proc);
	e.exit_status = BPF_CORE_READ(signal, flags) & WT_SIGNAL_GROUP_EXIT ? BPF_CORE_READ(signal, group_exit_code)
									     : BPF_CORE_READ(task, group_leader, exit_code);
	output_process_event(&e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	struct tracked_process *proc;
	struct tracked_process inherited = {};

	if (parent_tgid == child_tgid) {
		/* A new thread: traced through its TGID, counted by the registry. */
		report_thread(WT_CHANGE_THREAD_START, child_tgid, BPF_CORE_READ(child, pid));
		return 0;
	}

	if (child_tgid == cfg.tracer_tgid)
		return 0;
	proc = bpf_map_lookup_elem(&tracked, &parent_tgid);
	/*
	 * clone3(CLONE_INTO_CGROUP) starts a child in another cgroup than its parent's (systemd
	 * starts services so): unless a pid registration carries it, it joins as if moved there.
	 */
	if (!proc || proc->flags & WT_TRACK_CGROUP) {
		struct cgroup *child_cgroup = BPF_CORE_READ(child, cgroups, dfl_cgrp);

		if (child_cgroup != BPF_CORE_READ(parent, cgroups, dfl_cgrp)) {
			join_cgroup(child_tgid, child, child_cgroup, NULL, parent_tgid);
			return 0;
		}
	}
	if (!proc)
		return 0;

	inherited.root_pid = proc->root_pid;
	inherited.flags = proc->flags;
	if (track(child_tgid, &inherited, parent_tgid))
		count(WT_COUNTER_TRACKED_FULL);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	/* Only the last thread's exit ends the process; an earlier one's ends a thread of it. */
	if (BPF_CORE_READ(task, signal, live.counter) > 0) {
		report_thread(WT_CHANGE_THREAD_EXIT, tgid, BPF_CORE_READ(task, pid));
		return 0;
	}

	if (cfg.lifecycle)
		emit_exit(task, tgid);
	untrack(tgid);
	return 0;
}

/*
 * No privilege gained through tracing: a process an unprivileged caller registered (or
 * its descendant) that execs a setuid, setgid or file-capability program is untracked
 * here, after the new credentials are committed and before the program runs, so none
 * of its writes as the new user is seen and its later children are not inherited.
 * Any other tracked process's exec is, with --lifecycle, a record (emit_exec).
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct tracked_process *proc;

	proc = bpf_map_lookup_elem(&tracked, &tgid);
	if (!proc)
		return 0;
	if ((proc->flags & WT_TRACK_UNPRIVILEGED) && BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec)) {
		/* No exec record either: the new program's name and argv are the privileged program's. */
		if (!untrack(tgid))
			count(WT_COUNTER_UNTRACKED_ON_EXEC);
		return 0;
	}
	if (cfg.lifecycle)
		emit_exec(task, tgid, proc);
	return 0;
}

/*
 * A registered cgroup removed (rmdir, as systemd does when a service stops): reported so
 * the registry unregisters it at once rather than at its next walk. Only an empty cgroup
 * can be removed, so none of its members is left to untrack; its entry in
 * tracked_cgroups goes with the registration, from user space.
 */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(handle_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	struct tracked_cgroup *registered;
	struct tracked_process removed = {};

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != WT_CGROUP_V2_HIERARCHY)
		return 0;
	registered = bpf_map_lookup_elem(&tracked_cgroups, &id);
	if (!registered)
		return 0;
	removed.root_pid = registered->registration;
	report_change(WT_CHANGE_CGROUP_REMOVED, 0, 0, 0, &removed);
	return 0;
}

/*
 * A process moved into another cgroup by a cgroup.procs write (systemd, container
 * runtimes): it joins, changes or leaves a cgroup registration; its next write is
 * judged by its new membership. Fires once per process moved, after the move. Moves
 * on v1 hierarchies do not change v2 membership, and a single thread moved through
 * cgroup.threads stays with its process (tracking is by process).
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(handle_cgroup_attach, struct cgroup *dst_cgrp, const char *path, struct task_struct *task, bool threadgroup)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct tracked_process *proc;

	if (!threadgroup || tgid == cfg.tracer_tgid ||
	    BPF_CORE_READ(dst_cgrp, root, hierarchy_id) != WT_CGROUP_V2_HIERARCHY)
		return 0;
	proc = bpf_map_lookup_elem(&tracked, &tgid);
	if (proc && !(proc->flags & WT_TRACK_CGROUP))
		return 0; /* a pid registration's: it keeps it */
	join_cgroup(tgid, task, dst_cgrp, proc, 0);
	return 0;
}
