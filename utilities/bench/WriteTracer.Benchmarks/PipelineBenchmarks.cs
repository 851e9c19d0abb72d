using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using WriteTracer.Events;
using WriteTracer.Sinks;

namespace WriteTracer.Benchmarks;

/// <summary>
/// The tracer's user-space path without the kernel: recorded ring-buffer records go
/// through <see cref="EventPipeline.OnRecord"/> (decode, JSON) and <see cref="EventPipeline.Flush"/>
/// into the real stdout sink writing to <see cref="Stream.Null"/>, as the reader thread
/// does after each poll. The baseline copies the same records into a buffer and writes
/// it out: the least any consumer of the ring must do.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    // A poll's worth of records; each invocation ends with a flush, as a poll cycle does.
    private const int RecordsPerInvocation = 8192;

    private RecordSet _records = null!;
    private EventPipeline _pipeline = null!;
    private SinkFanOut _fanOut = null!;
    private StdoutSink _sink = null!;
    private readonly byte[] _copyBuffer = new byte[EventPipeline.DefaultMinBatchBytes];
    private long _fed;

    [ParamsAllValues]
    public Payload Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _records = RecordSet.Build(Payload, RecordsPerInvocation);
        _sink = new StdoutSink(Stream.Null, onClosed: () => { }, SinkFactory.QueueEvents);
        _fanOut = new SinkFanOut([_sink]);
        _pipeline = new EventPipeline(new WallClock(offsetNs: 1_700_000_000_000_000_000), _fanOut, _fanOut.Formats, _records.CaptureBytes);
        _fanOut.Start();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerInvocation, Description = "raw copy")]
    public void RawCopy()
    {
        var used = 0;
        for (var i = 0; i < _records.Count; i++)
        {
            var record = _records.Record(i);
            if (used + record.Length > _copyBuffer.Length)
            {
                Stream.Null.Write(_copyBuffer, 0, used);
                used = 0;
            }
            record.CopyTo(_copyBuffer.AsSpan(used));
            used += record.Length;
        }
        Stream.Null.Write(_copyBuffer, 0, used);
    }

    [Benchmark(OperationsPerInvoke = RecordsPerInvocation, Description = "pipeline")]
    public void Pipeline()
    {
        for (var i = 0; i < _records.Count; i++)
        {
            _pipeline.OnRecord(_records.Record(i));
        }
        _pipeline.Flush();
        _fed += _records.Count;
    }

    /// <summary>
    /// A replay that lost events would measure less work than it claims: every record fed
    /// must be captured and delivered, none dropped. The harness reads this line.
    /// </summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _fanOut.Complete(TimeSpan.FromSeconds(30));
        _sink.Dispose();
        // Which job ran: only the JIT compiles code at run time.
        var job = RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT";
        Console.WriteLine($"replay check: job={job} payload={Payload} fed={_fed} captured={_pipeline.Captured} " +
                          $"malformed={_pipeline.Malformed} delivered={_sink.Delivered} dropped={_sink.Dropped}");
        if (_pipeline.Captured != _fed || _sink.Delivered != _fed || _sink.Dropped != 0)
        {
            throw new InvalidOperationException($"the replay of {Payload} lost events: the measurement is invalid");
        }
    }
}
