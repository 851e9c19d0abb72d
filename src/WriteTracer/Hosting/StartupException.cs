namespace WriteTracer.Hosting;

/// <summary>A run-time failure an operator can fix: reported as one line, exit code 1, no stack trace.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
