namespace WriteTracer.Events;

/// <summary>
/// Where the pipeline's finished batches go (the sinks, in the tracer): the only way out
/// of <see cref="EventPipeline"/>, so events flow one way, pipeline to sinks.
/// </summary>
internal interface IBatchPublisher
{
    /// <summary>
    /// Hands over a batch of lines in format; the caller's reference passes with it, and
    /// the publisher releases it once it has taken the references it needs.
    /// </summary>
    void Publish(EventBatch batch, EventFormat format);
}
