namespace WriteTracer.EndToEnd.Infrastructure;

/// <summary>Paths of the built artifacts (`make build` puts them in bin/).</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Tracer => Binary("write-tracer");

    public static string Writer => Binary("writer");

    public static string EchoPid => Binary("echopid");

    public static string Binary(string name)
    {
        var path = Path.Combine(Root, "bin", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run `make build` first", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WriteTracer.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("cannot find the repository root (WriteTracer.sln) above " + AppContext.BaseDirectory);
    }
}
