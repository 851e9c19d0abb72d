using System.Runtime.InteropServices;
using Serilog;
using WriteTracer.Api;
using WriteTracer.Bpf;
using WriteTracer.Cli;
using WriteTracer.Diagnostics;
using WriteTracer.Events;
using WriteTracer.Metrics;
using WriteTracer.Sinks;
using WriteTracer.Tracking;

namespace WriteTracer.Hosting;

/// <summary>
/// One run of the tracer: loads the kernel side, wires reader → formatter → sinks,
/// registers what the command line names, and shuts down in the order that loses
/// nothing: detach, drain the ring, let the sinks deliver (up to --shutdown-timeout).
/// </summary>
internal sealed class TracerHost
{
    private readonly TracerOptions _options;
    private readonly CancellationTokenSource _stop = new();
    /// <summary>A signal while stopping: end the wait for the sinks at once.</summary>
    private readonly CancellationTokenSource _stopNow = new();
    /// <summary>Set when a registration comes or goes (see <see cref="RegistryChanged"/>).</summary>
    private readonly SemaphoreSlim _registryChanged = new(0);
    private volatile bool _threadFailed;
    private volatile bool _stopping;
    /// <summary>The command launched after --, while it may still run; signals are passed on to it.</summary>
    private volatile CommandLauncher? _launched;

    private TracerHost(TracerOptions options) => _options = options;

    public static Task<int> RunAsync(TracerOptions options) => new TracerHost(options).RunAsync();

    private async Task<int> RunAsync()
    {
        if (_options.Command.Count > 0)
        {
            CommandLauncher.EnsureRunnable(_options.Command[0], Environment.GetEnvironmentVariable("PATH"));
        }
        Preflight.Run();
        using var bpf = LoadBpf();
        var cgroupNames = new CgroupNames();
        var sinks = CreateSinks(cgroupNames);
        var fanOut = new SinkFanOut(sinks);
        var clock = new WallClock();
        var proc = new ProcFs();
        var pipeline = new EventPipeline(clock, fanOut, fanOut.Formats, _options.CaptureBytes,
            _options.ResolveFds ? new FdPathResolver() : null, nameSyscalls: _options.Syscalls.Any(s => s != WriteSyscall.Write),
            cgroups: cgroupNames);
        using var ring = new RingBuffer(bpf.EventsMapFd, bpf.EventsRingBytes);
        var reader = new EventReader(ring, pipeline, clock, () => bpf.IsAttached);
        var registry = _options.StateFile is null ? null : new RegistryFile(_options.StateFile);
        var tracing = new TracingDemand(attach => { if (attach) bpf.Attach(); else bpf.Detach(); });
        var members = new TrackedSet(bpf.Tracked, proc);
        var pids = new PidManager(members, proc, Environment.ProcessId, tracing.Register(),
            rootsChanged: roots => { registry?.Save(roots); RegistryChanged(); }, cgroups: cgroupNames);
        var cgroups = new CgroupRegistry(CgroupHierarchy.FromMountInfo(), members, bpf.TrackedCgroups, cgroupNames, proc,
            Environment.ProcessId, tracing.Register(), cgroupsChanged: registered => { registry?.SaveCgroups(registered); RegistryChanged(); });
        using var changesRing = new RingBuffer(bpf.ChangesMapFd, bpf.ChangesRingBytes);
        var feed = new ChangeFeed(changesRing, members, pids, cgroups, () => bpf.ReadCounter(BpfCounter.LifecycleFull), _options.TrackingInterval);
        if (registry is not null)
        {
            var saved = registry.Load();
            registry.SaveOrFail(saved); // an unwritable path stops the start-up here, before anything is traced
            pids.Restore(saved.Roots);
            cgroups.Restore(saved.Cgroups);
        }
        await using var metrics = _options.MetricsPort == 0 ? null : await MetricsServer.StartAsync(
            _options.MetricsAddress, _options.MetricsPort, new TracerMetrics(pipeline, bpf.ReadCounter, sinks, pids, cgroups, _options.Syscalls,
                lifecycle: _options.Lifecycle));
        await using var api = _options.AcceptsRegistrations ? await RestApi.StartAsync(_options, pids, cgroups) : null;

        foreach (var pid in _options.Pids)
        {
            var registration = pids.Register(pid, Registrant.Operator);
            if (registration.Status == RegistrationStatus.AlreadyRegistered && registry is not null)
            {
                continue; // restored from the state file
            }
            if (registration.Status != RegistrationStatus.Registered)
            {
                throw new StartupException(registration.Describe());
            }
            Log.Information("{Message}", registration.Describe());
        }
        foreach (var path in _options.Cgroups)
        {
            var registration = cgroups.Register(path, Registrant.Operator);
            if (registration.Status == CgroupRegistrationStatus.AlreadyRegistered && registry is not null)
            {
                continue; // restored from the state file
            }
            if (registration.Status != CgroupRegistrationStatus.Registered)
            {
                throw new StartupException($"--cgroup {path}: {registration.Describe()}");
            }
            Log.Information("{Message}", registration.Describe());
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var launched = Launch(pids);
        // A wrapper passes these on too; without a command they keep their default action.
        using var sighup = launched is null ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        using var sigquit = launched is null ? null : PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);
        _launched = launched;
        fanOut.Start();
        // The kernel's reports about what start-up registered wait in their ring until now.
        var stopFeed = new CancellationTokenSource();
        var feedThread = new Thread(() => RunThread("registry", () => feed.Run(stopFeed.Token))) { Name = "registry", IsBackground = true };
        feedThread.Start();
        var stopReader = new CancellationTokenSource();
        var readerThread = new Thread(() => RunThread("event reader", () => reader.Run(stopReader.Token))) { Name = "ring-reader", IsBackground = true };
        readerThread.Start();
        api?.MarkReady();
        launched?.Release();
        Log.Information("tracing writes of {Processes:l} ({Threads:l}) via {Hook}; {Syscalls}; capture {Capture:l} per write",
            Plural.Count(pids.TrackedProcesses, "process", "processes"), Plural.Count(pids.TrackedThreads, "thread", "threads"),
            bpf.Hook.ToString().ToLowerInvariant(), string.Join(",", _options.Syscalls.Select(s => s.Name())),
            Plural.Count(_options.CaptureBytes, "byte", "bytes"));

        var exitCode = await SuperviseAsync(pids, cgroups, launched);

        if (api is not null)
        {
            await api.StopAsync();
        }
        bpf.Detach();
        stopReader.Cancel();
        readerThread.Join();
        stopFeed.Cancel();
        feedThread.Join();
        _stopping = true;
        fanOut.Complete(_options.ShutdownTimeout, _stopNow.Token);
        Log.Information("{Summary}", RunSummary.Format(pipeline, bpf.ReadCounter, sinks, _options.Lifecycle));
        foreach (var sink in sinks)
        {
            sink.Dispose();
        }
        return _threadFailed ? 1 : exitCode;
    }

