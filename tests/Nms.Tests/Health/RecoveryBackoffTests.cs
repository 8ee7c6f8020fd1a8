using Nms.Core.Health;
using Xunit;

namespace Nms.Tests.Health;

public sealed class RecoveryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(3_600);

    [Theory]
    [InlineData(0, 60)]
    [InlineData(1, 120)]
    [InlineData(2, 240)]
    [InlineData(5, 1_920)]
    [InlineData(6, 3_600)]
    [InlineData(7, 3_600)]
    [InlineData(1_000, 3_600)]
    public void Delay_doubles_per_failed_probe_up_to_the_cap(int failedAttempts, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RecoveryBackoff.Delay(failedAttempts, Base, Cap));
    }

    [Fact]
    public void Cap_below_base_means_every_probe_waits_base()
    {
        Assert.Equal(Base, RecoveryBackoff.Delay(3, Base, TimeSpan.FromSeconds(1)));
    }
}
