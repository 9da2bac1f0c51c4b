using System.Net;
using System.Security.Cryptography;
using ScaiKey.Api.AdminConsole;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Tests.AdminConsole;

/// <summary>The signed console address lives seconds, not a minute: a copy seen on the wire goes stale at once.</summary>
public sealed class ConsoleClientAddressWindowTests
{
    private static readonly IPAddress Admin = IPAddress.Parse("198.51.100.9");

    [Fact]
    public void A_signed_address_is_refused_15_seconds_after_it_was_made_and_when_it_claims_to_come_from_the_future()
    {
        var keyRing = new KeyRing(RandomNumberGenerator.GetBytes(32));
        var signerClock = new TestClock();
        var verifierClock = new TestClock();
        var signer = new ConsoleClientAddress(keyRing, signerClock);
        var verifier = new ConsoleClientAddress(keyRing, verifierClock);

        var value = signer.Sign(Admin, "GET", "Bearer t");
        Assert.Equal(Admin, verifier.Verify(value, "GET", "Bearer t"));
        verifierClock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(Admin, verifier.Verify(value, "GET", "Bearer t"));
        verifierClock.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(verifier.Verify(value, "GET", "Bearer t"));

        // Stamped 5 s ahead of the verifier's clock: more than clocks of one deployment drift.
        signerClock.Advance(TimeSpan.FromSeconds(21));
        Assert.Null(verifier.Verify(signer.Sign(Admin, "GET", "Bearer t"), "GET", "Bearer t"));
    }
}
