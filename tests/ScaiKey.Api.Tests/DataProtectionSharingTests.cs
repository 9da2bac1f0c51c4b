using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ScaiKey.Api.Tests;

/// <summary>
/// ASP.NET Data Protection keys live in the database (issue 17, point 6), sealed under the key-encryption key: what
/// one instance protects, a second instance on the same database unprotects, and no key is stored in the clear.
/// </summary>
public sealed class DataProtectionSharingTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Purpose = "scaikey.tests.data-protection-sharing";

    [Fact]
    public async Task A_payload_protected_by_one_instance_is_unprotected_by_a_second_instance_on_the_same_database()
    {
        var protectedPayload = app.Host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect("shared secret");

        var second = app.StartHost();
        try
        {
            var unprotected = second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(protectedPayload);
            Assert.Equal("shared secret", unprotected);

            // Control: another purpose cannot open it, so the check above is not vacuous.
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() =>
                second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose + ".other").Unprotect(protectedPayload));
        }
        finally
        {
            await app.StopHostAsync(second);
        }
    }

    [Fact]
    public async Task Data_protection_keys_are_stored_in_the_database_sealed_under_the_key_encryption_key()
    {
        app.Host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect("anything");

        var keys = await app.DbAsync(db => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync());
        Assert.NotEmpty(keys);
        foreach (var xml in keys)
        {
            Assert.Contains("sealedKey", xml!);
            Assert.DoesNotContain("<masterKey", xml!);
            Assert.DoesNotContain("<value>", xml!);
        }
    }
}
