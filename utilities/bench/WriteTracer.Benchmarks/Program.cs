using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Toolchains.NativeAot;
using Perfolizer.Horology;
using WriteTracer.Benchmarks;

// `--quick` (BENCH_QUICK=1) trades precision for time; other arguments go to BenchmarkDotNet
// (e.g. --artifacts DIR, --filter '*Text64*'). Two jobs, so the choice of compiler stays measured:
// "JIT" runs in this process (the JIT settings of this project), "NativeAOT" in a generated
// project that BenchmarkDotNet compiles ahead of time, as bin/write-tracer is.
var quick = args.Contains("--quick");
var measured = Job.Default
    .WithWarmupCount(quick ? 1 : 3)
    .WithIterationCount(quick ? 3 : 5)
    .WithIterationTime(TimeInterval.FromMilliseconds(quick ? 100 : 500));
// No compiler version (an empty one adds no package reference): the SDK picks it, as for the
// tracer. The builder insists on a feed besides the configured ones; the packages folder, where
// building the tracer has restored that compiler, adds nothing that is not already there.
var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
var nativeAot = NativeAotToolchain.CreateBuilder()
    .UseNuGet(microsoftDotNetILCompilerVersion: "", nuGetFeedUrl: packages)
    .TargetFrameworkMoniker("net10.0")
    .DisplayName("NativeAOT")
    .ToToolchain();
var config = DefaultConfig.Instance
    .AddJob(measured.WithToolchain(InProcessEmitToolchain.Instance).WithId("JIT"))
    // The tracer's garbage collector: workstation, not concurrent (as in its project file).
    .AddJob(measured.WithToolchain(nativeAot).WithGcServer(false).WithGcConcurrent(false).WithId("NativeAOT"))
    .AddExporter(JsonExporter.Full)
    // Compiling BenchmarkDotNet itself ahead of time takes minutes more than its default 5 allow.
    .WithBuildTimeout(TimeSpan.FromMinutes(30));
BenchmarkRunner.Run<PipelineBenchmarks>(config, [.. args.Where(a => a != "--quick")]);
