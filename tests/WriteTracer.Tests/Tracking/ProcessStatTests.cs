using WriteTracer.Tests.Infrastructure;
using WriteTracer.Tracking;

namespace WriteTracer.Tests.Tracking;

public class ProcessStatTests
{
    [Fact]
    public void Parses_a_real_stat_line()
    {
        const string line = "18494 (cat) R 18492 18492 6443 0 -1 4194304 99 0 1 0 0 0 0 0 20 0 1 0 194487 3133440 359 " +
            "18446744073709551615 94836315893760 94836315913641 140733315108784 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 " +
            "94836315929648 94836315931264 94836895522816 140733315115492 140733315115512 140733315115512 140733315117035 0\n";

        Assert.True(ProcessStat.TryParse(line, out var stat));

        Assert.Equal(new ProcessStat(18494, "cat", 'R', 18492, 194487, Threads: 1, Flags: 4194304), stat);
        Assert.False(stat.IsZombie);
        Assert.False(stat.IsExiting);
    }

    [Theory]
    [InlineData("my worker")]
    [InlineData("a) R 1 2 (b")]
    [InlineData(") ) )")]
    [InlineData("(sd-pam)")]
    [InlineData("((")]
    [InlineData("")]
    [InlineData("x 99 Z 1")]
    public void A_comm_with_spaces_and_parentheses_does_not_shift_the_fields(string comm)
    {
        Assert.True(ProcessStat.TryParse(FakeProc.StatLine(4321, comm, 'S', 77, 3, 9_876_543_210), out var stat));

        Assert.Equal(new ProcessStat(4321, comm, 'S', 77, 9_876_543_210, Threads: 3, Flags: 4194304), stat);
    }

    [Theory]
    [InlineData("4194304", false)]
    [InlineData("4194308", true)] // PF_EXITING (0x4) among PF_RANDOMIZE's
    public void The_exiting_flag_is_read_from_the_flags_field(string flags, bool exiting)
    {
        var line = FakeProc.StatLine(10, "p", 'R', 1, 1, 5).Replace(" 4194304 ", $" {flags} ", StringComparison.Ordinal);

        Assert.True(ProcessStat.TryParse(line, out var stat));

        Assert.Equal(exiting, stat.IsExiting);
    }

    [Theory]
    [InlineData('Z', true)]
    [InlineData('X', true)]
    [InlineData('S', false)]
    [InlineData('R', false)]
    [InlineData('D', false)]
    [InlineData('T', false)]
    public void Zombie_and_dead_states_are_zombies(char state, bool zombie)
    {
        Assert.True(ProcessStat.TryParse(FakeProc.StatLine(10, "p", state, 1, 1, 5), out var stat));

        Assert.Equal(state, stat.State);
        Assert.Equal(zombie, stat.IsZombie);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("garbage")]
    [InlineData("12 cat S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                     // no parentheses
    [InlineData("(cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                        // no pid
    [InlineData("x12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                    // pid not a number
    [InlineData("12 (cat S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                      // unclosed comm
    [InlineData("12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0")]                         // no start time
    [InlineData("12 (cat)")]                                                                 // nothing after the comm
    [InlineData("12 (cat) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                    // a state of two letters
    [InlineData("12 (cat) S one 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100")]                   // parent not a number
    [InlineData("12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -100")]                    // negative start time
    [InlineData("12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 later 3133440")]           // start time not a number
    [InlineData("12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 many 0 100")]                  // threads not a number
    [InlineData("12 (cat) S 1 1 1 0 -1 -4 0 0 0 0 0 0 0 0 20 0 1 0 100")]                    // negative flags
    public void A_malformed_line_is_rejected(string line)
    {
        Assert.False(ProcessStat.TryParse(line, out var stat));
        Assert.Equal(default, stat);
    }

    [Fact]
    public void The_minimal_line_with_a_start_time_is_accepted()
    {
        Assert.True(ProcessStat.TryParse("12 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100", out var stat));

        Assert.Equal(new ProcessStat(12, "cat", 'S', 1, 100, Threads: 1, Flags: 0), stat);
    }
}
