using Microsoft.Extensions.Primitives;
using WriteTracer.Api;
using WriteTracer.Hosting;

namespace WriteTracer.Tests.Api;

public sealed class BearerTokenTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"wt-token-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Accepts_exactly_the_token_in_one_bearer_header()
    {
        File.WriteAllText(_path, "  s3cret-token\n");
        var token = BearerToken.Load(_path);

        Assert.True(token.IsPresentedIn("Bearer s3cret-token"));
        Assert.True(token.IsPresentedIn("bearer s3cret-token"));
        Assert.False(token.IsPresentedIn(StringValues.Empty));
        Assert.False(token.IsPresentedIn("Bearer s3cret-toke"));
        Assert.False(token.IsPresentedIn("Bearer s3cret-token2"));
        Assert.False(token.IsPresentedIn("Bearer "));
        Assert.False(token.IsPresentedIn("Basic s3cret-token"));
        Assert.False(token.IsPresentedIn("s3cret-token"));
        Assert.False(token.IsPresentedIn(new StringValues(["Bearer s3cret-token", "Bearer s3cret-token"])));
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData(" \n\t\n", "the file is empty")]
    [InlineData("two words", "the token must be one word, without spaces or control characters")]
    public void A_useless_token_file_stops_the_startup(string content, string reason)
    {
        File.WriteAllText(_path, content);
        var error = Assert.Throws<StartupException>(() => BearerToken.Load(_path));
        Assert.Equal($"--api-token-file {_path}: {reason}", error.Message);
    }

    [Fact]
    public void A_missing_token_file_stops_the_startup_in_one_line()
    {
        var error = Assert.Throws<StartupException>(() => BearerToken.Load(_path));
        Assert.StartsWith($"--api-token-file {_path}: cannot read it: Could not find file", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
