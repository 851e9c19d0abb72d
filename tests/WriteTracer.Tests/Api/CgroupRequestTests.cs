using System.Text;
using WriteTracer.Api;

namespace WriteTracer.Tests.Api;

public class CgroupRequestTests
{
    [Theory]
    [InlineData("""{"path": "system.slice/nginx.service"}""", "system.slice/nginx.service")]
    [InlineData("""{"path": "/sys/fs/cgroup/a b", "other": 1}""", "/sys/fs/cgroup/a b")]
    public void Reads_the_path(string body, string path)
    {
        Assert.True(CgroupRequest.TryParse(Encoding.UTF8.GetBytes(body), out var request, out var error), error);
        Assert.Equal(path, request.Path);
    }

    [Theory]
    [InlineData("", """the body is empty: send {"path": "PATH"}""")]
    [InlineData("[]", """the body must be a JSON object like {"path": "system.slice/nginx.service"}, not an array""")]
    [InlineData("""{"pid": 5}""", """the body has no "path" field: send {"path": "PATH"}""")]
    [InlineData("""{"path": "a", "path": "b"}""", "the body names \"path\" more than once")]
    [InlineData("""{"path": 5}""", "\"path\" must be a string, not a number")]
    [InlineData("""{"path": null}""", "\"path\" must be a string, not null")]
    [InlineData("""{"path": ""}""", "\"path\" is empty: name a cgroup, absolute or relative to the cgroup v2 mount")]
    public void Refuses_with_a_specific_sentence(string body, string expected)
    {
        Assert.False(CgroupRequest.TryParse(Encoding.UTF8.GetBytes(body), out _, out var error));
        Assert.Equal(expected, error);
    }
}
