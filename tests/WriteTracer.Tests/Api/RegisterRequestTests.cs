using System.Text;
using WriteTracer.Api;

namespace WriteTracer.Tests.Api;

/// <summary>POST /pids bodies: every malformed one gets its own sentence.</summary>
public sealed class RegisterRequestTests
{
    [Theory]
    [InlineData("""{"pid": 1234}""", 1234)]
    [InlineData("""  {"pid":7,"note":"ignored","nested":{"a":[1,2]}}  """, 7)]
    [InlineData("""{"pid": -5}""", -5)]      // the sign is the registry's to judge
    [InlineData("""{"pid": 0}""", 0)]
    [InlineData("""{"pid": 2147483647}""", int.MaxValue)]
    public void Reads_the_pid(string body, int pid)
    {
        Assert.True(RegisterRequest.TryParse(Encoding.UTF8.GetBytes(body), out var request, out var error), error);
        Assert.Equal(pid, request.Pid);
    }

    [Theory]
    [InlineData("", """the body is empty: send {"pid": N}""")]
    [InlineData("5", """the body must be a JSON object like {"pid": 1234}, not a number""")]
    [InlineData("""[{"pid": 5}]""", """the body must be a JSON object like {"pid": 1234}, not an array""")]
    [InlineData("null", """the body must be a JSON object like {"pid": 1234}, not null""")]
    [InlineData("{}", """the body has no "pid" field: send {"pid": N}""")]
    [InlineData("""{"PID": 5}""", """the body has no "pid" field: send {"pid": N}""")]
    [InlineData("""{"pid": 5, "pid": 6}""", "the body names \"pid\" more than once")]
    [InlineData("""{"pid": "5"}""", "\"pid\" must be an integer, not a string")]
    [InlineData("""{"pid": true}""", "\"pid\" must be an integer, not a boolean")]
    [InlineData("""{"pid": null}""", "\"pid\" must be an integer, not null")]
    [InlineData("""{"pid": [5]}""", "\"pid\" must be an integer, not an array")]
    [InlineData("""{"pid": {}}""", "\"pid\" must be an integer, not an object")]
    [InlineData("""{"pid": 5.0}""", "\"pid\" must be an integer, not 5.0")]
    [InlineData("""{"pid": 1e3}""", "\"pid\" must be an integer, not 1e3")]
    [InlineData("""{"pid": 2147483648}""", "\"pid\" 2147483648 is out of range: no process id is that large")]
    [InlineData("""{"pid": -2147483649}""", "\"pid\" must be a positive process id, not -2147483649")]
    [InlineData("""{"pid": 123456789012345678901234567890123456789012345}""", "\"pid\" 1234567890123456789012345678901234567890… is out of range: no process id is that large")]
    public void Refuses_with_a_specific_sentence(string body, string expected)
    {
        Assert.False(RegisterRequest.TryParse(Encoding.UTF8.GetBytes(body), out _, out var error));
        Assert.Equal(expected, error);
    }

    /// <summary>The parser's own sentence follows, with the position of the fault.</summary>
    [Theory]
    [InlineData("pid=5")]
    [InlineData("""{"pid": 5""")]
    [InlineData("""{"pid": 5,}""")]
    [InlineData("""{"pid": 5} {}""")]
    [InlineData("""{"pid": 5 /* comment */}""")]
    [InlineData("""{'pid': 5}""")]
    [InlineData("""{"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]], "pid": 1}""")]
    public void Refuses_what_is_not_json_saying_where(string body)
    {
        Assert.False(RegisterRequest.TryParse(Encoding.UTF8.GetBytes(body), out _, out var error));
        Assert.StartsWith("the body is not valid JSON: ", error);
        Assert.Contains("BytePositionInLine", error);
    }

    [Fact]
    public void Refuses_invalid_utf8_even_in_an_ignored_field()
    {
        byte[] body = [.. "{\"pid\": 5, \"x\": \""u8, 0xff, 0xfe, .. "\"}"u8];
        Assert.False(RegisterRequest.TryParse(body, out _, out var error));
        Assert.Equal("the body is not valid JSON: it is not UTF-8", error);
    }
}
