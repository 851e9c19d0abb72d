namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>A tiny tmpfs mounted on a fresh directory (root only), unmounted on dispose: a disk that fills up.</summary>
internal sealed class Tmpfs : IAsyncDisposable
{
    private Tmpfs(string directory) => Directory = directory;

    public string Directory { get; }

    public static async Task<Tmpfs> MountAsync(int kilobytes)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("write-tracer-tmpfs-").FullName;
        var (code, _, stderr) = await Shell.RunAsync($"mount -t tmpfs -o size={kilobytes}k tmpfs '{directory}'", TimeSpan.FromSeconds(30));
        if (code != 0)
        {
            System.IO.Directory.Delete(directory);
            throw new InvalidOperationException($"mounting a tmpfs on {directory} failed: {stderr}");
        }
        return new Tmpfs(directory);
    }

    /// <summary>Fills the filesystem with a file (path returned), leaving about freeBytes free.</summary>
    public string Fill(long freeBytes)
    {
        var path = Path.Combine(Directory, "filler");
        var available = new DriveInfo(Directory).AvailableFreeSpace;
        using var filler = File.Create(path);
        filler.Write(new byte[Math.Max(0, available - freeBytes)]);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Shell.RunAsync($"umount '{Directory}'", TimeSpan.FromSeconds(30));
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
