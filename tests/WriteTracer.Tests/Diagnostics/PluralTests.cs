using WriteTracer.Diagnostics;

namespace WriteTracer.Tests.Diagnostics;

public sealed class PluralTests
{
    [Theory]
    [InlineData(0, "0 processes")]
    [InlineData(1, "1 process")]
    [InlineData(2, "2 processes")]
    [InlineData(1000000, "1000000 processes")]
    public void Only_one_is_singular(long count, string expected) =>
        Assert.Equal(expected, Plural.Count(count, "process", "processes"));
}
