using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using WriteTracer.Bpf;
using WriteTracer.Events;
using WriteTracer.Native;
using WriteTracer.Tests.Infrastructure;

namespace WriteTracer.Tests.Events;

/// <summary>
/// The resolver against the real /proc, with this test process's own fds as the writers':
/// the identities are what statx says of them, as the kernel program would put them in events
/// (its name hash and flags stand in as given).
/// </summary>
public sealed partial class FdPathResolverTests : IDisposable
{
    /// <summary>A pid above every pid_max: no such process.</summary>
    private const uint Gone = int.MaxValue;

    private readonly TempDirectory _directory = new("wt-fdpath-");
    private readonly List<IDisposable> _open = [];

    public void Dispose()
    {
        _open.ForEach(o => o.Dispose());
        _directory.Dispose();
    }

    [Fact]
    public void A_file_is_read_in_proc_once_whichever_process_writes_to_it()
    {
        var resolver = new FdPathResolver();
        var fd = Open("app.log");
        var identity = IdentityOf(fd);

        var first = Path(resolver, Event(fd, identity));
        var fromAnotherProcess = Path(resolver, Event(fd, identity, pid: Gone, rootPid: Gone));

        Assert.Equal(_directory.File("app.log"), first);
        Assert.Equal(first, fromAnotherProcess);
        Assert.Equal(1, resolver.ProcReads);
    }

    [Fact]
    public void Another_file_behind_the_same_fd_gets_its_own_path()
    {
        var resolver = new FdPathResolver();
        var fd = Open("a.log");
        var before = IdentityOf(fd);
        Assert.Equal(_directory.File("a.log"), Path(resolver, Event(fd, before)));

        Reopen(fd, "b.log");

        Assert.Equal(_directory.File("b.log"), Path(resolver, Event(fd, IdentityOf(fd))));
        Assert.Equal(_directory.File("a.log"), Path(resolver, Event(fd, before))); // cached: still what a.log was called
        Assert.Equal(2, resolver.ProcReads);
    }

    [Fact]
    public void An_fd_reused_since_the_write_gives_no_path_rather_than_the_new_file()
    {
        var resolver = new FdPathResolver();
        var fd = Open("a.log");
        var written = IdentityOf(fd);
        Reopen(fd, "b.log");

        Assert.Equal("", Path(resolver, Event(fd, written)));
        Assert.Equal(0, resolver.Count);
    }

    [Fact]
    public void The_same_identity_with_another_name_hash_is_read_again()
    {
        var resolver = new FdPathResolver();
        var fd = Open("a.log");
        var identity = IdentityOf(fd);
        Path(resolver, Event(fd, identity));

        File.Move(_directory.File("a.log"), _directory.File("renamed.log"));
        identity.PathHash++; // what the kernel reports once the dentry's name changed

        Assert.Equal(_directory.File("renamed.log"), Path(resolver, Event(fd, identity)));
        Assert.Equal(2, resolver.ProcReads);
    }

    [Fact]
    public void A_process_that_has_exited_is_named_through_the_same_fd_of_its_root()
    {
        var resolver = new FdPathResolver();
        var fd = Open("inherited.log");

        Assert.Equal(_directory.File("inherited.log"), Path(resolver, Event(fd, IdentityOf(fd), pid: Gone, rootPid: (uint)Environment.ProcessId)));
    }

    [Fact]
    public void Without_process_and_root_there_is_no_path_and_no_retry_until_the_retry_interval()
    {
        var time = new ManualTime();
        var resolver = new FdPathResolver(time: time);
        var fd = Open("orphan.log");
        var e = Event(fd, IdentityOf(fd), pid: Gone, rootPid: Gone);

        Assert.Equal("", Path(resolver, e));
        var reads = resolver.ProcReads;
        Assert.Equal("", Path(resolver, e));
        Assert.Equal(reads, resolver.ProcReads);

        time.Advance(FdPathResolver.RetryInterval);
        Assert.Equal("", Path(resolver, e));
        Assert.True(resolver.ProcReads > reads);
    }

    [Fact]
    public void Pipes_and_sockets_are_named_as_proc_names_them_without_reading_proc()
    {
        var resolver = new FdPathResolver();
        var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _open.Add(pipe);
        _open.Add(socket);
        var pipeFd = (int)pipe.SafePipeHandle.DangerousGetHandle();
        var socketFd = (int)socket.SafeHandle.DangerousGetHandle();

        var pipePath = Path(resolver, Event(pipeFd, IdentityOf(pipeFd, FileIdentity.PseudoFlag), pid: Gone, rootPid: Gone));
        var socketPath = Path(resolver, Event(socketFd, IdentityOf(socketFd, FileIdentity.PseudoFlag), pid: Gone, rootPid: Gone));

        Assert.Matches(@"^pipe:\[\d+\]$", pipePath);
        Assert.Equal(LinkTarget(pipeFd), pipePath);
        Assert.Matches(@"^socket:\[\d+\]$", socketPath);
        Assert.Equal(LinkTarget(socketFd), socketPath);
        Assert.Equal(0, resolver.ProcReads);
    }

