using System.Text.Json;
using WriteTracer.Api;

namespace WriteTracer.Tests.Api;

public sealed class RegisteredResponseTests
{
    [Fact]
    public void Names_the_thread_count_as_GET_pids_does_and_keeps_the_deprecated_threads()
    {
        var json = JsonSerializer.Serialize(new RegisteredResponse(1234, 3, "tracking"), ApiJsonContext.Relaxed.RegisteredResponse);

        Assert.Equal("""{"pid":1234,"thread_count":3,"message":"tracking","threads":3}""", json);
    }
}
