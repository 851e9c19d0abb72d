using System.Text.Json;
using Serilog;
using WriteTracer.Hosting;

namespace WriteTracer.Tracking;

/// <summary>
/// --state-file: the registered roots and cgroups, so a restarted tracer traces them again
/// (the design, "The state file"). Rewritten whole on every change of either registry
/// through a temporary file that is fsynced and renamed over it, so a crash at any moment
/// leaves the previous or the new registry, never a mix. Owner-only (0600): it says who
/// traces what.
/// </summary>
internal sealed class RegistryFile(string path)
{
    /// <summary>The format this build writes and reads; a newer one is set aside, never overwritten.</summary>
    public const int Version = 1;

    private readonly Lock _lock = new();
    private bool _failing;
    private IReadOnlyList<RootProcess> _roots = [];
    private IReadOnlyList<SavedCgroup> _cgroups = [];

    public string Path => path;

    /// <summary>The saved roots and cgroups; none when the file does not exist. A file that cannot be understood is renamed PATH.bad with one warning.</summary>
    public SavedState Load()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return SavedState.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--state-file {path}: cannot read it: {e.Message}", e);
        }
        var problem = Parse(bytes, out var state);
        if (problem is null)
        {
            return state;
        }
        var aside = path + ".bad";
        try
        {
            File.Move(path, aside, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--state-file {path}: {problem}, and it cannot be set aside as {aside}: {e.Message}", e);
        }
        Log.Warning("--state-file {Path}: {Problem}; kept as {Aside}, starting with no registrations", path, problem, aside);
        return SavedState.Empty;
    }

    /// <summary>Replaces the file with these roots (and the cgroups last saved); a failure is logged (once until a save succeeds again), never thrown.</summary>
    public void Save(IReadOnlyList<RootProcess> roots)
    {
        lock (_lock)
        {
            _roots = roots;
            SaveLocked();
        }
    }

    /// <summary>Replaces the file with these cgroups (and the roots last saved), as <see cref="Save"/>.</summary>
    public void SaveCgroups(IReadOnlyList<RegisteredCgroup> cgroups)
    {
        lock (_lock)
        {
            _cgroups = [.. cgroups.Select(c => new SavedCgroup(c.Name, c.Id, c.RegisteredAt.UtcDateTime, c.Registrant.Uid, c.Registrant.Administrator))];
            SaveLocked();
        }
    }

    private void SaveLocked()
    {
        try
        {
            Write();
            if (_failing)
            {
                Log.Information("--state-file {Path}: saved again", path);
                _failing = false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_failing)
            {
                Log.Error("--state-file {Path}: cannot save the registrations: {Reason}", path, e.Message);
                _failing = true;
            }
        }
    }

    /// <summary>Saves this state now (what was loaded), so that an unwritable path stops the start-up instead of failing later.</summary>
    public void SaveOrFail(SavedState state)
    {
        try
        {
            lock (_lock)
            {
                _roots = state.Roots;
                _cgroups = state.Cgroups;
                Write();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--state-file {path}: cannot write it: {e.Message}", e);
        }
    }

    private void Write()
    {
        var saved = new SavedRegistry(Version, [.. _roots.Select(r => new SavedRoot(
            r.Pid, r.StartTime, r.Comm, r.RegisteredAt.UtcDateTime, r.Registrant.Uid, r.Registrant.Administrator))], _cgroups);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            Native.Interop.Libc.SetMode(file.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite, temporary);
            JsonSerializer.Serialize(file, saved, RegistryJsonContext.Default.SavedRegistry);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Null and what the file holds, or what is wrong with it.</summary>
    internal static string? Parse(byte[] bytes, out SavedState state)
    {
        state = SavedState.Empty;
        SavedRegistry? saved;
        try
        {
            saved = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.SavedRegistry);
        }
        catch (JsonException e)
        {
            return $"it is not a registry this tracer wrote ({e.Message})";
        }
        if (saved is null || saved.Roots is null)
        {
            return "it is not a registry this tracer wrote (no \"roots\")";
        }
        if (saved.Version != Version)
        {
            return saved.Version > Version
                ? $"it was written by a newer write-tracer (format {saved.Version}; this one reads {Version})"
                : $"its format {saved.Version} is unknown (this tracer reads {Version})";
        }
        if (saved.Roots.FirstOrDefault(r => r.Pid <= 0 || r.Comm is null || r.RegisteredByUid < -1) is { } bad)
        {
            return $"it holds an invalid entry (pid {bad.Pid})";
        }
        if (saved.Cgroups?.FirstOrDefault(c => c.Path is null || c.RegisteredByUid < -1) is { } badCgroup)
        {
            return $"it holds an invalid cgroup entry (id {badCgroup.Id})";
        }
        state = new SavedState([.. saved.Roots.Select(r => new RootProcess(r.Pid, r.StartTime, r.Comm, new DateTimeOffset(r.RegisteredAt, TimeSpan.Zero),
            new Registrant(r.RegisteredByUid, r.Administrator)))], saved.Cgroups ?? []);
        return null;
    }
}