    [Fact]
    public void A_named_fifo_is_named_by_its_path()
    {
        var resolver = new FdPathResolver();
        var fifo = _directory.File("fifo");
        Assert.Equal(0, Interop.Libc.MkFifo(fifo, 0x180));
        var handle = File.OpenHandle(fifo, FileMode.Open, FileAccess.ReadWrite); // O_RDWR: does not wait for a peer
        _open.Add(handle);
        var fd = (int)handle.DangerousGetHandle();

        Assert.Equal(fifo, Path(resolver, Event(fd, IdentityOf(fd))));
        Assert.Equal(1, resolver.ProcReads);
    }

    [Fact]
    public void An_event_without_a_file_has_no_path()
    {
        var resolver = new FdPathResolver();

        Assert.Equal("", Path(resolver, Event(fd: 1, default)));
        Assert.Equal(0, resolver.ProcReads);
    }

    [Fact]
    public void Paths_unused_for_a_prune_interval_are_dropped_at_the_next_insertion()
    {
        var time = new ManualTime();
        var resolver = new FdPathResolver(capacity: 100, time: time);
        Resolve(resolver, PipeIdentity(1), PipeIdentity(2));

        time.Advance(FdPathResolver.PruneInterval);
        Resolve(resolver, PipeIdentity(3)); // a prune: 1 and 2, used since the last one, stay
        Assert.Equal(3, resolver.Count);
        Resolve(resolver, PipeIdentity(1));

        time.Advance(FdPathResolver.PruneInterval);
        Resolve(resolver, PipeIdentity(4)); // a prune: 2 was not used since the last one

        Assert.Equal(3, resolver.Count);
        Assert.Equal("pipe:[2]", Path(resolver, Event(3, PipeIdentity(2)))); // named again
        Assert.Equal(4, resolver.Count);
    }

    [Fact]
    public void A_full_cache_of_paths_in_use_starts_over()
    {
        var resolver = new FdPathResolver(capacity: 3, time: new ManualTime());
        Resolve(resolver, PipeIdentity(1), PipeIdentity(2), PipeIdentity(3));
        Assert.Equal(3, resolver.Count);

        Resolve(resolver, PipeIdentity(4));

        Assert.Equal(1, resolver.Count);
    }

    private static FileIdentity PipeIdentity(ulong ino) =>
        new() { Ino = ino, Mode = FileIdentity.Fifo | 0x180, Flags = FileIdentity.PseudoFlag };

    private static void Resolve(FdPathResolver resolver, params FileIdentity[] identities)
    {
        foreach (var identity in identities)
        {
            Assert.NotEqual("", Path(resolver, Event(3, identity)));
        }
    }

    private static string Path(FdPathResolver resolver, WriteEvent e) => Encoding.UTF8.GetString(resolver.Resolve(e));

    private static WriteEvent Event(int fd, FileIdentity identity, uint? pid = null, uint? rootPid = null)
    {
        var self = (uint)Environment.ProcessId;
        var header = Records.Header(pid: pid ?? self, tid: pid ?? self, rootPid: rootPid ?? self, fd: fd);
        header.File = identity;
        return header;
    }

    /// <summary>What the kernel would report for fd: its inode number and mode (statx through /proc), a name hash.</summary>
    private static FileIdentity IdentityOf(int fd, ushort flags = 0)
    {
        Assert.Equal(0, Interop.Libc.StatX(Interop.Libc.AT_FDCWD, $"/proc/self/fd/{fd}", 0,
            Interop.Libc.STATX_TYPE | Interop.Libc.STATX_MODE | Interop.Libc.STATX_INO, out var stat));
        return new FileIdentity { Ino = stat.Ino, PathHash = 1, Mode = stat.Mode, Flags = flags };
    }

    private static string LinkTarget(int fd) => new FileInfo($"/proc/self/fd/{fd}").LinkTarget!;

    private int Open(string name)
    {
        var handle = File.OpenHandle(_directory.File(name), FileMode.Create, FileAccess.Write);
        _open.Add(handle);
        return (int)handle.DangerousGetHandle();
    }

    /// <summary>Makes fd name another file, as a close and reopen to the same number does.</summary>
    private void Reopen(int fd, string name)
    {
        using var other = File.OpenHandle(_directory.File(name), FileMode.Create, FileAccess.Write);
        Assert.Equal(fd, Dup2((int)other.DangerousGetHandle(), fd));
    }

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);
}
