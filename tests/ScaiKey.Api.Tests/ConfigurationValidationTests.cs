using Microsoft.AspNetCore.Hosting;
using ScaiKey.Api.Hosting;
using ScaiKey.Api.OpenIdConnect;

namespace ScaiKey.Api.Tests;

/// <summary>
/// Every ScaiKey:* options class refuses a wrong value at start, before anything listens or touches the database, with
/// one line naming the key and what is allowed (what Program prints to stderr before exiting with 1; see
/// <see cref="StartupProcessTests"/> for the process itself). In-process: an instance with one wrong setting on the
/// class's database; the fixture's own instance, with the defaults, is the control.
/// </summary>
public sealed class ConfigurationValidationTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    public static TheoryData<string, string, string> Misconfigurations => new()
    {
        // DatabaseOptions
        { "ScaiKey:Database:Provider", "Oracle", "must be Sqlite or Postgres" },

        // StorageOptions
        { "ScaiKey:KeyEncryptionKey", "not-base64-and-not-32-bytes", "must be 32 bytes, base64-encoded" },
        { "ScaiKey:KeyEncryptionKey", Convert.ToBase64String(new byte[16]), "must be 32 bytes, base64-encoded" },

        // TokenOptions
        { "ScaiKey:Issuer", "id.example.com", "must be an absolute http or https URL" },
        { "ScaiKey:AccessTokenMinutes", "0", "must be between 1 and 1440" },
        { "ScaiKey:RefreshTokenDays", "-3", "must be between 1 and 365" },

        // ForwardingOptions
        { "ScaiKey:ForwardedHeaders", "Both", "must be XForwarded or Forwarded" },
        { "ScaiKey:TrustedProxies", "10.0.0.0/33", "is not an IP address or a CIDR network" },

        // SmtpOptions
        { "ScaiKey:Smtp:Port", "0", "must be between 1 and 65535" },
        { "ScaiKey:Smtp:Security", "Tls", "must be None, StartTls, SslOnConnect or Auto" },
        { "ScaiKey:Smtp:From", "not an address", "must be a mail address" },
        { "ScaiKey:Smtp:MaxAttempts", "0", "must be at least 1" },
        { "ScaiKey:Smtp:TrustedCertificate", "/no/such/smtp-ca.pem", "must be a readable certificate file" },

        // HashingGateOptions (ScaiKey:PasswordHashing)
        { "ScaiKey:PasswordHashing:Iterations", "0", "must be between 1 and 10" },
        { "ScaiKey:PasswordHashing:MemoryKiB", "4", "must be between 8 and 65536" },
        { "ScaiKey:PasswordHashing:Concurrency", "0", "must be at least 1" },

        // SignInOptions, SigningKeyOptions, BootstrapOptions
        { "ScaiKey:SignIn:CookieHours", "-1", "must be between 1 and 720" },
        { "ScaiKey:SigningKeys:RefreshSeconds", "0", "must be between 1 and 3600" },
        { "ScaiKey:Bootstrap:AdminEmail", "root@example.com", "must be set together or not at all" },

        // The options classes that validated before: RateLimitOptions, FederationOptions, LdapSyncOptions,
        // HousekeepingOptions, PasskeyOptions, ConsoleClientOptions.
        { "ScaiKey:RateLimits:PerIpPerMinute", "-5", "must be at least 1" },
        { "ScaiKey:Federation:ProviderTimeoutSeconds", "0", "must be between 1 and 120" },
        { "ScaiKey:Federation:Ldap:PollSeconds", "0", "must be between 1 and 3600" },
        { "ScaiKey:Housekeeping:BatchSize", "1", "must be between 10 and 10000" },
        { "ScaiKey:Passkeys:CeremonySeconds", "5", "must be between 30 and 1800" },
        { "ScaiKey:ConsoleClient:RedirectUris:0", "ftp://127.0.0.1/callback", "not an absolute https URI" },

        // ConsoleOptions (Console/): the console's server-side calls and its users page.
        { "ScaiKey:Console:ApiBaseAddress", "ftp://127.0.0.1/", "must be an absolute http or https URL" },
        { "ScaiKey:Console:ApiBaseAddress", "/relative/api", "must be an absolute http or https URL" },
        { "ScaiKey:Console:PageSize", "0", "must be between 1 and 100" },
        { "ScaiKey:Console:PageSize", "101", "must be between 1 and 100" },

        // MetricsOptions (Telemetry/), ScimOptions (Scim/).
        { "ScaiKey:Metrics:AllowedAddresses", "10.0.0.0/33", "is not an IP address or a CIDR network" },
        { "ScaiKey:Scim:BulkMaxOperations", "0", "must be between 1 and 10000" },
        { "ScaiKey:Scim:BulkMaxPayloadSize", "2097152", "must be between 1024 and" },

        // A value the binder cannot convert at all.
        { "ScaiKey:Smtp:Port", "twenty-five", "'ScaiKey:Smtp:Port' to type 'System.Int32'" },
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public async Task A_wrong_value_stops_the_start_with_one_line_naming_the_key(string key, string value, string allowed)
    {
        // Control: the defaults start (the fixture's instance) and serve.
        using var control = await app.Anonymous().GetAsync("/healthz");
        Assert.True(control.IsSuccessStatusCode, $"control: /healthz answered {(int)control.StatusCode}");

        var failure = Assert.ThrowsAny<Exception>(() => app.StartHost(b => b.UseSetting(key, value)));
        var line = StartupLine(failure);
        Assert.True(line is not null, $"not a start-up failure with one line: {failure}");
        var named = int.TryParse(key.Split(':')[^1], out _) ? key[..key.LastIndexOf(':')] : key; // a list's entry: the list
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.Contains(allowed, line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        if (key.EndsWith("KeyEncryptionKey", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(value, line, StringComparison.Ordinal);
        }
    }

    /// <summary>The line Program would print for this failure, wherever the test host wrapped it.</summary>
    internal static string? StartupLine(Exception failure)
    {
        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            if (StartupFailure.Describe(e) is { } line)
            {
                return line;
            }

            if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            {
                e = aggregate;
            }
        }

        return null;
    }
}
