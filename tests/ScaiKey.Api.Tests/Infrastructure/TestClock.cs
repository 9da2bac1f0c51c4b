namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>A clock the test moves forward by hand, for lockout durations and expiries.</summary>
public sealed class TestClock : TimeProvider
{
    private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