    /// <summary>Runs one of the tracer's threads; its failure stops the tracer (exit code 1).</summary>
    private void RunThread(string name, Action run)
    {
        try
        {
            run();
        }
        catch (Exception e)
        {
            Log.Error(e, "the {Thread} failed; stopping", name);
            _threadFailed = true;
            _stop.Cancel();
        }
    }

    /// <summary>A registration came or went: the supervisor looks whether anything is left to trace.</summary>
    private void RegistryChanged()
    {
        if (_registryChanged.CurrentCount == 0)
        {
            _registryChanged.Release();
        }
    }

    /// <summary>
    /// Traces until a signal, a closed stdout, the launched command's exit, or — when nothing
    /// can register new processes — the exit of every traced process (as strace -p ends with its
    /// process), which the registry learns from the kernel as it happens. With a command, signals
    /// go to it (<see cref="OnSignal"/>) and only its exit ends tracing: when the tracer must stop
    /// on its own, it stops the command and traces on until the command is gone.
    /// </summary>
    private async Task<int> SuperviseAsync(PidManager pids, CgroupRegistry cgroups, CommandLauncher? launched)
    {
        using var stopCommand = _stop.Token.Register(() => launched?.Stop("the tracer is stopping"));
        var commandExit = launched?.Process.WaitForExitAsync() ?? Task.Delay(Timeout.Infinite, _stop.Token);
        var stopTracking = launched is null ? _stop.Token : CancellationToken.None;
        while (!stopTracking.IsCancellationRequested)
        {
            if (pids.RootCount == 0 && cgroups.Count == 0 && launched is null && !_options.AcceptsRegistrations)
            {
                Log.Information("every traced process has exited; stopping");
                return 0;
            }
            var changed = _registryChanged.WaitAsync(stopTracking);
            var finished = await Task.WhenAny(commandExit, changed);
            if (finished == commandExit && launched is not null)
            {
                _launched = null;
                Log.Information("{Command} exited with code {Code}", _options.Command[0], launched.Process.ExitCode);
                return launched.Process.ExitCode;
            }
        }
        return 0;
    }

    private BpfTracer LoadBpf()
    {
        try
        {
            return BpfTracer.Load(new BpfOptions(
                TracerPid: Environment.ProcessId,
                CaptureBytes: _options.CaptureBytes,
                FileDescriptors: [.. _options.FileDescriptors],
                RingBufferBytes: _options.RingBufferMegabytes * 1024 * 1024,
                MaxTrackedProcesses: _options.MaxTrackedProcesses,
                Syscalls: _options.Syscalls,
                Hook: _options.Attach,
                CaptureAt: _options.CaptureAt,
                ResolveFds: _options.ResolveFds,
                Lifecycle: _options.Lifecycle,
                FailPending: Environment.GetEnvironmentVariable(BpfOptions.FailPendingVariable) == "1",
                FailChanges: Environment.GetEnvironmentVariable(BpfOptions.FailChangesVariable) == "1"));
        }
        catch (BpfException e)
        {
            throw new StartupException(e.Message, e);
        }
    }

    private List<EventSink> CreateSinks(CgroupNames cgroupNames) =>
        SinkFactory.Create(_options, cgroupNames, onStdoutClosed: () => _stop.Cancel());

    private CommandLauncher? Launch(PidManager pids)
    {
        if (_options.Command.Count == 0)
        {
            return null;
        }
        var launcher = CommandLauncher.Start(_options.Command);
        var registration = pids.Register(launcher.Pid, Registrant.Operator, comm: launcher.CommAfterExec);
        if (registration.Status != RegistrationStatus.Registered)
        {
            launcher.Dispose();
            throw new StartupException($"cannot trace {_options.Command[0]}: {registration.Describe()}");
        }
        return launcher;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (_launched is { } command)
        {
            command.Forward(context.Signal);
            return;
        }
        if (_stopping || _stop.IsCancellationRequested)
        {
            Log.Information("{Signal} received while stopping; no longer waiting for the sinks", context.Signal);
            _stopNow.Cancel();
            return;
        }
        Log.Information("{Signal} received; stopping", context.Signal);
        _stop.Cancel();
    }
}
