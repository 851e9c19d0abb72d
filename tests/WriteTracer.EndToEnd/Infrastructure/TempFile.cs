namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>A path in a fresh temporary directory, removed with the directory.</summary>
internal sealed class TempFile : IDisposable
{
    private readonly DirectoryInfo _directory = System.IO.Directory.CreateTempSubdirectory("write-tracer-test-");

    public string Path => System.IO.Path.Combine(_directory.FullName, "file");

    public string Directory => _directory.FullName;

    public void Dispose() => _directory.Delete(recursive: true);
}
