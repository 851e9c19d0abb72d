using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using WriteTracer.Benchmarks;

// `--quick` (BENCH_QUICK=1) trades precision for time; other arguments go to BenchmarkDotNet
// (e.g. --artifacts DIR, --filter '*Text64*'). In-process: no generated project to build.
var quick = args.Contains("--quick");
var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithWarmupCount(quick ? 1 : 3)
    .WithIterationCount(quick ? 3 : 5)
    .WithIterationTime(TimeInterval.FromMilliseconds(quick ? 100 : 500));
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddExporter(JsonExporter.Full);
BenchmarkRunner.Run<PipelineBenchmarks>(config, [.. args.Where(a => a != "--quick")]);
