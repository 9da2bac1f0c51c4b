using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using ScaiKey.Api.Mfa;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>A TOTP factor enrolled through SecondFactors, as the user's authenticator app holds it.</summary>
internal sealed record EnrolledTotp(string FactorId, byte[] Secret, IReadOnlyList<string> RecoveryCodes)
{
    /// <summary>The code the authenticator shows at <paramref name="now"/>.</summary>
    public string CodeAt(DateTimeOffset now) => TotpCodes.Compute(Secret, now.UtcDateTime);
}

/// <summary>
/// What the MFA tests share: a host whose clock the test moves (TOTP steps, mfa_token expiry), enrolment through the
/// service's own SecondFactors, and a confidential application allowed the password grant.
/// </summary>
internal sealed class MfaHost : IAsyncDisposable
{
    private readonly ScaiKeyApp _app;

    public MfaHost(ScaiKeyApp app, Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configure = null)
    {
        _app = app;
        Host = app.StartHost(b =>
        {
            b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Clock));
            configure?.Invoke(b);
        });
    }

    public TestClock Clock { get; } = new();

    public ScaiKeyHost Host { get; }

    /// <summary>Moves the clock to the next 30-second TOTP step, so a new code exists (each code works once).</summary>
    public void NextStep() => Clock.Advance(TimeSpan.FromSeconds(TotpCodes.StepSeconds));

    public string Code(EnrolledTotp totp) => totp.CodeAt(Clock.GetUtcNow());

    /// <summary>Enrols and confirms a TOTP factor for the user; the confirming code's step is spent, so the clock moves on.</summary>
    public async Task<EnrolledTotp> EnrolAsync(string tenantId, string userId)
    {
        await using var scope = Host.Services.CreateAsyncScope();
        var factors = scope.ServiceProvider.GetRequiredService<SecondFactors>();
        var enrolment = await factors.BeginTotpAsync(tenantId, userId, "Phone", "ScaiKey tests", userId, CancellationToken.None);
        var secret = Base32Encoding.ToBytes(enrolment.Secret);
        var codes = await factors.ConfirmTotpAsync(tenantId, userId, enrolment.FactorId, TotpCodes.Compute(secret, Clock.GetUtcNow().UtcDateTime), CancellationToken.None);
        Assert.NotNull(codes);
        Assert.Equal(10, codes.Count);
        NextStep();
        return new EnrolledTotp(enrolment.FactorId, secret, codes);
    }

    /// <summary>A browser on this host: keeps cookies, does not follow redirects.</summary>
    public HttpClient Browser() =>
        Host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public HttpClient Client() => Host.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public async ValueTask DisposeAsync() => await _app.StopHostAsync(Host);
}

/// <summary>A tenant (with the given settings) and a WEB application allowed the password grant.</summary>
internal sealed record GrantClient(string TenantId, string ClientId, string Secret)
{
    public const string Password = "Quartz-Lantern-93!";
    public const string Scope = "openid email profile offline_access";

    public static async Task<GrantClient> CreateAsync(ScaiKeyApp app, object? settings = null, string? tenantId = null)
    {
        tenantId ??= await app.CreateTenantAsync(settings: settings);
        using var admin = await app.AdminAsync();
        var created = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/applications", new
        {
            name = "Portal " + Guid.NewGuid().ToString("N")[..6],
            type = "WEB",
            redirect_uris = new[] { "https://portal.example.com/callback" },
            grant_types = new[] { "authorization_code", "refresh_token", "password" },
        })).ReadJsonAsync(201))["data"]!;
        return new GrantClient(tenantId, created["client_id"]!.GetValue<string>(), created["client_secret"]!.GetValue<string>());
    }

    public Task<HttpResponseMessage> TokenAsync(HttpClient http, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}")));
        return http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PasswordAsync(HttpClient http, string email, string password = Password) =>
        TokenAsync(http, new() { ["grant_type"] = "password", ["username"] = email, ["password"] = password, ["scope"] = Scope });

    /// <summary>The password grant of a user with a factor: its mfa_token.</summary>
    public async Task<string> MfaTokenAsync(HttpClient http, string email)
    {
        var body = await (await PasswordAsync(http, email)).ReadJsonAsync(400);
        Assert.Equal("mfa_required", body["error"]!.GetValue<string>());
        return body["mfa_token"]!.GetValue<string>();
    }

    public Task<HttpResponseMessage> OtpAsync(HttpClient http, string mfaToken, string? otp = null, string? recoveryCode = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "urn:scaikey:params:oauth:grant-type:mfa-otp", ["mfa_token"] = mfaToken };
        if (otp is not null)
        {
            form["otp"] = otp;
        }

        if (recoveryCode is not null)
        {
            form["recovery_code"] = recoveryCode;
        }

        return TokenAsync(http, form);
    }
}
