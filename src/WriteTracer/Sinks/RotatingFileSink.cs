using Microsoft.Win32.SafeHandles;
using WriteTracer.Events;
using WriteTracer.Hosting;
using WriteTracer.Native;

namespace WriteTracer.Sinks;

/// <summary>
/// Events as records (JSON or text lines, or raw bytes) in a file rotated every N records: PATH.1 is the newest
/// backup, PATH.M the oldest, older ones are deleted. A file always ends on a record
/// boundary: when a write fails (disk full, I/O error) the part of it that reached
/// the file is cut off, its events are counted as dropped, and writing resumes as
/// soon as the disk takes data again. Every file is given the mode asked for (0600 by
/// default) whatever the umask: events hold whatever the traced processes write.
/// </summary>
internal sealed class RotatingFileSink : EventSink
{
    private readonly string _path;
    private readonly int _recordsPerFile;
    private readonly int _maxBackups;
    private readonly SinkFailureLog _failures;
    private readonly UnixFileMode _mode;
    private SafeFileHandle? _file;
    /// <summary>Bytes of whole records in the current file: where the next write goes.</summary>
    private long _length;
    private int _records;
    /// <summary>A failed write may have left part of a record past <see cref="_length"/>.</summary>
    private bool _tornTail;

    /// <param name="maxBackups">Rotated files kept; 0 keeps all.</param>
    /// <param name="mode">The permissions of the file and its backups (--file-mode).</param>
    /// <exception cref="StartupException">The path cannot be written.</exception>
    public RotatingFileSink(string path, int recordsPerFile, int maxBackups, long capacityEvents, EventFormat format = EventFormat.Json,
        UnixFileMode mode = Cli.TracerOptions.Defaults.OwnerOnly)
        : base("file", capacityEvents, TimeSpan.FromSeconds(1), format)
    {
        _mode = mode;
        ArgumentOutOfRangeException.ThrowIfLessThan(recordsPerFile, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBackups);
        _path = Path.GetFullPath(path);
        _recordsPerFile = recordsPerFile;
        _maxBackups = maxBackups;
        _failures = new SinkFailureLog(Stage, SinkFailureLog.DefaultInterval);
        CheckWritable(_path, mode);
    }

    public string FilePath => _path;

    /// <summary>The backup of the given generation (1 = newest).</summary>
    private string Backup(int generation) => $"{_path}.{generation}";

    /// <summary>Rotates what a previous run left at the path, so nothing is overwritten.</summary>
    protected override void OnStarted() => TryOpen(eventsAtStake: 0);

    protected override void Write(EventBatch batch)
    {
        for (var first = 0; first < batch.Count;)
        {
            if (_file is null && !TryOpen(batch.Count - first))
            {
                CountDropped(batch.Count - first);
                return;
            }
            var take = Math.Min(batch.Count - first, _recordsPerFile - _records);
            Append(batch.Lines(first, take), take);
            first += take;
            if (_records == _recordsPerFile)
            {
                Close();
                TryOpen(eventsAtStake: 0);
            }
        }
    }

    protected override void OnCompleted() => Close();

    public override void Dispose()
    {
        Close();
        base.Dispose();
    }

    private static void CheckWritable(string path, UnixFileMode mode)
    {
        if (Directory.Exists(path) || (File.Exists(path) && !IsRegularFile(path)))
        {
            // Rotation renames the path: never a directory, device or pipe.
            throw new StartupException($"--file-output: '{path}' is not a regular file");
        }
        if (Path.GetDirectoryName(path) is { } directory && !Directory.Exists(directory))
        {
            throw new StartupException($"--file-output: the directory '{directory}' does not exist");
        }
        try
        {
            // Opening without truncating proves the path writable and changes nothing an earlier run left.
            using var probe = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            Interop.Libc.SetMode(probe, mode, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--file-output: cannot write to '{path}': {e.Message}");
        }
    }

    private static bool IsRegularFile(string path) =>
        Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_TYPE, out var stat) != 0
        || (stat.Mode & Interop.Libc.S_IFMT) == Interop.Libc.S_IFREG;

    private void Append(ReadOnlySpan<byte> lines, int records)
    {
        try
        {
            if (_tornTail)
            {
                RandomAccess.SetLength(_file!, _length);
                _tornTail = false;
            }
            RandomAccess.Write(_file!, lines, _length);
            _length += lines.Length;
            _records += records;
            CountDelivered(records);
            _failures.Succeeded();
        }
        catch (IOException e)
        {
            _tornTail = true;
            CutTornTail();
            CountDropped(records);
            _failures.Failed($"cannot write to '{_path}' ({e.Message})", records);
        }
    }

    /// <summary>Cuts off what a failed write left; if even that fails, the next write retries it first.</summary>
    private void CutTornTail()
    {
        try
        {
            RandomAccess.SetLength(_file!, _length);
            _tornTail = false;
        }
        catch (IOException)
        {
        }
    }

    private bool TryOpen(int eventsAtStake)
    {
        try
        {
            if (File.Exists(_path) && new FileInfo(_path).Length > 0)
            {
                ShiftBackups();
            }
            _file = File.OpenHandle(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            Interop.Libc.SetMode(_file, _mode, _path);
            _length = RandomAccess.GetLength(_file);
            _records = 0;
            _tornTail = false;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Close();
            _failures.Failed($"cannot start a new file at '{_path}' ({e.Message})", eventsAtStake);
            return false;
        }
    }

    /// <summary>PATH.k becomes PATH.k+1 from the oldest kept down, then PATH becomes PATH.1.</summary>
    private void ShiftBackups()
    {
        if (_maxBackups == 0)
        {
            var oldest = 0;
            while (File.Exists(Backup(oldest + 1)))
            {
                oldest++;
            }
            for (var generation = oldest; generation >= 1; generation--)
            {
                File.Move(Backup(generation), Backup(generation + 1));
            }
        }
        else
        {
            // Moving PATH.M-1 onto PATH.M deletes the oldest kept backup.
            for (var generation = _maxBackups - 1; generation >= 1; generation--)
            {
                if (File.Exists(Backup(generation)))
                {
                    File.Move(Backup(generation), Backup(generation + 1), overwrite: true);
                }
            }
            // Left by an earlier run that kept more backups.
            for (var generation = _maxBackups + 1; File.Exists(Backup(generation)); generation++)
            {
                File.Delete(Backup(generation));
            }
        }
        // A file left by an earlier run with another mode becomes a backup with this one.
        Interop.Libc.SetMode(_path, _mode);
        File.Move(_path, Backup(1), overwrite: true);
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }
}
