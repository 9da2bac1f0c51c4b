using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ScaiKey.Api.Tests;

/// <summary>Passwords, client secrets and tokens never reach the log or a later response.</summary>
public sealed class SecretHygieneTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    private const string Password = "Quartz-Lantern-93!";
    private const string ManualPassword = "Violet-Harbor-2718#";

    [Fact]
    public async Task Nothing_secret_is_logged_even_at_trace_level()
    {
        var capture = new CapturingLoggerProvider();
        var host = app.StartHost(b =>
        {
            b.UseSetting("Logging:LogLevel:Default", "Trace");
            b.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Trace");
            b.UseSetting("Logging:LogLevel:Microsoft.AspNetCore", "Trace");
            b.UseSetting("Logging:LogLevel:OpenIddict", "Trace");
            b.ConfigureLogging(logging => logging.ClearProviders().AddProvider(capture));
        });

        var token = await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var tenant = (await (await client.PostAsJsonAsync("/api/v1/admin/tenants", new { name = "Hygiene " + Guid.NewGuid().ToString("N")[..6] })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        var user = (await (await client.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users", new { email = "hygiene@example.com", password = Password })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();
        await (await client.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "MANUAL", new_password = ManualPassword })).ShouldBeAsync(200);
        var temporary = (await (await client.PostAsJsonAsync($"/api/v1/tenants/{tenant}/users/{user}/password/reset", new { method = "TEMPORARY" })).ReadJsonAsync(200))["data"]!["temporary_password"]!.GetValue<string>();
        var hash = await app.DbAsync(db => Task.FromResult(db.Users.Single(u => u.Id == user).PasswordHash!));

        var logged = capture.Text;
        Assert.NotEmpty(logged); // the capture works at all
        foreach (var secret in new[] { Password, ManualPassword, temporary, ScaiKeyApp.AdminClientSecret, token, token.Split('.')[2], hash })
        {
            Assert.DoesNotContain(secret, logged);
        }

        var read = await (await client.GetAsync($"/api/v1/tenants/{tenant}/users/{user}?include=sessions,mfa_factors")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("argon2", read);
        Assert.DoesNotContain("password_hash", read);
        await app.StopHostAsync(host);
    }

    [Fact]
    public async Task No_second_factor_secret_is_logged_even_at_trace_level()
    {
        var capture = new CapturingLoggerProvider();
        await using var mfa = new MfaHost(app, b =>
        {
            b.UseSetting("Logging:LogLevel:Default", "Trace");
            b.UseSetting("Logging:LogLevel:OpenIddict", "Trace");
            b.ConfigureLogging(logging => logging.ClearProviders().AddProvider(capture));
        });
        var client = await GrantClient.CreateAsync(app);
        var userId = await app.CreateUserIdAsync(client.TenantId, "hygiene-mfa@example.com", GrantClient.Password);
        var totp = await mfa.EnrolAsync(client.TenantId, userId);
        using var http = mfa.Client();

        var viaCode = await client.MfaTokenAsync(http, "hygiene-mfa@example.com");
        var code = mfa.Code(totp);
        await (await client.OtpAsync(http, viaCode, otp: code)).ShouldBeAsync(200);
        var viaRecovery = await client.MfaTokenAsync(http, "hygiene-mfa@example.com");
        await (await client.OtpAsync(http, viaRecovery, recoveryCode: totp.RecoveryCodes[0])).ShouldBeAsync(200);

        var logged = capture.Text;
        Assert.Contains("connect/token", logged, StringComparison.Ordinal); // the capture works at all
        foreach (var secret in new[] { viaCode, viaRecovery, code, totp.RecoveryCodes[0], OtpNet.Base32Encoding.ToString(totp.Secret), GrantClient.Password })
        {
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                lines.Enqueue("scope: " + state);
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category}[{logLevel}]: {formatter(state, exception)} {exception}");
        }
    }
}
